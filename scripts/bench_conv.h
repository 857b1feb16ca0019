/* Shared by the GEMM benchmarks (gemm_bench.c, gemm_ab.c, kernel_bench.c):
 * VGG16's convolution layers, a fixed fill, medians, a layer's operands,
 * and one convolution pass run as the trainer runs it (src/nn/conv.c) through a
 * given implicit-im2col GEMM. Header-only: each benchmark is one translation
 * unit. */
#ifndef VGG_SCRIPTS_BENCH_CONV_H
#define VGG_SCRIPTS_BENCH_CONV_H

#include <stdlib.h>

#include "vgg/gemm.h"

typedef struct layer {
    int cin, cout, hw;
} layer;

static const layer vgg16[] = {
    {3, 64, 32},   {64, 64, 32},  {64, 128, 16}, {128, 128, 16}, {128, 256, 8},
    {256, 256, 8}, {256, 256, 8}, {256, 512, 4}, {512, 512, 4},  {512, 512, 4},
    {512, 512, 2}, {512, 512, 2}, {512, 512, 2},
};
#define NLAYERS (int)(sizeof vgg16 / sizeof vgg16[0])

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts t[0..n) and returns its median, or its smallest with fastest. */
static inline double median_of(double *t, int n, int fastest) {
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    if (fastest) return t[0];
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static inline void fill(float *x, size_t n, unsigned seed) {
    unsigned s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) & 0xFFFF) / 65536.0f - 0.5f;
    }
}

/* One layer's operands for conv_pass at a batch: x, dout and the weights
 * filled (seeds seed, seed + 1, seed + 2), and C zeroed, large enough for
 * any of the three passes. Returns 0, or -1 when out of memory (nothing
 * kept). */
typedef struct conv_data {
    float *x, *d, *w, *C;
} conv_data;

static inline void conv_data_free(conv_data *cd) {
    free(cd->x);
    free(cd->d);
    free(cd->w);
    free(cd->C);
    cd->x = cd->d = cd->w = cd->C = NULL;
}

static inline int conv_data_make(conv_data *cd, const layer *ly, int batch,
                                 unsigned seed) {
    const long npix = (long)batch * ly->hw * ly->hw;
    const long cmax = ly->cin > ly->cout ? ly->cin : ly->cout;
    const size_t nx = (size_t)ly->cin * npix, nd = (size_t)ly->cout * npix;
    const size_t nw = (size_t)ly->cin * 9 * ly->cout;
    const size_t nc = (size_t)cmax * (npix > 9 * cmax ? npix : 9 * cmax);
    cd->x = malloc(sizeof(float) * nx);
    cd->d = malloc(sizeof(float) * nd);
    cd->w = malloc(sizeof(float) * nw);
    cd->C = calloc(nc, sizeof(float));
    if (!cd->x || !cd->d || !cd->w || !cd->C) {
        conv_data_free(cd);
        return -1;
    }
    fill(cd->x, nx, seed);
    fill(cd->d, nd, seed + 1);
    fill(cd->w, nw, seed + 2);
    return 0;
}

/* vgg_driver_gemm_im2col's, for one kernel. */
typedef int (*im2col_fn)(int transb, int M, float alpha, const float *A,
                         int lda, const vgg_im2col_src *src, float beta,
                         float *C, int ldc, int nthreads);

/* Pass 0: the forward (out = w x col(x)); 1: the weight gradient
 * (dw = dout x col(x)^T); 2: the input gradient as a convolution of dout
 * with the turned weights, as the trainer does it. Returns f's status. */
static inline int conv_pass(im2col_fn f, const layer *ly, int batch, int pass,
                            const float *x, const float *d, const float *w,
                            float *C, int threads) {
    const int hw = ly->hw;
    const long npix = (long)batch * hw * hw;
    if (pass == 0) {
        const vgg_im2col_src s = {x, ly->cin, batch, hw, hw};
        return f(0, ly->cout, 1.0f, w, ly->cin * 9, &s, 1.0f, C, (int)npix,
                 threads);
    }
    if (pass == 1) {
        const vgg_im2col_src s = {x, ly->cin, batch, hw, hw};
        return f(1, ly->cout, 1.0f, d, (int)npix, &s, 1.0f, C, ly->cin * 9,
                 threads);
    }
    const vgg_im2col_src s = {d, ly->cout, batch, hw, hw};
    return f(0, ly->cin, 1.0f, w, ly->cout * 9, &s, 0.0f, C, (int)npix,
             threads);
}

#endif
