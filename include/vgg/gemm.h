/* Single-precision GEMM, row-major, as cblas_sgemm:
 *   C[M][N] = alpha * op(A)[M][K] * op(B)[K][N] + beta * C
 * vgg_gemm dispatches to the fastest implementation this CPU supports
 * (chosen once, at first use, by CPU feature detection); the OpenBLAS path
 * is the portable one and the reference the tests compare against. */
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

/* Forces an implementation (VGG_GEMM_AUTO: the best available). Returns the
 * one in use, which is OpenBLAS when the requested one is unavailable. */
vgg_gemm_impl vgg_gemm_select(vgg_gemm_impl impl);
const char *vgg_gemm_name(void);

/* Threads for GEMM and for the library's own parallel loops. */
void vgg_set_threads(int n);
int vgg_get_threads(void);

#endif
