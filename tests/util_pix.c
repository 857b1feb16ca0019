#include "util_pix.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int channels(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
        return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB:
        return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA:
        return 4;
    case PNG_COLOR_TYPE_PALETTE:
        return 1;
    }
    return 0;
}

int tp_write_png_raw(const char *path, int w, int h, int color_type,
                     int bit_depth, const uint8_t *const *rows,
                     const uint8_t *palette, int npalette, int interlace) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bit_depth,
                 color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < npalette; i++) {
            pal[i].red = palette[3 * i];
            pal[i].green = palette[3 * i + 1];
            pal[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, pal, npalette);
    }
    png_write_info(png, info);
    png_write_image(png, (png_bytepp)rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f);
}

int tp_write_png(const char *path, int w, int h, int color_type, int bit_depth,
                 const uint8_t *data, const uint8_t *palette, int npalette,
                 int interlace) {
    size_t stride = ((size_t)w * channels(color_type) * bit_depth + 7) / 8;
    const uint8_t **rows = malloc((size_t)h * sizeof *rows);
    if (!rows) return -1;
    for (int y = 0; y < h; y++) rows[y] = data + (size_t)y * stride;
    int r = tp_write_png_raw(path, w, h, color_type, bit_depth, rows, palette,
                             npalette, interlace);
    free(rows);
    return r;
}

uint8_t *tp_read_png_rgb(const char *path, int *w, int *h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) return NULL;
    img.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        free(buf);
        png_image_free(&img);
        return NULL;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    return buf;
}

long tp_count_not(const uint8_t *rgb, int w, int h, int r, int g, int b) {
    long n = 0;
    for (long i = 0; i < (long)w * h; i++)
        n += rgb[3 * i] != r || rgb[3 * i + 1] != g || rgb[3 * i + 2] != b;
    return n;
}

long tp_count_eq(const uint8_t *rgb, int w, int h, int r, int g, int b) {
    return (long)w * h - tp_count_not(rgb, w, h, r, g, b);
}

int tp_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t put = fwrite(data, 1, n, f);
    int r = fclose(f);
    return put == n && r == 0 ? 0 : -1;
}
