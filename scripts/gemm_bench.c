/* vgg-gemm-bench: times every GEMM of one VGG16 training step (batch 128
 * by default: forward, weight gradient, input gradient of each conv layer)
 * with OpenBLAS and with one of our kernels (--gemm NAME: the best this CPU
 * runs by default) on an im2col matrix formed in memory, and with ours on the
 * implicit im2col as the trainer runs them (the "im2col" column, which %peak
 * refers to), and prints GFLOP/s per shape and the FLOP-weighted total for the
 * step.
 *
 *   vgg-gemm-bench [--threads N] [--reps R] [--batch B] [--only ours|openblas]
 *                  [--blocking KC,MC,NC] [--layer L] [--min] [--gemm NAME]
 *
 * Each figure is the median of R timed runs after one warm-up run (--min:
 * the fastest run, for a machine shared with other work). Before each of
 * our shapes the FMA peak of our kernel's vectors is measured for 0.1 s
 * (vgg_fma_peak), and the "%peak" column is our rate as a share of the
 * highest peak measured so far (other work on the host can only slow the
 * probe down); the step's line is over the highest of all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/gemm_driver.h"
#include "kernels/kernel.h"
#include "vgg/gemm.h"
#include "vgg/profile.h"
#include "bench_conv.h"

typedef struct shape {
    const char *pass;
    int ta, tb, M, N, K;
    float beta;
} shape;

/* Median seconds of reps runs (after a warm-up) of one shape. */
static int use_min;

/* Our kernel under test, through the driver with the implicit im2col. */
static const vgg_kernel *ours;
static int ours_im2col(int transb, int M, float alpha, const float *A, int lda,
                       const vgg_im2col_src *src, float beta, float *C, int ldc,
                       int nthreads) {
    return vgg_driver_gemm_im2col(ours, transb, M, alpha, A, lda, src, beta, C,
                                  ldc, nthreads);
}

/* Lets the other implementation's idle threads stop spinning (OpenBLAS's
 * workers busy-wait for ~0.1 s after a call) before timing the next one. */
static void settle(void) {
    struct timespec ts = {0, 250 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static double time_shape(const shape *s, const float *A, const float *B,
                         float *C, int reps) {
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    double *t = malloc(sizeof(double) * reps);
    if (!t) return -1.0;
    for (int r = -1; r < reps; r++) {
        double t0 = vgg_now();
        vgg_gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, s->beta,
                 C, s->N);
        double dt = vgg_now() - t0;
        if (r >= 0) t[r] = dt;
    }
    double med = median_of(t, reps, use_min);
    free(t);
    return med;
}

/* The same pass as the trainer runs it: conv_pass (bench_conv.h). */
static double time_im2col(const layer *ly, int batch, int pass, const float *x,
                          const float *d, const float *w, float *C, int reps) {
    double *t = malloc(sizeof(double) * reps);
    if (!t) return -1.0;
    for (int r = -1; r < reps; r++) {
        double t0 = vgg_now();
        conv_pass(ours_im2col, ly, batch, pass, x, d, w, C, vgg_get_threads());
        double dt = vgg_now() - t0;
        if (r >= 0) t[r] = dt;
    }
    double med = median_of(t, reps, use_min);
    free(t);
    return med;
}

int main(int argc, char **argv) {
    int threads = 2, reps = 5, batch = 128, only = 0, only_layer = -1;
    int kc = 0, mc = 0, nc = 0;
    const char *gemm = "auto";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads") && v)
            threads = atoi(argv[++i]);
        else if (!strcmp(a, "--reps") && v)
            reps = atoi(argv[++i]);
        else if (!strcmp(a, "--batch") && v)
            batch = atoi(argv[++i]);
        else if (!strcmp(a, "--layer") && v)
            only_layer = atoi(argv[++i]);
        else if (!strcmp(a, "--min"))
            use_min = 1;
        else if (!strcmp(a, "--gemm") && v)
            gemm = argv[++i];
        else if (!strcmp(a, "--only") && v) {
            v = argv[++i];
            only = !strcmp(v, "ours") ? 1 : !strcmp(v, "openblas") ? 2 : -1;
            if (only < 0) {
                fprintf(stderr, "%s: --only takes ours or openblas\n", argv[0]);
                return 2;
            }
        } else if (!strcmp(a, "--blocking") && v) {
            if (sscanf(argv[++i], "%d,%d,%d", &kc, &mc, &nc) != 3) {
                fprintf(stderr, "%s: --blocking takes KC,MC,NC\n", argv[0]);
                return 2;
            }
        } else {
            fprintf(stderr,
                    "usage: %s [--threads N] [--reps R] [--batch B] "
                    "[--only ours|openblas] [--blocking KC,MC,NC] [--layer L] "
                    "[--min] "
                    "[--gemm NAME]\n",
                    argv[0]);
            return 2;
        }
    }
    if (threads < 1 || reps < 1 || batch < 1) {
        fprintf(stderr, "%s: --threads, --reps and --batch must be >= 1\n",
                argv[0]);
        return 2;
    }
    vgg_set_threads(threads);
    vgg_driver_set_blocking(kc, mc, nc);
    vgg_error err = {0};
    if (strcmp(gemm, "openblas") == 0 || vgg_gemm_select(gemm, &err)) {
        fprintf(stderr, "%s: --gemm: %s\n", argv[0],
                err.msg[0] ? err.msg
                           : "\"openblas\": expected one of our kernels");
        return 2;
    }
    ours = vgg_kernel_current();
    int have_ours = 1;
    int bkc, bmc, bnc, mr, nr;
    vgg_driver_get_blocking(ours, &bkc, &bmc, &bnc, &mr, &nr);
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("# VGG16 GEMMs of one training step, batch %d, %d thread(s), %s of "
           "%d\n",
           batch, threads, use_min ? "fastest" : "median", reps);
    printf("# OPENBLAS_CORETYPE=%s (OpenBLAS kernels: %s); ours: %s, "
           "micro-kernel %dx%d, KC=%d MC=%d NC=%d\n",
           ct ? ct : "(unset)", vgg_openblas_corename(), ours->name, mr, nr,
           bkc, bmc, bnc);
    printf(
        "# GFLOP/s: openblas and ours on an im2col matrix formed in memory;\n"
        "# im2col: ours on the implicit im2col, as the trainer runs it (the\n"
        "# input gradient as a convolution of dout); ratio = ours/openblas;\n"
        "# %%peak = im2col's rate over the highest FMA peak measured so far\n");
    printf("%-5s %-4s %-5s %6s %7s %5s %8s %10s %10s %6s %10s %7s %6s\n",
           "layer", "pass", "trans", "M", "N", "K", "GFLOP", "openblas", "ours",
           "ratio", "im2col", "peak", "%peak");

    /* pmax: the highest FMA peak measured so far, which shares are over
     * (the loop can only be slowed by other work on the host) */
    double flops_total = 0, t_ob = 0, t_ours = 0, t_im = 0, pmax = 0;
    for (int l = 0; l < NLAYERS; l++) {
        if (only_layer >= 0 && l != only_layer) continue;
        const layer *ly = &vgg16[l];
        int K = ly->cin * 9, Mp = batch * ly->hw * ly->hw;
        shape sh[3] = {
            {"fwd", 0, 0, ly->cout, Mp, K, 1.0f},
            {"dW", 0, 1, ly->cout, K, Mp, 1.0f},
            {"dcol", 1, 0, K, Mp, ly->cout, 0.0f},
        };
        int npass = l == 0 ? 2 : 3; /* no input gradient for the image */
        conv_data cd = {NULL, NULL, NULL, NULL};
        if (only != 2 && have_ours && conv_data_make(&cd, ly, batch, 3)) {
            fprintf(stderr, "%s: out of memory for layer %d\n", argv[0], l);
            return 1;
        }
        for (int p = 0; p < npass; p++) {
            const shape *s = &sh[p];
            size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N,
                   ncc = (size_t)s->M * s->N;
            float *A = malloc(na * sizeof(float)),
                  *B = malloc(nb * sizeof(float)),
                  *C = malloc(ncc * sizeof(float));
            if (!A || !B || !C) {
                fprintf(stderr, "%s: out of memory for layer %d %s\n", argv[0],
                        l, s->pass);
                return 1;
            }
            fill(A, na, 1);
            fill(B, nb, 2);
            memset(C, 0, ncc * sizeof(float));
            double fl = 2.0 * s->M * s->N * s->K;
            double to = 0, tu = 0, ti = 0, pk = 0;
            if (only != 1) {
                settle();
                vgg_gemm_select("openblas", NULL);
                to = time_shape(s, A, B, C, reps);
            }
            if (only != 2 && have_ours) {
                settle();
                vgg_gemm_select(ours->name, NULL); /* its peak, too */
                pk = vgg_fma_peak(threads, 0.1);
                if (pk > pmax) pmax = pk;
                tu = time_shape(s, A, B, C, reps);
                ti = time_im2col(ly, batch, p, cd.x, cd.d, cd.w, cd.C, reps);
            }
            flops_total += fl;
            t_ob += to;
            t_ours += tu;
            t_im += ti;
            char tr[8];
            snprintf(tr, sizeof tr, "%c%c", s->ta ? 'T' : 'N',
                     s->tb ? 'T' : 'N');
            printf("%-5d %-4s %-5s %6d %7d %5d %8.3f %10.1f %10.1f %6.2f "
                   "%10.1f %7.1f "
                   "%5.0f%%\n",
                   l, s->pass, tr, s->M, s->N, s->K, fl * 1e-9,
                   to > 0 ? fl / to * 1e-9 : 0.0, tu > 0 ? fl / tu * 1e-9 : 0.0,
                   to > 0 && tu > 0 ? to / tu : 0.0,
                   ti > 0 ? fl / ti * 1e-9 : 0.0, pk,
                   pmax > 0 && ti > 0 ? 100.0 * fl / ti * 1e-9 / pmax : 0.0);
            fflush(stdout);
            free(A);
            free(B);
            free(C);
        }
        conv_data_free(&cd);
    }
    printf("step  all  %-5s %6s %7s %5s %8.3f %10.1f %10.1f %6.2f %10.1f %7.1f "
           "%5.0f%%\n",
           "", "", "", "", flops_total * 1e-9,
           t_ob > 0 ? flops_total / t_ob * 1e-9 : 0.0,
           t_ours > 0 ? flops_total / t_ours * 1e-9 : 0.0,
           t_ob > 0 && t_ours > 0 ? t_ob / t_ours : 0.0,
           t_im > 0 ? flops_total / t_im * 1e-9 : 0.0, pmax,
           pmax > 0 && t_im > 0 ? 100.0 * flops_total / t_im * 1e-9 / pmax
                                : 0.0);
    printf("# step GEMM time: openblas %.1f ms, ours %.1f ms, im2col %.1f ms\n",
           t_ob * 1e3, t_ours * 1e3, t_im * 1e3);
    return 0;
}
