/* PNG reading and writing with libpng, and resizing to CIFAR's 32x32.
 * libpng reports errors by longjmp: every call that can fail runs after a
 * setjmp that frees what was allocated and returns a status naming the
 * file. Warnings are swallowed (the library does not print). */
#include "vgg/image.h"
#include "vgg/output.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct png_ctx {
    char msg[256];
} png_ctx;

static void on_png_error(png_structp png, png_const_charp msg) {
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

vgg_status vgg_image_init(vgg_image *img, int width, int height, uint8_t r,
                          uint8_t g, uint8_t b, vgg_error *err) {
    img->width = img->height = 0;
    img->rgb = NULL;
    if (width <= 0 || height <= 0 || width > VGG_IMAGE_MAX_SIDE ||
        height > VGG_IMAGE_MAX_SIDE)
        return vgg_fail(err, VGG_ERR_ARG,
                        "image size %dx%d: expected 1 to %d pixels a side",
                        width, height, VGG_IMAGE_MAX_SIDE);
    size_t n = (size_t)width * (size_t)height;
    img->rgb = malloc(n * 3);
    if (!img->rgb)
        return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate a %dx%d image",
                        width, height);
    for (size_t i = 0; i < n; i++) {
        img->rgb[3 * i] = r;
        img->rgb[3 * i + 1] = g;
        img->rgb[3 * i + 2] = b;
    }
    img->width = width;
    img->height = height;
    return VGG_OK;
}

void vgg_image_free(vgg_image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

/* libpng's own writer says only "Write Error": keep errno's reason. */
static void png_put(png_structp png, png_bytep data, size_t n) {
    vgg_output *out = png_get_io_ptr(png);
    if (vgg_output_write(out, data, n)) png_error(png, strerror(out->error));
}

static void png_flush(png_structp png) { (void)png; }

vgg_status vgg_png_write(const char *path, const vgg_image *img,
                         vgg_error *err) {
    if (!img || !img->rgb || img->width <= 0 || img->height <= 0)
        return vgg_fail(err, VGG_ERR_ARG, "%s: no image to write", path);
    vgg_output out;
    vgg_status st = vgg_output_open(&out, path, "PNG", VGG_OUTPUT_REPLACE, err);
    if (st) return st;
    png_ctx ctx = {{0}};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx,
                                              on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        vgg_output_abort(&out);
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "%s: cannot allocate the PNG writer", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        vgg_output_abort(&out);
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot write the PNG (%s)", path,
                        ctx.msg);
    }
    png_set_write_fn(png, &out, png_put, png_flush);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height,
                 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++)
        png_write_row(png, img->rgb + (size_t)y * img->width * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return vgg_output_close(&out, err);
}

typedef struct png_mem {
    const uint8_t *data;
    size_t n, at;
} png_mem;

static void read_mem(png_structp png, png_bytep out, png_size_t len) {
    png_mem *m = png_get_io_ptr(png);
    if (len > m->n - m->at) png_error(png, "file ends early (truncated)");
    memcpy(out, m->data + m->at, len);
    m->at += len;
}

/* Decodes a PNG whose 8-byte signature has been checked and consumed,
 * from f, or from mem when f is NULL. */
static vgg_status png_decode_core(const char *name, FILE *f, png_mem *mem,
                                  long max_pixels, vgg_image *img,
                                  vgg_error *err) {
    png_ctx ctx = {{0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx,
                                             on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "%s: cannot allocate the PNG reader", name);
    }
    /* Written after setjmp and needed by the error path: volatile. */
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile int too_big = 0;
    volatile png_uint_32 w = 0, h = 0;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        if (too_big)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: PNG of %lux%lu pixels is larger than the "
                            "limit of %ld pixels; refused before decoding",
                            name, (unsigned long)w, (unsigned long)h,
                            max_pixels);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: damaged or unsupported PNG (libpng: %s)", name,
                        ctx.msg);
    }
    if (f)
        png_init_io(png, f);
    else
        png_set_read_fn(png, mem, read_mem);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, VGG_IMAGE_MAX_SIDE, VGG_IMAGE_MAX_SIDE);
    png_read_info(png, info);
    w = png_get_image_width(png, info);
    h = png_get_image_height(png, info);
    if ((double)w * (double)h > (double)max_pixels) {
        too_big = 1;
        png_error(png, "too large");
    }
    int ct = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) {
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
        png_set_scale_16(png);
#else
        png_set_strip_16(png);
#endif
    }
    if (ct & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)w * 3)
        png_error(png, "rows are not 8-bit RGB after conversion");
    pixels = malloc((size_t)h * rowbytes);
    rows = malloc((size_t)h * sizeof *rows);
    if (!pixels || !rows) png_error(png, "out of memory for the pixels");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    img->rgb = pixels;
    img->width = (int)w;
    img->height = (int)h;
    return VGG_OK;
}

static vgg_status not_png(const char *name, int short_file, vgg_error *err) {
    return vgg_fail(err, VGG_ERR_FORMAT,
                    "%s: not a PNG file (%s); expected a PNG image "
                    "(convert other formats first, e.g. with "
                    "ImageMagick: convert IN out.png)",
                    name,
                    short_file ? "shorter than the 8-byte PNG signature"
                               : "no PNG signature at the start");
}

vgg_status vgg_png_read(const char *path, vgg_image *img, vgg_error *err) {
    img->width = img->height = 0;
    img->rgb = NULL;
    FILE *f;
    vgg_status st0 = vgg_input_open(path, &f, err);
    if (st0) return st0;
    unsigned char sig[8];
    size_t got = fread(sig, 1, sizeof sig, f);
    if (got < sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        fclose(f);
        return not_png(path, got < sizeof sig, err);
    }
    vgg_status st =
        png_decode_core(path, f, NULL, VGG_IMAGE_MAX_PIXELS, img, err);
    fclose(f);
    return st;
}

vgg_status vgg_png_decode(const uint8_t *data, size_t n, const char *name,
                          long max_pixels, vgg_image *img, vgg_error *err) {
    img->width = img->height = 0;
    img->rgb = NULL;
    if (n < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0)
        return not_png(name, n < 8, err);
    png_mem mem = {data, n, 8};
    return png_decode_core(name, NULL, &mem,
                           max_pixels > 0 ? max_pixels : VGG_IMAGE_MAX_PIXELS,
                           img, err);
}

vgg_status vgg_png_read_cifar(const char *path, uint8_t *px, int *width,
                              int *height, vgg_error *err) {
    vgg_image img = {0};
    vgg_status st = vgg_png_read(path, &img, err);
    if (st) return st;
    if (width) *width = img.width;
    if (height) *height = img.height;
    st = vgg_image_to_cifar(px, &img, err);
    vgg_image_free(&img);
    if (st && err) {
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        return vgg_fail(err, st, "%s: %s", path, why);
    }
    return st;
}
