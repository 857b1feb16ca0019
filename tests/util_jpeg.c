#include "util_jpeg.h"

#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>

typedef struct tj_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
} tj_err;

static void tj_on_error(j_common_ptr cinfo) {
    longjmp(((tj_err *)cinfo->err)->jump, 1);
}

int tj_write_jpeg(const char *path, int w, int h, int comps,
                  const uint8_t *data, int quality, int progressive) {
    FILE *volatile f = fopen(path, "wb");
    if (!f) return -1;
    struct jpeg_compress_struct c;
    tj_err e;
    c.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = tj_on_error;
    if (setjmp(e.jump)) {
        jpeg_destroy_compress(&c);
        fclose(f);
        return -1;
    }
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1   ? JCS_GRAYSCALE
                       : comps == 3 ? JCS_RGB
                                    : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    for (int i = 0; i < c.num_components; i++)
        c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(data + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return fclose(f) ? -1 : 0;
}
