/* GEMM dispatch: the best kernel of the table (kernel_table.c) this CPU
 * supports, through the driver (gemm_driver.c), or OpenBLAS. The choice is
 * made once, at first use (or by vgg_gemm_select); the environment
 * variable VGG_GEMM=NAME (a kernel's name, openblas or auto) overrides the
 * automatic choice (an unknown or unsupported name falls back to it).
 *
 * VGG_GEMM=check (a diagnostic, several times slower): the automatic
 * choice, and every call's result also recomputed by OpenBLAS (with the
 * im2col matrix formed) and compared element by element with the error
 * bound of a float32 dot product: for each C element, |ours - OpenBLAS|
 * divided by eps * (|alpha| |op(A)| |op(B)| + |beta C|) at that element
 * (eps = 2^-24), whose largest value over C is written to stderr, one line
 * a call: "gemm-check M N K transa transb ratio". Two correct float32
 * GEMMs give tens at most (their sums differ only in order); an element
 * off by 1e-3 of itself about 1e3, a missing term 1e4 and more
 * (tests/test_gemm.c). The
 * computation goes on with our result, so a run takes the path it takes
 * without the check; when the check's own buffers cannot be allocated,
 * the line says "skipped" instead of a ratio. */
#include "core/alloc.h"
#include "vgg/gemm.h"
#include "vgg/nn.h"
#include "vgg/profile.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "gemm_driver.h"
#include "kernel.h"

/* OpenBLAS exports these; Debian's cblas.h declares them. */
extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);

const char *vgg_openblas_corename(void) {
    const char *s = openblas_get_corename();
    return s ? s : "unknown";
}

static const vgg_kernel *current; /* NULL: OpenBLAS */
static int chosen;                /* 0: not chosen yet */
static const char *supported_names(void);
static int nthreads = 1;
static int checking = -1; /* VGG_GEMM=check; -1: not read yet */

static int check_on(void) {
    if (checking < 0) {
        const char *env = getenv("VGG_GEMM");
        checking = env && strcmp(env, "check") == 0;
    }
    return checking;
}

static float *check_alloc(size_t n) {
    return vgg_malloc(sizeof(float) * (n ? n : 1));
}

static float *fabs_copy(const float *x, size_t n) {
    float *y = check_alloc(n);
    for (size_t i = 0; y && i < n; i++) y[i] = fabsf(x[i]);
    return y;
}

double vgg_gemm_check(int transa, int transb, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb,
                      float beta, const float *C0, const float *C, int ldc) {
    const size_t na = transa ? (size_t)K * lda : (size_t)M * lda;
    const size_t nb = transb ? (size_t)N * ldb : (size_t)K * ldb;
    float *ref = check_alloc((size_t)M * N),
          *bound = check_alloc((size_t)M * N);
    float *aa = fabs_copy(A, na), *ab = fabs_copy(B, nb);
    if (!ref || !bound || !aa || !ab) {
        free(ref);
        free(bound);
        free(aa);
        free(ab);
        return NAN; /* not measured */
    }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float c0 = C0 ? C0[(size_t)i * ldc + j] : 0.0f;
            ref[(size_t)i * N + j] = c0;
            bound[(size_t)i * N + j] = fabsf(beta * c0);
        }
    vgg_gemm_openblas(transa, transb, M, N, K, alpha, A, lda, B, ldb,
                      C0 ? beta : 0.0f, ref, N);
    vgg_gemm_openblas(transa, transb, M, N, K, fabsf(alpha), aa, lda, ab, ldb,
                      1.0f, bound, N);
    double worst = 0.0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double d =
                fabs((double)C[(size_t)i * ldc + j] - ref[(size_t)i * N + j]);
            double b = bound[(size_t)i * N + j] * 0x1p-24;
            double r = d == 0.0 ? 0.0 : b > 0.0 ? d / b : INFINITY;
            if (!(r <= worst)) worst = r == r ? r : INFINITY; /* NaN: inf */
        }
    free(ref);
    free(bound);
    free(aa);
    free(ab);
    return worst;
}

static vgg_gemm_check_fn check_report;
static void *check_ctx;

void vgg_gemm_set_check_report(vgg_gemm_check_fn fn, void *ctx) {
    check_report = fn;
    check_ctx = ctx;
}

/* VGG_GEMM=check's result for one call, to the program's report. */
static void check_result(int transa, int transb, int M, int N, int K,
                         float alpha, const float *A, int lda, const float *B,
                         int ldb, float beta, const float *C0, const float *C,
                         int ldc) {
    double r = beta != 0.0f && !C0
                   ? NAN /* its copy of C could not be allocated */
                   : vgg_gemm_check(transa, transb, M, N, K, alpha, A, lda, B,
                                    ldb, beta, C0, C, ldc);
    if (check_report) check_report(M, N, K, transa, transb, r, check_ctx);
}

/* C's M x N elements (row stride ldc), copied, for the check's beta term. */
static float *copy_c(int M, int N, const float *C, int ldc) {
    if (M <= 0 || N <= 0) return NULL; /* nothing to check */
    float *c0 = check_alloc((size_t)M * ldc);
    if (c0) memcpy(c0, C, sizeof(float) * ((size_t)(M - 1) * ldc + N));
    return c0;
}

void vgg_gemm_openblas(int transa, int transb, int M, int N, int K, float alpha,
                       const float *A, int lda, const float *B, int ldb,
                       float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans,
                transb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
                ldb, beta, C, ldc);
}

/* The kernel name (or "openblas" / "auto") for `name`: its kernel in *k
 * (NULL for OpenBLAS). -1: unknown, -2: not supported by this CPU. */
static int lookup(const char *name, const vgg_kernel **k) {
    if (!name || strcmp(name, "auto") == 0) {
        *k = vgg_kernel_best();
        return 0;
    }
    if (strcmp(name, "openblas") == 0) {
        *k = NULL;
        return 0;
    }
    *k = vgg_kernel_find(name);
    if (!*k) return -1;
    return (*k)->supported() ? 0 : -2;
}

/* The choice at first use: VGG_GEMM's, else the best. */
static void choose(void) {
    const char *env = getenv("VGG_GEMM");
    const vgg_kernel *k;
    if (!env || strcmp(env, "check") == 0 || lookup(env, &k) != 0)
        k = vgg_kernel_best();
    current = k;
    chosen = 1;
}

vgg_status vgg_gemm_select(const char *name, vgg_error *err) {
    const vgg_kernel *k;
    const int rc = lookup(name, &k);
    if (rc == -1)
        return vgg_fail(err, VGG_ERR_ARG,
                        "GEMM \"%s\": unknown; expected one of %s", name,
                        vgg_gemm_names());
    if (rc == -2)
        return vgg_fail(err, VGG_ERR_ARG,
                        "GEMM \"%s\": this CPU cannot run it; it can run %s",
                        name, supported_names());
    current = k;
    chosen = 1;
    return VGG_OK;
}

int vgg_gemm_supported(const char *name) {
    const vgg_kernel *k;
    const int rc = lookup(name, &k);
    return rc == 0 ? 1 : rc == -2 ? 0 : -1;
}

/* "auto openblas NAME..." over the table: `all` lists every kernel of the
 * build, else the supported ones. */
static const char *list_names(char *buf, size_t n, int all) {
    size_t len = (size_t)snprintf(buf, n, "auto openblas");
    const vgg_kernel *const *t = vgg_kernels();
    for (int i = 0; t[i] && len < n; i++)
        if (all || t[i]->supported())
            len += (size_t)snprintf(buf + len, n - len, " %s", t[i]->name);
    return buf;
}

const char *vgg_gemm_names(void) {
    static char buf[256];
    return list_names(buf, sizeof buf, 1);
}

static const char *supported_names(void) {
    static char buf[256];
    return list_names(buf, sizeof buf, 0);
}

const vgg_kernel *vgg_kernel_current(void) {
    if (!chosen) choose();
    return current;
}

const vgg_kernel *vgg_kernel_ops(void) {
    const vgg_kernel *k = vgg_kernel_current();
    return k ? k : vgg_kernel_best();
}

const char *vgg_gemm_name(void) {
    const vgg_kernel *k = vgg_kernel_current();
    return k ? k->name : "openblas";
}

vgg_status vgg_gemm(int transa, int transb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc) {
    double t = vgg_now();
    int done = 0;
    /* Our kernels' packing buffers are one set under a lock: callers from
     * inside a parallel region would queue on it, so they use OpenBLAS. */
    int nested = 0;
#ifdef _OPENMP
    nested = omp_in_parallel();
#endif
    float *c0 = check_on() && beta != 0.0f ? copy_c(M, N, C, ldc) : NULL;
    const vgg_kernel *k = vgg_kernel_current();
    if (k && !nested)
        done = vgg_driver_gemm(k, transa, transb, M, N, K, alpha, A, lda, B,
                               ldb, beta, C, ldc, nthreads) == 0;
    if (!done)
        vgg_gemm_openblas(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta,
                          C, ldc);
    vgg_prof.seconds[VGG_PROF_GEMM] += vgg_now() - t;
    if (check_on() && done && M > 0 && N > 0)
        check_result(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, c0,
                     C, ldc);
    free(c0);
    vgg_prof.gemm_flops += 2.0 * M * N * K;
    return VGG_OK;
}

int vgg_gemm_im2col_implicit(void) { return vgg_kernel_current() != NULL; }

/* The explicit im2col's own matrix (vgg_gemm_im2col). */
static float *own;
static size_t own_n;
static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;

void vgg_gemm_free_buffers(void) {
    vgg_driver_free_buffers();
    pthread_mutex_lock(&own_lock);
    free(own);
    own = NULL;
    own_n = 0;
    pthread_mutex_unlock(&own_lock);
}

vgg_status vgg_gemm_im2col(int transb, int M, float alpha, const float *A,
                           int lda, const vgg_im2col_src *src, float *col,
                           size_t col_n, float beta, float *C, int ldc) {
    const int rows = src->C * 9;
    const long npix = (long)src->N * src->H * src->W;
    if (npix > 0x7fffffffL) return VGG_ERR_ARG;
    int nested = 0;
#ifdef _OPENMP
    nested = omp_in_parallel();
#endif
    const vgg_kernel *k = vgg_kernel_current();
    if (k && !nested) {
        const int ncols = transb ? rows : (int)npix;
        float *c0 =
            check_on() && beta != 0.0f ? copy_c(M, ncols, C, ldc) : NULL;
        double t = vgg_now();
        int rc = vgg_driver_gemm_im2col(k, transb, M, alpha, A, lda, src, beta,
                                        C, ldc, nthreads);
        vgg_prof.seconds[VGG_PROF_GEMM] += vgg_now() - t;
        if (rc == 0) {
            vgg_prof.gemm_flops += 2.0 * M * rows * (double)npix;
            float *cm = check_on() && M > 0 && rows > 0 && npix > 0
                            ? check_alloc((size_t)rows * npix)
                            : NULL;
            if (cm) {
                vgg_im2col(cm, src->x, src->C, src->N, src->H, src->W);
                if (transb)
                    check_result(0, 1, M, rows, (int)npix, alpha, A, lda, cm,
                                 (int)npix, beta, c0, C, ldc);
                else
                    check_result(0, 0, M, (int)npix, rows, alpha, A, lda, cm,
                                 (int)npix, beta, c0, C, ldc);
                free(cm);
            }
            free(c0);
            return VGG_OK;
        }
        /* The packing buffers could not be had. No falling back to the
         * explicit path: the caller's col was sized for this one. */
        free(c0);
        return VGG_ERR_NOMEM;
    }
    /* The explicit path: form col, then an ordinary GEMM; in a buffer of
     * the library's when the caller's is missing or too small for it,
     * held under own_lock. */
    const int mine = !col || col_n < (size_t)rows * (size_t)npix;
    if (mine) {
        pthread_mutex_lock(&own_lock);
        size_t need = (size_t)rows * (size_t)npix;
        if (own_n < need) {
            free(own);
            own = vgg_malloc(sizeof(float) * need);
            own_n = own ? need : 0;
        }
        if (!own) {
            pthread_mutex_unlock(&own_lock);
            return VGG_ERR_NOMEM;
        }
        col = own;
    }
    vgg_im2col(col, src->x, src->C, src->N, src->H, src->W);
    vgg_status st;
    if (transb)
        st = vgg_gemm(0, 1, M, rows, (int)npix, alpha, A, lda, col, (int)npix,
                      beta, C, ldc);
    else
        st = vgg_gemm(0, 0, M, (int)npix, rows, alpha, A, lda, col, (int)npix,
                      beta, C, ldc);
    if (mine) pthread_mutex_unlock(&own_lock);
    return st;
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
