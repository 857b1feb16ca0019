/* The AVX-512 GEMM (private to src/kernels). Same contract as
 * vgg_gemm_openblas: row-major, C[M][N] = alpha*op(A)*op(B) + beta*C.
 * Callers must check vgg_gemm_avx512_supported() first: the code is
 * compiled for AVX-512F whatever the rest of the build targets. */
#ifndef VGG_KERNELS_GEMM_AVX512_H
#define VGG_KERNELS_GEMM_AVX512_H

#include "vgg/gemm.h"

/* 1 when the CPU (and OS) can run the AVX-512F code. */
int vgg_gemm_avx512_supported(void);

/* Runs on nthreads OpenMP threads (1: the calling thread alone). Each C
 * element is summed in the same order whatever nthreads is, so results
 * are bitwise reproducible across runs and thread counts. Not reentrant:
 * the packing buffers are shared by all calls. Returns 0, or -1 when the
 * packing buffers cannot be allocated (C is then untouched). */
int vgg_gemm_avx512(int transa, int transb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc, int nthreads);

/* The same with op(B) the implicit im2col matrix of src (see
 * vgg_gemm_im2col in vgg/gemm.h), packed straight from src->x. */
int vgg_gemm_avx512_im2col(int transb, int M, float alpha, const float *A,
                           int lda, const vgg_im2col_src *src, float beta,
                           float *C, int ldc, int nthreads);

/* Cache blocking, for tuning and tests (0 keeps a value, all 0 restores
 * the defaults; sets both loop orders' blocking): KC (depth of a packed
 * panel), MC (rows of a packed A block), NC (columns of a packed B block).
 * MC is rounded to the micro-kernel's rows and NC to its columns. */
void vgg_gemm_avx512_set_blocking(int kc, int mc, int nc);
/* Order 0's blocking, and the micro-kernel's rows and columns. */
void vgg_gemm_avx512_get_blocking(int *kc, int *mc, int *nc, int *mr,
                                  int *nr);
/* 0: column slabs fixed per thread; 1 (the default): B panels handed out
 * to threads as they come for them (see gemm_panels). For measuring. */
void vgg_gemm_avx512_set_dynamic(int on);
/* The weight gradient's depth split: 1 always (where the loop order
 * allows), 0 never, -1 by the shape (the default). */
void vgg_gemm_avx512_set_split_k(int mode);
/* Forces loop order 0 or 1 (see gemm_avx512.c); -1: chosen per shape. */
void vgg_gemm_avx512_set_order(int order);

#endif
