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
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "cannot allocate a %dx%d image", width, height);
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
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot write the PNG (%s)",
                        path, ctx.msg);
    }
    png_set_write_fn(png, &out, png_put, png_flush);
    png_set_IHDR(png, info, (png_uint_32)img->width,
                 (png_uint_32)img->height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++)
        png_write_row(png, img->rgb + (size_t)y * img->width * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return vgg_output_close(&out, err);
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
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: not a PNG file (%s); expected a PNG image "
                        "(convert other formats first, e.g. with "
                        "ImageMagick: convert IN out.png)",
                        path,
                        got < sizeof sig ? "shorter than the 8-byte PNG "
                                           "signature"
                                         : "no PNG signature at the start");
    }
    png_ctx ctx = {{0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx,
                                             on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "%s: cannot allocate the PNG reader", path);
    }
    /* Written after setjmp and needed by the error path: volatile. */
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        free(pixels);
        free(rows);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: damaged or unsupported PNG (libpng: %s)", path,
                        ctx.msg);
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, (int)sizeof sig);
    png_set_user_limits(png, VGG_IMAGE_MAX_SIDE, VGG_IMAGE_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
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
    fclose(f);
    free(rows);
    img->rgb = pixels;
    img->width = (int)w;
    img->height = (int)h;
    return VGG_OK;
}

/* One axis of a separable resize: output o takes the weighted sum of
 * count[o] source samples from first[o], weights in w[o * maxc ...]. */
typedef struct axis_map {
    int n, maxc;
    int *first, *count;
    float *w;
} axis_map;

static void axis_map_free(axis_map *m) {
    free(m->first);
    free(m->count);
    free(m->w);
}

static int axis_map_init(axis_map *m, int src, int dst) {
    m->n = dst;
    m->maxc = src > dst ? (src + dst - 1) / dst + 2 : 2;
    m->first = calloc((size_t)dst, sizeof *m->first);
    m->count = calloc((size_t)dst, sizeof *m->count);
    m->w = calloc((size_t)dst * (size_t)m->maxc, sizeof *m->w);
    if (!m->first || !m->count || !m->w) {
        axis_map_free(m);
        return -1;
    }
    double s = (double)src / dst;
    for (int o = 0; o < dst; o++) {
        float *w = m->w + (size_t)o * m->maxc;
        if (src == dst) {
            m->first[o] = o;
            m->count[o] = 1;
            w[0] = 1.0f;
        } else if (src > dst) { /* area: the source span [o*s, (o+1)*s) */
            double lo = o * s, hi = (o + 1) * s;
            int j0 = (int)floor(lo), c = 0;
            double sum = 0.0;
            m->first[o] = j0;
            for (int j = j0; j < src && j < hi && c < m->maxc; j++) {
                double a = fmax(0.0, fmin(hi, j + 1.0) - fmax(lo, (double)j));
                w[c++] = (float)a;
                sum += a;
            }
            m->count[o] = c;
            for (int k = 0; k < c; k++) w[k] = (float)(w[k] / sum);
        } else { /* bilinear with aligned pixel centres */
            double x = (o + 0.5) * s - 0.5;
            if (x < 0.0) x = 0.0;
            if (x > src - 1) x = src - 1;
            int j = (int)floor(x);
            if (j > src - 2) j = src - 2 < 0 ? 0 : src - 2;
            double f = x - j;
            m->first[o] = j;
            m->count[o] = src > 1 ? 2 : 1;
            w[0] = (float)(1.0 - f);
            if (src > 1) w[1] = (float)f;
        }
    }
    return 0;
}

vgg_status vgg_image_resize(vgg_image *dst, const vgg_image *src, int width,
                            int height, vgg_error *err) {
    vgg_status st = vgg_image_init(dst, width, height, 0, 0, 0, err);
    if (st) return st;
    axis_map mx = {0}, my = {0};
    float *tmp = malloc((size_t)src->height * width * 3 * sizeof *tmp);
    if (!tmp || axis_map_init(&mx, src->width, width) ||
        axis_map_init(&my, src->height, height)) {
        free(tmp);
        axis_map_free(&mx);
        vgg_image_free(dst);
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "cannot allocate the buffers to resize a %dx%d "
                        "image to %dx%d",
                        src->width, src->height, width, height);
    }
    /* tmp: src->height x width x 3, rows resampled horizontally */
    for (int y = 0; y < src->height; y++) {
        const uint8_t *row = src->rgb + (size_t)y * src->width * 3;
        for (int o = 0; o < width; o++) {
            const float *w = mx.w + (size_t)o * mx.maxc;
            for (int c = 0; c < 3; c++) {
                float acc = 0.0f;
                for (int k = 0; k < mx.count[o]; k++)
                    acc += w[k] * row[(mx.first[o] + k) * 3 + c];
                tmp[((size_t)y * width + o) * 3 + c] = acc;
            }
        }
    }
    for (int o = 0; o < height; o++) {
        const float *w = my.w + (size_t)o * my.maxc;
        for (int x = 0; x < width * 3; x++) {
            float acc = 0.0f;
            for (int k = 0; k < my.count[o]; k++)
                acc += w[k] * tmp[(size_t)(my.first[o] + k) * width * 3 + x];
            long v = lrintf(acc);
            dst->rgb[(size_t)o * width * 3 + x] =
                (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(tmp);
    axis_map_free(&mx);
    axis_map_free(&my);
    return VGG_OK;
}

vgg_status vgg_image_to_cifar(uint8_t *px, const vgg_image *img,
                              vgg_error *err) {
    const int S = VGG_CIFAR_SIDE;
    vgg_image small = {0};
    const vgg_image *use = img;
    if (img->width != S || img->height != S) {
        vgg_status st = vgg_image_resize(&small, img, S, S, err);
        if (st) return st;
        use = &small;
    }
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S * S; i++) px[c * S * S + i] = use->rgb[i * 3 + c];
    vgg_image_free(&small);
    return VGG_OK;
}

vgg_status vgg_image_from_cifar(vgg_image *img, const uint8_t *px,
                                vgg_error *err) {
    const int S = VGG_CIFAR_SIDE;
    vgg_status st = vgg_image_init(img, S, S, 0, 0, 0, err);
    if (st) return st;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S * S; i++) img->rgb[i * 3 + c] = px[c * S * S + i];
    return VGG_OK;
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
