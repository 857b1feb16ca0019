/* Resizing (the filter is described in include/vgg/image.h: area averaging
 * on an axis that shrinks, bilinear with aligned pixel centres on one that
 * grows, separable, rounded to nearest) and the conversion between
 * interleaved images and the planar records of a vgg_dataset. */
#include "vgg/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
            dst->rgb[(size_t)o * width * 3 + x] = (uint8_t)(v < 0     ? 0
                                                            : v > 255 ? 255
                                                                      : v);
        }
    }
    free(tmp);
    axis_map_free(&mx);
    axis_map_free(&my);
    return VGG_OK;
}

vgg_status vgg_image_to_cifar(uint8_t *px, const vgg_image *img,
                              vgg_error *err) {
    return vgg_image_to_planar(px, img, VGG_CIFAR_SIDE, err);
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

vgg_status vgg_image_to_planar(uint8_t *px, const vgg_image *img, int side,
                               vgg_error *err) {
    if (side < 1 || side > VGG_IMAGE_MAX_SIDE)
        return vgg_fail(err, VGG_ERR_ARG, "image side %d: expected 1 to %d",
                        side, VGG_IMAGE_MAX_SIDE);
    vgg_image small = {0};
    const vgg_image *use = img;
    if (img->width != side || img->height != side) {
        vgg_status st = vgg_image_resize(&small, img, side, side, err);
        if (st) return st;
        use = &small;
    }
    const size_t plane = (size_t)side * side;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            px[c * plane + i] = use->rgb[i * 3 + c];
    vgg_image_free(&small);
    return VGG_OK;
}
