#include "vgg/gemm.h"
#include "vgg/profile.h"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS exports these; Debian's cblas.h declares them. */
extern void openblas_set_num_threads(int);

static vgg_gemm_impl current = VGG_GEMM_OPENBLAS;
static int nthreads = 1;

void vgg_gemm_openblas(int transa, int transb, int M, int N, int K,
                       float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans,
                transb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
                ldb, beta, C, ldc);
}

vgg_gemm_impl vgg_gemm_select(vgg_gemm_impl impl) {
    (void)impl;
    current = VGG_GEMM_OPENBLAS;
    return current;
}

const char *vgg_gemm_name(void) {
    return current == VGG_GEMM_AVX512 ? "avx512" : "openblas";
}

void vgg_gemm(int transa, int transb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc) {
    double t = vgg_now();
    vgg_gemm_openblas(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C,
                      ldc);
    vgg_prof.seconds[VGG_PROF_GEMM] += vgg_now() - t;
    vgg_prof.gemm_flops += 2.0 * M * N * K;
}

void vgg_set_threads(int n) {
    if (n < 1) n = 1;
    nthreads = n;
    openblas_set_num_threads(n);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

int vgg_get_threads(void) { return nthreads; }
