/* The GEMM driver (private to the library): BLIS's loops around any
 * vgg_kernel (kernel.h), with the thread split, the depth blocks and
 * their chunks, and the packing buffers. Same contract as
 * vgg_gemm_openblas: row-major, C[M][N] = alpha*op(A)*op(B) + beta*C.
 * Callers must pass a kernel whose supported() said 1. */
#ifndef VGG_KERNELS_GEMM_DRIVER_H
#define VGG_KERNELS_GEMM_DRIVER_H

#include "kernel.h"
#include "vgg/gemm.h"

/* Runs on nthreads OpenMP threads (1: the calling thread alone). Each C
 * element is summed in the same order whatever nthreads is, so results
 * are bitwise reproducible across runs and thread counts. The packing
 * buffers are the library's, one set: concurrent calls take turns on
 * them. Returns 0, or -1 when the packing buffers cannot be allocated
 * (C is then untouched). */
int vgg_driver_gemm(const vgg_kernel *k, int transa, int transb, int M, int N,
                    int K, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc, int nthreads);

/* The same with op(B) the implicit im2col matrix of src (see
 * vgg_gemm_im2col in vgg/gemm.h), packed straight from src->x. -1 also
 * when N*H*W does not fit an int. */
int vgg_driver_gemm_im2col(const vgg_kernel *k, int transb, int M, float alpha,
                           const float *A, int lda, const vgg_im2col_src *src,
                           float beta, float *C, int ldc, int nthreads);

/* Frees the packing buffers (the next call allocates them again). */
void vgg_driver_free_buffers(void);

/* For tuning and tests. Cache blocking (0 keeps a value, all 0 restores
 * each kernel's own; sets both loop orders' blocking): KC, MC, NC, with
 * MC rounded up to the kernel's MR and NC to its NR at use. */
void vgg_driver_set_blocking(int kc, int mc, int nc);
/* Order 0's blocking for kernel k as it is now, and its MR and NR. */
void vgg_driver_get_blocking(const vgg_kernel *k, int *kc, int *mc, int *nc,
                             int *mr, int *nr);
/* 0: column slabs fixed per thread; 1 (the default): B panels handed out
 * to threads as they come for them (see gemm_panels). */
void vgg_driver_set_dynamic(int on);
/* The weight gradient's depth split: 1 always (where the loop order
 * allows), 0 never, -1 by the shape (the default). */
void vgg_driver_set_split_k(int mode);
/* Forces loop order 0 or 1 (see gemm_driver.c); -1: chosen per shape. */
void vgg_driver_set_order(int order);

#endif
