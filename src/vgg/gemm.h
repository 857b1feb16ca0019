/* Single-precision GEMM, row-major, as cblas_sgemm:
 *   C[M][N] = alpha * op(A)[M][K] * op(B)[K][N] + beta * C
 * vgg_gemm dispatches to the fastest implementation this CPU supports
 * (chosen once, at first use, by CPU feature detection); the OpenBLAS path
 * is the portable one and the reference the tests compare against.
 * Several threads may call these at once: our kernels' packing buffers
 * are the library's, so the calls take turns on them (each gets the bits
 * a lone call gives); only the profile counters (vgg_prof) are then
 * approximate. */
#ifndef VGG_GEMM_H
#define VGG_GEMM_H

typedef enum vgg_gemm_impl {
    VGG_GEMM_AUTO = 0,
    VGG_GEMM_OPENBLAS,
    VGG_GEMM_AVX512,
} vgg_gemm_impl;

void vgg_gemm(int transa, int transb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc);

/* The OpenBLAS path, always available. */
void vgg_gemm_openblas(int transa, int transb, int M, int N, int K,
                       float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc);

/* How far C, a float32 result of the call with these arguments (C0: C
 * before it, NULL when beta is 0), is from OpenBLAS's: the largest, over
 * C's elements, of |C - OpenBLAS| / (2^-24 * (|alpha| |op(A)| |op(B)| +
 * |beta C0|)) at that element, the error bound of a float32 dot product
 * without its depth factor. Two correct GEMMs that sum in different orders
 * give tens at most; an element off by 1e-3 of itself, about 1e3; a
 * missing term, 1e4 and more. NaN counts as infinite. VGG_GEMM=check prints it
 * for every call (src/kernels/gemm.c). */
double vgg_gemm_check(int transa, int transb, int M, int N, int K,
                      float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, const float *C0, const float *C,
                      int ldc);

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
 * Our AVX-512 kernels pack col's panels straight from src->x and never form
 * it; the OpenBLAS path forms it in `col` (C*9*N*H*W floats), which may be
 * NULL when vgg_gemm_im2col_implicit() says it is not needed. */
void vgg_gemm_im2col(int transb, int M, float alpha, const float *A, int lda,
                     const vgg_im2col_src *src, float *col, float beta,
                     float *C, int ldc);
/* 1 when vgg_gemm_im2col forms no im2col matrix (our AVX-512 kernels are in
 * use). */
int vgg_gemm_im2col_implicit(void);

/* Forces an implementation (VGG_GEMM_AUTO: the best available). Returns the
 * one in use, which is OpenBLAS when the requested one is unavailable. */
vgg_gemm_impl vgg_gemm_select(vgg_gemm_impl impl);
const char *vgg_gemm_name(void);

/* GFLOP/s of a loop of independent FMAs on the widest vectors the CPU
 * has (AVX-512, else AVX2), on nthreads threads for about `seconds`: the
 * machine's arithmetic peak as it is now, which benchmarks divide by.
 * 0 when the CPU has neither. vgg_fma_peak_width() is the vector width
 * in floats it uses (16, 8 or 0). */
double vgg_fma_peak(int nthreads, double seconds);
int vgg_fma_peak_width(void);

/* OpenBLAS's kernel family for this CPU (its openblas_get_corename()):
 * OpenBLAS 0.3.21 names CPUs it does not know "Prescott" and runs SSE3
 * kernels on them, which the benchmarks should say. */
const char *vgg_openblas_corename(void);

/* Threads for GEMM and for the library's own parallel loops. */
void vgg_set_threads(int n);
int vgg_get_threads(void);

#endif
