/* Single-precision GEMM, row-major, as cblas_sgemm:
 *   C[M][N] = alpha * op(A)[M][K] * op(B)[K][N] + beta * C
 * vgg_gemm dispatches to the fastest kernel this CPU supports (chosen
 * once, at first use, by CPU feature detection: docs/kernels.md); the
 * OpenBLAS path is the fallback and the reference the tests compare
 * against.
 * Several threads may call these at once: our kernels' packing buffers
 * are the library's, so the calls take turns on them (each gets the bits
 * a lone call gives); only the profile counters (vgg_prof) are then
 * approximate. */
#ifndef VGG_GEMM_H
#define VGG_GEMM_H

#include <stddef.h>

#include "vgg/status.h"

/* VGG_OK, or VGG_ERR_NOMEM when neither our kernel's packing buffers nor
 * OpenBLAS could be had (C is then untouched). When our kernel cannot
 * allocate its buffers, OpenBLAS computes the product. */
vgg_status vgg_gemm(int transa, int transb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc);

/* The OpenBLAS path, always available. */
void vgg_gemm_openblas(int transa, int transb, int M, int N, int K, float alpha,
                       const float *A, int lda, const float *B, int ldb,
                       float beta, float *C, int ldc);

/* How far C, a float32 result of the call with these arguments (C0: C
 * before it, NULL when beta is 0), is from OpenBLAS's: the largest, over
 * C's elements, of |C - OpenBLAS| / (2^-24 * (|alpha| |op(A)| |op(B)| +
 * |beta C0|)) at that element, the error bound of a float32 dot product
 * without its depth factor. Two correct GEMMs that sum in different orders
 * give tens at most; an element off by 1e-3 of itself, about 1e3; a
 * missing term, 1e4 and more. NaN counts as infinite. VGG_GEMM=check prints it
 * for every call (src/kernels/gemm.c). */
double vgg_gemm_check(int transa, int transb, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb,
                      float beta, const float *C0, const float *C, int ldc);

/* VGG_GEMM=check hands each call's result to fn (M, N, K, transa, transb
 * and the ratio above; NaN when the check could not allocate its copies).
 * The library prints nothing itself: the programs install a printer
 * (src/cli/common/gemm_report.c). NULL, the default, drops the results. */
typedef void (*vgg_gemm_check_fn)(int M, int N, int K, int transa, int transb,
                                  double ratio, void *ctx);
void vgg_gemm_set_check_report(vgg_gemm_check_fn fn, void *ctx);

/* The im2col matrix of a 3x3, pad-1, stride-1 convolution's input
 * x[C][N][H][W] (CNHW): col[c*9 + 3*ky + kx][(n*H + y)*W + x] =
 * x[c][n][y+ky-1][x+kx-1], or 0 where that falls outside the image. */
typedef struct vgg_im2col_src {
    const float *x;
    int C, N, H, W;
} vgg_im2col_src;

/* GEMM with the im2col matrix of src as the right operand:
 *   transb 0: C[M][N*H*W] = alpha * A[M][C*9] x col + beta * C
 *   transb 1: C[M][C*9]   = alpha * A[M][N*H*W] x col^T + beta * C
 * Our kernels pack col's panels straight from src->x and never form it;
 * the OpenBLAS path forms it in `col`, col_n floats, when that holds it
 * (C*9*N*H*W), else in a buffer of the library's (col may be NULL).
 * VGG_OK, or VGG_ERR_NOMEM when the packing buffers or that buffer cannot
 * be allocated (C is then untouched), or VGG_ERR_ARG when N*H*W does not
 * fit an int. */
vgg_status vgg_gemm_im2col(int transb, int M, float alpha, const float *A,
                           int lda, const vgg_im2col_src *src, float *col,
                           size_t col_n, float beta, float *C, int ldc);
/* 1 when vgg_gemm_im2col forms no im2col matrix (one of our kernels is in
 * use). */
int vgg_gemm_im2col_implicit(void);

/* Selects the GEMM by name: a kernel ("generic", "avx2", "avx512",
 * "neon": those this build has, vgg_gemm_names()), "openblas", or "auto"
 * (or NULL: the best kernel this CPU supports). VGG_OK, or VGG_ERR_ARG
 * with a message naming the value when it is unknown or this CPU cannot
 * run it (the selection is then unchanged). */
vgg_status vgg_gemm_select(const char *name, vgg_error *err);
/* 1: name is selectable here; 0: known, but this CPU cannot run it;
 * -1: unknown. */
int vgg_gemm_supported(const char *name);
/* Every name vgg_gemm_select knows in this build, space-separated. */
const char *vgg_gemm_names(void);
/* The GEMM in use: a kernel's name or "openblas". */
const char *vgg_gemm_name(void);

/* GFLOP/s of a loop of independent FMAs on the vectors of the kernel in
 * use (for OpenBLAS: of the best kernel this CPU has), on nthreads
 * threads for about `seconds`: the arithmetic peak as it is now, which
 * benchmarks divide by. 0 when that kernel has no FMA loop (generic).
 * vgg_fma_peak_width() is its vector width in floats (16, 8, 4 or 0),
 * vgg_fma_flops_per_cycle() its nominal FLOP per cycle and core (FMA
 * pipes x lanes x 2; 0 without a loop). vgg_clock_ghz() measures one
 * core's clock for about `seconds` (a chain of dependent integer adds,
 * one a cycle); vgg_fma_flop_per_cycle() the FMA loop's FLOP per cycle
 * on one core, the loop and the add chain alternated in short turns for
 * about `seconds` in all, which must come out at the nominal figure
 * (docs/kernels.md). */
double vgg_fma_peak(int nthreads, double seconds);
int vgg_fma_peak_width(void);
int vgg_fma_flops_per_cycle(void);
double vgg_clock_ghz(double seconds);
double vgg_fma_flop_per_cycle(double seconds);

/* OpenBLAS's kernel family for this CPU (its openblas_get_corename()):
 * OpenBLAS 0.3.21 names CPUs it does not know "Prescott" and runs SSE3
 * kernels on them, which the benchmarks should say. */
const char *vgg_openblas_corename(void);

/* Frees the buffers the GEMM keeps between calls (packing buffers, the
 * explicit im2col's own matrix); the next call allocates them again. */
void vgg_gemm_free_buffers(void);

/* Threads for GEMM and for the library's own parallel loops. */
void vgg_set_threads(int n);
int vgg_get_threads(void);

#endif
