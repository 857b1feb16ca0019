/* Batch norm's inner loops over one channel's row of M values, written
 * once in plain C (`omp simd` loops) and compiled several times: for the
 * build's baseline in batchnorm.c, and for each instruction set in its
 * kernel folder (src/kernels/x86_avx2/batchnorm.c, ...), which the layer
 * takes through the kernel seam (vgg_kernel's bn, kernel.h). So a
 * portable binary runs them on the widest vectors the CPU has, with the
 * same sums a build for that CPU (-march=native) gets: the float chunk
 * sums' order is the vector width's. Include it in one file per target;
 * it defines static functions and the table BN_ROWS_NAME. */
#include "kernels/kernel.h"

/* Sums run in float over chunks of CHUNK (vectorised) and are carried
 * across chunks in double. */
#define BN_CHUNK 2048

/* s = sum (x - k), ss = sum (x - k)^2 over x[0..M). */
static void bn_sums_row(const float *x, float k, int M, double *s_out,
                        double *ss_out) {
    double s = 0.0, ss = 0.0;
    for (int j0 = 0; j0 < M; j0 += BN_CHUNK) {
        int j1 = j0 + BN_CHUNK < M ? j0 + BN_CHUNK : M;
        float fs = 0.0f, fss = 0.0f;
#pragma omp simd reduction(+ : fs, fss)
        for (int j = j0; j < j1; j++) {
            float d = x[j] - k;
            fs += d;
            fss += d * d;
        }
        s += fs;
        ss += fss;
    }
    *s_out = s;
    *ss_out = ss;
}

/* o = relu(x*a + b) (or without the relu). */
static void bn_affine_row(float *o, const float *x, float a, float b, int relu,
                          int M) {
    if (relu) {
#pragma omp simd
        for (int j = 0; j < M; j++) {
            float z = x[j] * a + b;
            o[j] = z > 0.0f ? z : 0.0f;
        }
    } else {
#pragma omp simd
        for (int j = 0; j < M; j++) o[j] = x[j] * a + b;
    }
}

/* sg = sum dz, sgx = sum dz (x - mu), dz = g masked by the ReLU of
 * x*a + b (the forward's float expression). */
static void bn_grad_sums_row(const float *g, const float *x, float a, float b,
                             float mu, int relu, int M, double *sg_out,
                             double *sgx_out) {
    double sg = 0.0, sgx = 0.0;
    for (int j0 = 0; j0 < M; j0 += BN_CHUNK) {
        int j1 = j0 + BN_CHUNK < M ? j0 + BN_CHUNK : M;
        float fg = 0.0f, fgx = 0.0f;
        /* two loops, not a test of relu inside one: GCC keeps a loop
         * with `relu && ...` scalar */
        if (relu) {
#pragma omp simd reduction(+ : fg, fgx)
            for (int j = j0; j < j1; j++) {
                float dz = x[j] * a + b > 0.0f ? g[j] : 0.0f;
                fg += dz;
                fgx += dz * (x[j] - mu);
            }
        } else {
#pragma omp simd reduction(+ : fg, fgx)
            for (int j = j0; j < j1; j++) {
                fg += g[j];
                fgx += g[j] * (x[j] - mu);
            }
        }
        sg += fg;
        sgx += fgx;
    }
    *sg_out = sg;
    *sgx_out = sgx;
}

/* d = k (dz - mg - (x - mu) mgx), dz as above; returns sum d. d may be g
 * (in place): each j reads g[j] before writing d[j]. */
static double bn_grad_apply_row(float *d, const float *g, const float *x,
                                float a, float b, float mu, float k, float mg,
                                float mgx, int relu, int M) {
    double sd = 0.0;
    for (int j0 = 0; j0 < M; j0 += BN_CHUNK) {
        int j1 = j0 + BN_CHUNK < M ? j0 + BN_CHUNK : M;
        float fd = 0.0f;
        if (relu) {
#pragma omp simd reduction(+ : fd)
            for (int j = j0; j < j1; j++) {
                float dz = x[j] * a + b > 0.0f ? g[j] : 0.0f;
                float v = k * (dz - mg - (x[j] - mu) * mgx);
                d[j] = v;
                fd += v;
            }
        } else {
#pragma omp simd reduction(+ : fd)
            for (int j = j0; j < j1; j++) {
                float v = k * (g[j] - mg - (x[j] - mu) * mgx);
                d[j] = v;
                fd += v;
            }
        }
        sd += fd;
    }
    return sd;
}

const vgg_bn_rows BN_ROWS_NAME = {bn_sums_row, bn_affine_row, bn_grad_sums_row,
                                  bn_grad_apply_row};
