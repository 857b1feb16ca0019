/* GEMM dispatch: our AVX-512 kernels where the CPU has them, OpenBLAS
 * otherwise. The choice is made once, at first use (or by
 * vgg_gemm_select); the environment variable VGG_GEMM=openblas|avx512
 * overrides the automatic choice (an unavailable request falls back to
 * OpenBLAS). */
#include "vgg/gemm.h"
#include "vgg/nn.h"
#include "vgg/profile.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "gemm_avx512.h"

/* OpenBLAS exports these; Debian's cblas.h declares them. */
extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);

const char *vgg_openblas_corename(void) {
    const char *s = openblas_get_corename();
    return s ? s : "unknown";
}

static vgg_gemm_impl current = VGG_GEMM_AUTO; /* AUTO: not chosen yet */
static int nthreads = 1;

void vgg_gemm_openblas(int transa, int transb, int M, int N, int K,
                       float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans,
                transb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
                ldb, beta, C, ldc);
}

vgg_gemm_impl vgg_gemm_select(vgg_gemm_impl impl) {
    if (impl == VGG_GEMM_AUTO) {
        const char *env = getenv("VGG_GEMM");
        if (env && strcmp(env, "openblas") == 0)
            impl = VGG_GEMM_OPENBLAS;
        else if (env && strcmp(env, "avx512") == 0)
            impl = VGG_GEMM_AVX512;
        else
            impl = VGG_GEMM_AVX512; /* the best there is, if the CPU has it */
    }
    if (impl == VGG_GEMM_AVX512 && !vgg_gemm_avx512_supported())
        impl = VGG_GEMM_OPENBLAS;
    if (impl != VGG_GEMM_AVX512) impl = VGG_GEMM_OPENBLAS;
    current = impl;
    return current;
}

static vgg_gemm_impl current_impl(void) {
    if (current == VGG_GEMM_AUTO) vgg_gemm_select(VGG_GEMM_AUTO);
    return current;
}

const char *vgg_gemm_name(void) {
    return current_impl() == VGG_GEMM_AVX512 ? "avx512" : "openblas";
}

void vgg_gemm(int transa, int transb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc) {
    double t = vgg_now();
    int done = 0;
    /* Our kernels' packing buffers are one set under a lock: callers from
     * inside a parallel region would queue on it, so they use OpenBLAS. */
    int nested = 0;
#ifdef _OPENMP
    nested = omp_in_parallel();
#endif
    if (current_impl() == VGG_GEMM_AVX512 && !nested)
        done = vgg_gemm_avx512(transa, transb, M, N, K, alpha, A, lda, B, ldb,
                               beta, C, ldc, nthreads) == 0;
    if (!done)
        vgg_gemm_openblas(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta,
                          C, ldc);
    vgg_prof.seconds[VGG_PROF_GEMM] += vgg_now() - t;
    vgg_prof.gemm_flops += 2.0 * M * N * K;
}

int vgg_gemm_im2col_implicit(void) {
    return current_impl() == VGG_GEMM_AVX512;
}

void vgg_gemm_im2col(int transb, int M, float alpha, const float *A, int lda,
                     const vgg_im2col_src *src, float *col, float beta,
                     float *C, int ldc) {
    const int rows = src->C * 9;
    const long npix = (long)src->N * src->H * src->W;
    int nested = 0;
#ifdef _OPENMP
    nested = omp_in_parallel();
#endif
    if (current_impl() == VGG_GEMM_AVX512 && !nested) {
        double t = vgg_now();
        int rc = vgg_gemm_avx512_im2col(transb, M, alpha, A, lda, src, beta, C,
                                        ldc, nthreads);
        vgg_prof.seconds[VGG_PROF_GEMM] += vgg_now() - t;
        if (rc == 0) {
            vgg_prof.gemm_flops += 2.0 * M * rows * (double)npix;
            return;
        }
    }
    /* The explicit path: form col, then an ordinary GEMM; in a buffer of
     * the library's when the caller gave none, held under own_lock. */
    static float *own;
    static size_t own_n;
    static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
    const int mine = !col;
    if (mine) {
        pthread_mutex_lock(&own_lock);
        size_t need = (size_t)rows * (size_t)npix;
        if (own_n < need) {
            free(own);
            own = malloc(sizeof(float) * need);
            own_n = own ? need : 0;
        }
        if (!own) {
            fprintf(stderr, "vgg_gemm_im2col: cannot allocate %.1f MB\n",
                    (double)need * sizeof(float) / 1e6);
            abort();
        }
        col = own;
    }
    vgg_im2col(col, src->x, src->C, src->N, src->H, src->W);
    if (transb)
        vgg_gemm(0, 1, M, rows, (int)npix, alpha, A, lda, col, (int)npix, beta,
                 C, ldc);
    else
        vgg_gemm(0, 0, M, (int)npix, rows, alpha, A, lda, col, (int)npix, beta,
                 C, ldc);
    if (mine) pthread_mutex_unlock(&own_lock);
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
