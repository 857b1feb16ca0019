/* Every kernel of the table this CPU runs (the portable one included),
 * through the driver, against OpenBLAS (vgg_gemm_openblas) and against the
 * portable kernel (generic/gemm.c): all three
 * transpose cases the trainer uses and the fourth, on awkward sizes (1,
 * odd, one either side of every block size: MR, NR, KC, MC, NC, with the
 * blocking shrunk so that every edge is crossed cheaply, in both loop
 * orders) and on VGG shapes
 * scaled down; beta 0, 1 and general, alpha 1 and not; leading dimensions
 * larger than the rows, and C outside its M x N window left untouched.
 *
 * Error bound, per element: both results are within gamma(K) of the exact
 * value, |err| <= K * 2^-24 * (|alpha| sum_k |a_ik b_kj| + |beta c_ij|) to
 * first order, so their difference is within twice that; we allow 2x more
 * (summation orders differ, FMA or not) plus a tiny absolute floor. A wrong
 * element (a missed k, a stale beta, a misplaced edge) is off by O(|a||b|),
 * which is a K-fold larger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm_driver.h"
#include "kernels/kernel.h"
#include "util.h"
#include "vgg/gemm.h"
#include "vgg/nn.h"

#define SENTINEL 12345.0f

/* The kernel under test (each test runs once per supported kernel), and
 * the portable one every kernel is compared with. */
static const vgg_kernel *kern, *generic;

/* One case: op(A)[M][K] op(B)[K][N] with padded leading dimensions, run
 * through OpenBLAS and through ours on `threads` threads; returns the worst
 * error as a multiple of the bound (fails above 1). */
static double check_case(int ta, int tb, int M, int N, int K, float alpha,
                         float beta, int threads) {
    int ar = ta ? K : M, ac = ta ? M : K; /* stored A is ar x ac */
    int br = tb ? N : K, bc = tb ? K : N;
    int lda = ac + 3, ldb = bc + 5, ldc = N + 7;
    size_t na = (size_t)ar * lda, nb = (size_t)br * ldb, nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof(float)), *B = malloc(nb * sizeof(float));
    float *C0 = malloc(nc * sizeof(float)), *Cr = malloc(nc * sizeof(float));
    float *Co = malloc(nc * sizeof(float));
    assert_non_null(A);
    assert_non_null(B);
    assert_non_null(C0);
    assert_non_null(Cr);
    assert_non_null(Co);
    vgg_rng r;
    vgg_rng_seed(&r, 7, (uint64_t)M * 131 + N * 17 + K);
    tu_fill_uniform(A, na, -1.0f, 1.0f, &r);
    tu_fill_uniform(B, nb, -1.0f, 1.0f, &r);
    tu_fill_uniform(C0, nc, -1.0f, 1.0f, &r);
    for (int i = 0; i < M; i++)
        for (int j = N; j < ldc; j++) C0[(size_t)i * ldc + j] = SENTINEL;
    if (beta == 0.0f) /* beta 0 must not read C: poison it */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C0[(size_t)i * ldc + j] = NAN;
    memcpy(Cr, C0, nc * sizeof(float));
    memcpy(Co, C0, nc * sizeof(float));

    vgg_gemm_openblas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cr, ldc);
    int rc = vgg_driver_gemm(kern, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta,
                             Co, ldc, threads);
    assert_int_equal(rc, 0);
    /* the portable kernel's, for the other kernels: on every third case
     * (it is the slowest, and the sweeps run thousands) */
    static unsigned ncase;
    float *Cg = NULL;
    if (kern != generic && ncase++ % 3 == 0) {
        Cg = malloc(nc * sizeof(float));
        assert_non_null(Cg);
        memcpy(Cg, C0, nc * sizeof(float));
        assert_int_equal(vgg_driver_gemm(generic, ta, tb, M, N, K, alpha, A,
                                         lda, B, ldb, beta, Cg, ldc, 1),
                         0);
    }

    double worst = 0.0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double mag = 0.0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                mag += fabs(a * b);
            }
            double c0 = beta == 0.0f ? 0.0 : fabs(C0[(size_t)i * ldc + j]);
            double bound = 4.0 * (K + 2) * ldexp(1.0, -24) *
                               (fabs(alpha) * mag + fabs(beta) * c0) +
                           1e-30;
            double d =
                fabs((double)Co[(size_t)i * ldc + j] - Cr[(size_t)i * ldc + j]);
            if (!(d <= bound)) { /* NaN too */
                fprintf(stderr,
                        "  %c%c M=%d N=%d K=%d alpha=%g beta=%g threads=%d: "
                        "C[%d][%d] ours %.9g openblas %.9g (bound %.3g)\n",
                        ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, beta,
                        threads, i, j, Co[(size_t)i * ldc + j],
                        Cr[(size_t)i * ldc + j], bound);
                fail();
            }
            if (d / bound > worst) worst = d / bound;
            if (Cg && !(fabs((double)Co[(size_t)i * ldc + j] -
                             Cg[(size_t)i * ldc + j]) <= bound)) {
                fprintf(stderr,
                        "  %s: %c%c M=%d N=%d K=%d: C[%d][%d] %.9g, generic "
                        "%.9g (bound %.3g)\n",
                        kern->name, ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, i,
                        j, Co[(size_t)i * ldc + j], Cg[(size_t)i * ldc + j],
                        bound);
                fail();
            }
        }
        for (int j = N; j < ldc; j++)
            if (Co[(size_t)i * ldc + j] != SENTINEL) {
                fprintf(stderr, "  wrote outside C: row %d col %d\n", i, j);
                fail();
            }
    }
    free(A);
    free(B);
    free(C0);
    free(Cr);
    free(Co);
    free(Cg);
    return worst;
}

static void sweep(const int *sizes, int ns, int threads) {
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    double worst = 0.0;
    int cases = 0;
    for (int t = 0; t < 4; t++)
        for (int a = 0; a < ns; a++)
            for (int b = 0; b < ns; b++)
                for (int c = 0; c < ns; c++) {
                    /* Every size triple in one transpose case, a thinned
                     * set in the others. */
                    if (t != 0 && (a + 2 * b + 3 * c + t) % 3) continue;
                    float beta = betas[(a + b + c + t) % 3];
                    float alpha = (a + c) % 4 == 3 ? -0.75f : 1.0f;
                    double w = check_case(t >> 1, t & 1, sizes[a], sizes[b],
                                          sizes[c], alpha, beta, threads);
                    if (w > worst) worst = w;
                    cases++;
                }
    printf("  %s: %d cases on %d thread(s), worst error %.3f of the bound\n",
           kern->name, cases, threads, worst);
}

/* Small blocking so that the sizes below cross every block edge, in both
 * loop orders. */
static void test_edges_small_blocking(void **state) {
    (void)state;
    int kc, mc, nc, mr, nr;
    vgg_driver_get_blocking(kern, &kc, &mc, &nc, &mr, &nr);
    vgg_driver_set_blocking(16, 2 * mr, 2 * nr);
    const int sizes[] = {1,          2,      mr - 1, mr + 1,     15, 17,
                         2 * mr + 1, nr - 1, nr + 1, 2 * nr + 1, 33};
    const int ns = (int)(sizeof sizes / sizeof sizes[0]);
    for (int order = 0; order < 2; order++) {
        vgg_driver_set_order(order);
        sweep(sizes, ns, 1);
        sweep(sizes, ns, 2);
    }
    vgg_driver_set_order(-1);
    vgg_driver_set_blocking(0, 0, 0);
}

/* The real blocking, sizes one either side of its edges, both orders. */
static void test_edges_real_blocking(void **state) {
    (void)state;
    /* the portable kernel, the slowest by far, takes its edges from the
     * small blocking; every other kernel is compared with it here too */
    if (kern == generic) return;
    int kc, mc, nc, mr, nr;
    vgg_driver_get_blocking(kern, &kc, &mc, &nc, &mr, &nr);
    const int mk[][3] = {
        {mc + 1, nr + 3, kc + 1},
        {mc - 1, 2 * nr - 1, kc - 1},
        {mr, nc + 1, 27},
        {mr + 1, nc - 1, kc},
        {1, 1, 2 * kc + 3},
        {2 * mc + mr - 1, 3, 9},
        {3, 2 * nc + 5, 2},
        {64, 27, 700},
        {385, 520, 130},
        {70, 1030, 515},
        /* 2 threads: panels handed out (32+ of them), 2-3 depth blocks */
        {mr + 1, 32 * nr + 7, 2 * kc + 5},
        {2 * mr + 1, 32 * nr + 1, kc + 7},
        /* NT: the depth cut in two halves (4+ blocks; 5 -> 6) */
        {13, 2 * nr + 17, 4 * kc + 7},
        {mr - 1, 5, 7 * kc},
    };
    for (int order = -1; order < 2; order++) {
        vgg_driver_set_order(order);
        for (size_t i = 0; i < sizeof mk / sizeof mk[0]; i++)
            for (int t = 0; t < 4; t++)
                for (int threads = 1; threads <= 2; threads++)
                    check_case(t >> 1, t & 1, mk[i][0], mk[i][1], mk[i][2],
                               1.0f, t == 1 ? 1.0f : (float)(i % 2), threads);
    }
    vgg_driver_set_order(-1);
}

/* The trainer's three calls on VGG layers at a small batch (M' = N*H*W). */
static void test_vgg_shapes(void **state) {
    (void)state;
    const int layers[][3] = {
        {3, 64, 32}, {64, 128, 16}, {256, 256, 8}, {512, 512, 2}};
    const int batch = 2;
    for (int l = 0; l < 4; l++) {
        int K = layers[l][0] * 9, Co = layers[l][1];
        int Mp = batch * layers[l][2] * layers[l][2];
        check_case(0, 0, Co, Mp, K, 1.0f, 1.0f, 2); /* forward */
        check_case(0, 1, Co, K, Mp, 1.0f, 1.0f, 2); /* weight gradient */
        check_case(1, 0, K, Mp, Co, 1.0f, 0.0f, 2); /* input gradient */
    }
}

/* Same thread count, same bits; and the sum order does not depend on the
 * thread count either: on thread slabs (the first shape), on panels
 * handed out over several depth blocks (the second) and on a depth cut in
 * halves (the third). */
static void det_case(int M, int N, int K) {
    float *A = malloc(sizeof(float) * M * K),
          *B = malloc(sizeof(float) * K * N);
    float *C1 = calloc((size_t)M * N, sizeof(float)),
          *C2 = calloc((size_t)M * N, sizeof(float)),
          *C3 = calloc((size_t)M * N, sizeof(float));
    assert_true(A && B && C1 && C2 && C3);
    vgg_rng r;
    vgg_rng_seed(&r, 3, 3);
    tu_fill_uniform(A, (size_t)M * K, -1.0f, 1.0f, &r);
    tu_fill_uniform(B, (size_t)K * N, -1.0f, 1.0f, &r);
    vgg_driver_gemm(kern, 0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C1, N, 2);
    vgg_driver_gemm(kern, 0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C2, N, 2);
    vgg_driver_gemm(kern, 0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C3, N, 1);
    assert_memory_equal(C1, C2, sizeof(float) * M * N);
    assert_memory_equal(C1, C3, sizeof(float) * M * N);
    free(A);
    free(B);
    free(C1);
    free(C2);
    free(C3);
}

static void test_deterministic(void **state) {
    (void)state;
    det_case(70, 300, 600);
    det_case(20, 2100, 2500);
    det_case(20, 200, 5000); /* the depth in two halves */
}

/* The depth split forced on every NT product, down to a depth of one
 * block (where there is no second half to sum) and below. */
static void test_split_forced(void **state) {
    (void)state;
    vgg_driver_set_split_k(1);
    /* deep first: the scratch then holds a real half when the shallow
     * ones come (a half never summed would show) */
    const int ks[] = {2500, 1201, 40, 17, 3, 2, 1};
    vgg_driver_set_order(0); /* else a depth under 128 takes order 1 */
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        for (int threads = 1; threads <= 2; threads++) {
            check_case(0, 1, 7, 33, ks[i], 1.0f, 1.0f, threads);
            check_case(0, 1, 13, 70, ks[i], -0.75f, 0.0f, threads);
        }
    vgg_driver_set_order(-1);
    vgg_driver_set_split_k(-1);
}

/* Two threads of the caller's own (not OpenMP's) calling vgg_gemm at the
 * same time, each on its own shape: each must get the bits a lone call
 * gives (the packing buffers are the library's, one set). */
typedef struct {
    int M, N, K;
    float *A, *B, *C, *want;
    int bad;
} caller_job;

static void *caller(void *arg) {
    caller_job *j = arg;
    for (int rep = 0; rep < 60 && !j->bad; rep++) {
        vgg_gemm(0, 1, j->M, j->N, j->K, 1.0f, j->A, j->K, j->B, j->K, 0.0f,
                 j->C, j->N);
        j->bad = memcmp(j->C, j->want, sizeof(float) * j->M * j->N) != 0;
    }
    return NULL;
}

static void test_concurrent_callers(void **state) {
    (void)state;
    assert_int_equal(vgg_gemm_select(kern->name, NULL), VGG_OK);
    vgg_set_threads(2);
    caller_job job[2] = {{.M = 70, .N = 700, .K = 600},
                         {.M = 130, .N = 500, .K = 900}};
    vgg_rng r;
    vgg_rng_seed(&r, 5, 5);
    for (int i = 0; i < 2; i++) {
        caller_job *j = &job[i];
        j->A = malloc(sizeof(float) * j->M * j->K);
        j->B = malloc(sizeof(float) * j->K * j->N);
        j->C = malloc(sizeof(float) * j->M * j->N);
        j->want = malloc(sizeof(float) * j->M * j->N);
        assert_true(j->A && j->B && j->C && j->want);
        tu_fill_uniform(j->A, (size_t)j->M * j->K, -1.0f, 1.0f, &r);
        tu_fill_uniform(j->B, (size_t)j->K * j->N, -1.0f, 1.0f, &r);
        vgg_gemm(0, 1, j->M, j->N, j->K, 1.0f, j->A, j->K, j->B, j->K, 0.0f,
                 j->want, j->N);
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, caller, &job[i]), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(job[i].bad, 0);
        free(job[i].A);
        free(job[i].B);
        free(job[i].C);
        free(job[i].want);
    }
    vgg_set_threads(1);
    vgg_gemm_select("auto", NULL);
}

/* Rounding error over a long depth: A and B in (0, 1), so every partial
 * sum grows and a running sum's error with it. The micro-kernel sums the
 * depth in chunks of at most 256 from zero (gemm_driver.c, VGG_KSUB). Measured
 * when this test was written, root-mean-square error in units of 2^-24 of
 * the result at depths 576, 1152, 4608: one register chain over each
 * depth block (the kernel before the chunks) 6.0, 8.6, 4.4; the chunks
 * 2.1, 1.7, 1.4; OpenBLAS (printed beside) 1.4, 1.2, 1.6. A kernel that
 * lost the chunks fails the bound of 3. */
static double depth_error(int K, int ours) {
    const int M = 24, N = 128;
    float *A = malloc(sizeof(float) * M * K),
          *B = malloc(sizeof(float) * K * N);
    float *C = malloc(sizeof(float) * M * N);
    double *R = calloc((size_t)M * N, sizeof(double));
    assert_true(A && B && C && R);
    vgg_rng r;
    vgg_rng_seed(&r, 11, (uint64_t)K);
    tu_fill_uniform(A, (size_t)M * K, 0.0f, 1.0f, &r);
    tu_fill_uniform(B, (size_t)K * N, 0.0f, 1.0f, &r);
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < N; j++)
                R[i * N + j] += (double)A[i * K + k] * B[(size_t)k * N + j];
    if (ours)
        assert_int_equal(vgg_driver_gemm(kern, 0, 0, M, N, K, 1.0f, A, K, B, N,
                                         0.0f, C, N, 2),
                         0);
    else
        vgg_gemm_openblas(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    double ss = 0.0;
    for (int i = 0; i < M * N; i++) {
        double e = (C[i] - R[i]) / R[i] / 0x1p-24;
        ss += e * e;
    }
    free(A);
    free(B);
    free(C);
    free(R);
    return sqrt(ss / (M * N));
}

static void test_depth_accuracy(void **state) {
    (void)state;
    const int depths[] = {576, 1152, 4608};
    for (int d = 0; d < 3; d++) {
        double e = depth_error(depths[d], 1), o = depth_error(depths[d], 0);
        printf("%s: depth %4d: rms error %.2f x 2^-24 of the result "
               "(OpenBLAS %.2f)\n",
               kern->name, depths[d], e, o);
        assert_true(e < 3.0);
    }
}

/* K == 0 and alpha == 0 only scale C by beta. */
static void test_degenerate(void **state) {
    (void)state;
    float C[6] = {1, 2, 3, 4, 5, 6}, A[1] = {NAN}, B[1] = {NAN};
    assert_int_equal(
        vgg_driver_gemm(kern, 0, 0, 2, 3, 0, 1.0f, A, 1, B, 3, 0.5f, C, 3, 2),
        0);
    assert_true(C[0] == 0.5f && C[5] == 3.0f);
    assert_int_equal(
        vgg_driver_gemm(kern, 0, 0, 2, 3, 0, 1.0f, A, 1, B, 3, 0.0f, C, 3, 2),
        0);
    for (int i = 0; i < 6; i++) assert_true(C[i] == 0.0f);
    assert_int_equal(
        vgg_driver_gemm(kern, 0, 0, 0, 3, 4, 1.0f, A, 4, B, 3, 0.0f, C, 3, 2),
        0);
}

/* vgg_gemm_select: by name, VGG_GEMM at first use, and clear errors for
 * an unknown or unsupported name (the selection then unchanged). */
static void test_select(void **state) {
    (void)state;
    const vgg_kernel *best = vgg_kernel_best();
    assert_non_null(best);
    assert_true(best->supported());
    assert_int_equal(vgg_gemm_select("openblas", NULL), VGG_OK);
    assert_string_equal(vgg_gemm_name(), "openblas");
    assert_int_equal(vgg_gemm_im2col_implicit(), 0);
    assert_int_equal(vgg_gemm_select("auto", NULL), VGG_OK);
    assert_string_equal(vgg_gemm_name(), best->name);
    assert_int_equal(vgg_gemm_im2col_implicit(), 1);
    assert_int_equal(vgg_gemm_select(NULL, NULL), VGG_OK);
    assert_string_equal(vgg_gemm_name(), best->name);
    for (const vgg_kernel *const *k = vgg_kernels(); *k; k++) {
        vgg_error err = {0};
        vgg_status st = vgg_gemm_select((*k)->name, &err);
        assert_int_equal(vgg_gemm_supported((*k)->name), (*k)->supported());
        if ((*k)->supported()) {
            assert_int_equal(st, VGG_OK);
            assert_string_equal(vgg_gemm_name(), (*k)->name);
        } else {
            assert_int_equal(st, VGG_ERR_ARG);
            assert_non_null(strstr(err.msg, (*k)->name));
            assert_non_null(strstr(err.msg, "cannot run"));
        }
        assert_non_null(strstr(vgg_gemm_names(), (*k)->name));
    }
    vgg_gemm_select("generic", NULL);
    vgg_error err = {0};
    assert_int_equal(vgg_gemm_select("nonsense", &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "\"nonsense\": unknown"));
    assert_string_equal(vgg_gemm_name(), "generic"); /* unchanged */
    assert_int_equal(vgg_gemm_supported("nonsense"), -1);
    assert_int_equal(vgg_gemm_supported("openblas"), 1);

    /* Whatever is selected, vgg_gemm computes the product. */
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4] = {0};
    for (const vgg_kernel *const *k = vgg_kernels(); *k; k++) {
        if (!(*k)->supported()) continue;
        for (int s = 0; s < 2; s++) {
            vgg_gemm_select(s ? (*k)->name : "openblas", NULL);
            vgg_gemm(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
            assert_true(C[0] == 4 && C[1] == 5 && C[2] == 10 && C[3] == 11);
        }
    }
    vgg_gemm_select("auto", NULL);
}

/* vgg_gemm_im2col on our kernels (col never formed) against the im2col
 * matrix formed by vgg_im2col and multiplied by OpenBLAS: both transb
 * cases, images of side 1 to 33 (16-pixel vectors that straddle rows and
 * images, sides below 16 where one vector holds several rows), channel
 * counts that leave partial panels, beta 0 and 1, 1 and 2 threads, the
 * small blocking (every depth and panel edge crossed) and the real one. */
static void im2col_case(int C, int Mo, int N, int H, int W, float beta,
                        int threads, double *worst) {
    const long npix = (long)N * H * W;
    const int rows = C * 9;
    float *x = malloc(sizeof(float) * C * npix);
    float *col = malloc(sizeof(float) * rows * npix);
    float *Af = malloc(sizeof(float) * Mo * rows); /* forward A[Mo][rows] */
    float *Ag = malloc(sizeof(float) * Mo * npix); /* dW A[Mo][npix] */
    const size_t cn =
        (size_t)Mo * (npix > rows ? npix : rows); /* C, either case */
    float *C0 = malloc(sizeof(float) * cn), *Cr = malloc(sizeof(float) * cn);
    float *Co = malloc(sizeof(float) * cn);
    assert_true(x && col && Af && Ag && C0 && Cr && Co);
    vgg_rng r;
    vgg_rng_seed(&r, 11, (uint64_t)C * 1000 + H * 10 + W);
    tu_fill_uniform(x, (size_t)C * npix, -1, 1, &r);
    tu_fill_uniform(Af, (size_t)Mo * rows, -1, 1, &r);
    tu_fill_uniform(Ag, (size_t)Mo * npix, -1, 1, &r);
    tu_fill_uniform(C0, cn, -1, 1, &r);
    vgg_im2col(col, x, C, N, H, W);
    const vgg_im2col_src src = {x, C, N, H, W};
    for (int tb = 0; tb < 2; tb++) {
        int n = tb ? rows : (int)npix;
        size_t nc = (size_t)Mo * n;
        memcpy(Cr, C0, nc * sizeof(float));
        memcpy(Co, C0, nc * sizeof(float));
        if (tb)
            vgg_gemm_openblas(0, 1, Mo, rows, (int)npix, 1.0f, Ag, (int)npix,
                              col, (int)npix, beta, Cr, rows);
        else
            vgg_gemm_openblas(0, 0, Mo, (int)npix, rows, 1.0f, Af, rows, col,
                              (int)npix, beta, Cr, (int)npix);
        assert_int_equal(vgg_driver_gemm_im2col(
                             kern, tb, Mo, 1.0f, tb ? Ag : Af,
                             tb ? (int)npix : rows, &src, beta, Co, n, threads),
                         0);
        long K = tb ? npix : rows;
        for (size_t i = 0; i < nc; i++) {
            double bound = 4.0 * K * 0x1p-24 * (K + fabs(beta * C0[i])) + 1e-6;
            double e = fabs((double)Co[i] - Cr[i]) / bound;
            if (!(e <= *worst)) *worst = e; /* NaN propagates */
        }
    }
    free(x);
    free(col);
    free(Af);
    free(Ag);
    free(C0);
    free(Cr);
    free(Co);
}

static void test_im2col_implicit(void **state) {
    (void)state;
    static const int sides[][2] = {{1, 1},   {2, 2},  {3, 5},   {4, 4},
                                   {7, 3},   {8, 8},  {16, 16}, {17, 9},
                                   {32, 32}, {33, 31}};
    double worst = 0.0;
    for (int small = 0; small < 2; small++) {
        if (small) vgg_driver_set_blocking(16, 12, 64);
        for (size_t i = 0; i < sizeof sides / sizeof *sides; i++) {
            int H = sides[i][0], W = sides[i][1];
            int N = H * W >= 256 ? 2 : 5;
            im2col_case(3, 7, N, H, W, 0.0f, 1, &worst);
            im2col_case(13, 20, N, H, W, 1.0f, 2, &worst);
            /* channels in groups of 16 (until 2026-11-29 the weight
             * gradient took another path for these) */
            im2col_case(16, 9, N, H, W, 0.5f, 1, &worst);
            im2col_case(32, 13, N, H, W, 1.0f, 2, &worst);
        }
        vgg_driver_set_blocking(0, 0, 0);
    }
    if (kern == generic) { /* the slowest: the small shapes only */
        print_message("  %s: implicit im2col vs formed + OpenBLAS: worst "
                      "%.3f of the bound\n",
                      kern->name, worst);
        assert_true(worst <= 1.0);
        return;
    }
    /* the deepest VGG shapes at a small batch */
    im2col_case(64, 64, 3, 32, 32, 1.0f, 2, &worst);
    im2col_case(128, 256, 2, 8, 8, 0.0f, 2, &worst);
    im2col_case(512, 512, 4, 2, 2, 0.0f, 2, &worst);
    /* forward over two depth blocks (1296 rows) with panels handed out */
    im2col_case(144, 20, 2, 32, 32, 1.0f, 2, &worst);
    /* a weight gradient wide enough (9 x 240 columns) for panels handed
     * out, over two depth blocks of pixels */
    im2col_case(240, 20, 2, 32, 32, 0.5f, 2, &worst);
    print_message(
        "  %s: implicit im2col vs formed + OpenBLAS: worst %.3f of the bound\n",
        kern->name, worst);
    assert_true(worst <= 1.0);
}

/* vgg_gemm_check (VGG_GEMM=check's measure): a result computed in double
 * and rounded scores well under the bound, each transpose case and beta
 * 0 and 1; one element off by 1e-3 of its magnitude (of 2^-24 times a
 * sum of about 40 here: about 1e3 of the bound) scores over 100; a
 * missing term, more still; a NaN is infinite. */
static void test_check_measure(void **state) {
    (void)state;
    enum { M = 37, N = 53, K = 300 };
    float *A = malloc(sizeof(float) * M * K),
          *B = malloc(sizeof(float) * K * N);
    float *C0 = malloc(sizeof(float) * M * N),
          *C = malloc(sizeof(float) * M * N);
    assert_non_null(A);
    assert_non_null(B);
    assert_non_null(C0);
    assert_non_null(C);
    vgg_rng r;
    vgg_rng_seed(&r, 11, 3);
    tu_fill_uniform(A, (size_t)M * K, -1.0f, 1.0f, &r);
    tu_fill_uniform(B, (size_t)K * N, -1.0f, 1.0f, &r);
    tu_fill_uniform(C0, (size_t)M * N, -1.0f, 1.0f, &r);
    for (int t = 0; t < 8; t++) {
        const int ta = t & 1, tb = (t >> 1) & 1;
        const float beta = (t >> 2) ? 1.0f : 0.0f, alpha = 0.5f;
        /* A stored M x K (ta 0) or K x M (ta 1), the same memory */
        const int lda = ta ? M : K, ldb = tb ? K : N;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double acc = 0.0;
                for (int k = 0; k < K; k++)
                    acc += (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                           (tb ? B[j * ldb + k] : B[k * ldb + j]);
                C[i * N + j] = (float)(alpha * acc + beta * C0[i * N + j]);
            }
        double good = vgg_gemm_check(ta, tb, M, N, K, alpha, A, lda, B, ldb,
                                     beta, beta != 0.0f ? C0 : NULL, C, N);
        assert_true(good < 16.0);
        const float keep = C[5 * N + 7];
        C[5 * N + 7] = keep + 1e-3f * fabsf(keep) + 1e-3f;
        double bad = vgg_gemm_check(ta, tb, M, N, K, alpha, A, lda, B, ldb,
                                    beta, beta != 0.0f ? C0 : NULL, C, N);
        assert_true(bad > 100.0);
        /* the product's last term left out of one element */
        C[5 * N + 7] =
            keep -
            (float)(alpha * (ta ? A[(K - 1) * lda + 5] : A[5 * lda + K - 1]) *
                    (tb ? B[7 * ldb + K - 1] : B[(K - 1) * ldb + 7]));
        double term = vgg_gemm_check(ta, tb, M, N, K, alpha, A, lda, B, ldb,
                                     beta, beta != 0.0f ? C0 : NULL, C, N);
        assert_true(term > 1e4);
        C[5 * N + 7] = NAN;
        assert_true(
            isinf(vgg_gemm_check(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta,
                                 beta != 0.0f ? C0 : NULL, C, N)));
        if (t == 0)
            print_message("  check measure: exact result %.2f, one element "
                          "off by 1e-3: %.3g, one term missing: %.3g\n",
                          good, bad, term);
    }
    free(A);
    free(B);
    free(C0);
    free(C);
}

/* The FMA peak probe the benchmarks divide by: it runs, reports the vector
 * width of the kernel in use, and gives 0 for no time at all. (Its value
 * is a speed, which no test here asserts.) */
static void test_fma_peak(void **state) {
    (void)state;
    int w = vgg_fma_peak_width();
    assert_true(w == 0 || w == 4 || w == 8 || w == 16);
    assert_int_equal(w, vgg_kernel_ops()->fma_loop ? vgg_kernel_ops()->vec : 0);
    assert_true(vgg_fma_peak(2, 0.0) == 0.0);
    double p1 = vgg_fma_peak(1, 0.01), p2 = vgg_fma_peak(2, 0.01);
    if (w) {
        assert_true(p1 > 0.0 && isfinite(p1));
        assert_true(p2 > 0.0 && isfinite(p2));
    } else {
        assert_true(p1 == 0.0 && p2 == 0.0);
    }
    assert_non_null(vgg_openblas_corename());
}

/* The probe measured against its kernel's nominal FLOP per cycle (FMA
 * pipes x lanes x 2), the loop and a chain of dependent adds alternated:
 * too few chains for the pipes' latency (or chains spilled to memory, as
 * 16 ymm chains on AVX2's 16 registers were) read half of it or less; a
 * wrong count of FLOPs per step, a multiple. The highest of three, for a
 * host busy with other work; AVX-512 may read half on cores that split a
 * zmm FMA in two (Zen 4, one-FMA-unit Xeons). */
static void test_fma_per_cycle(void **state) {
    (void)state;
    if (getenv("VGG_TEST_EMULATED")) { /* scripts/cross-aarch64: qemu */
        print_message("  under an emulator (VGG_TEST_EMULATED): its FMA "
                      "rate says nothing about a core, not measured\n");
        skip();
    }
    for (const vgg_kernel *const *k = vgg_kernels(); *k; k++) {
        if (!(*k)->supported() || !(*k)->fma_loop) continue;
        assert_int_equal(vgg_gemm_select((*k)->name, NULL), VGG_OK);
        const double nominal = vgg_fma_flops_per_cycle();
        double best = 0.0;
        for (int r = 0; r < 3; r++) {
            double f = vgg_fma_flop_per_cycle(0.1);
            if (f > best) best = f;
        }
        print_message("  %s: %.1f FLOP per cycle, nominal %.0f\n", (*k)->name,
                      best, nominal);
        const int halved =
            best < 0.75 * nominal && strcmp((*k)->name, "avx512") == 0;
        double want = halved ? nominal / 2 : nominal;
        /* NEON's nominal is 2 FMA pipes (Neoverse N1, Cortex-A76); V1, V2
         * and Apple's cores have 4, the Cortex-A72 and A55 class 1 */
        if (strcmp((*k)->name, "neon") == 0)
            want = best > 1.5 * nominal    ? 2 * nominal
                   : best < 0.75 * nominal ? nominal / 2
                                           : nominal;
        assert_true(best > 0.75 * want && best < 1.15 * want);
    }
    vgg_gemm_select("auto", NULL);
}

/* Runs fn once per kernel this CPU supports. */
static void each_kernel(void (*fn)(void **), void **state) {
    for (const vgg_kernel *const *k = vgg_kernels(); *k; k++) {
        if (!(*k)->supported()) {
            printf("  %s: this CPU cannot run it, not tested\n", (*k)->name);
            continue;
        }
        if (!tu_kernel_wanted((*k)->name)) {
            printf("  %s: not in VGG_TEST_KERNELS, not tested\n", (*k)->name);
            continue;
        }
        kern = *k;
        fn(state);
    }
}
#define EACH(name)                                                             \
    static void name##_each(void **state) { each_kernel(name, state); }
EACH(test_degenerate)
EACH(test_deterministic)
EACH(test_depth_accuracy)
EACH(test_split_forced)
EACH(test_concurrent_callers)
EACH(test_edges_small_blocking)
EACH(test_edges_real_blocking)
EACH(test_vgg_shapes)
EACH(test_im2col_implicit)

int main(void) {
    generic = vgg_kernel_find("generic");
    if (!generic) {
        fprintf(stderr, "no generic kernel in the table\n");
        return 1;
    }
    vgg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_fma_peak),
        cmocka_unit_test(test_fma_per_cycle),
        cmocka_unit_test(test_degenerate_each),
        cmocka_unit_test(test_deterministic_each),
        cmocka_unit_test(test_depth_accuracy_each),
        cmocka_unit_test(test_split_forced_each),
        cmocka_unit_test(test_concurrent_callers_each),
        cmocka_unit_test(test_edges_small_blocking_each),
        cmocka_unit_test(test_edges_real_blocking_each),
        cmocka_unit_test(test_vgg_shapes_each),
        cmocka_unit_test(test_im2col_implicit_each),
        cmocka_unit_test(test_check_measure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
