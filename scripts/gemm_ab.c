/* gemm_ab: our GEMM as it is against the same file at another revision,
 * on the convolution GEMMs of a VGG16 training step as the trainer runs
 * them (implicit im2col: forward, weight gradient, input gradient), the two
 * called alternately in one process so that both see the same machine.
 * Built and run by scripts/gemm-ab, which compiles the other revision's
 * driver and AVX-512 kernel (or, before the kernel seam, its
 * src/kernels/gemm_avx512.c) with their symbols renamed ab_old_*
 * (AB_OLD_DRIVER: the seam's).
 *
 *   gemm_ab [--reps R] [--layer L] [--batch B] [--threads N]
 *
 * Per shape: the median of R calls of each (after one of each untimed),
 * the FMA peak measured before each pair (median), each one's share of it,
 * and new/old (old time over new time: above 1, the working tree is
 * faster). Last line: the step's totals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm_driver.h"
#include "kernels/kernel.h"
#include "vgg/gemm.h"
#include "vgg/profile.h"
#include "bench_conv.h"

#ifdef AB_OLD_DRIVER
/* The old revision's kernel entry is its own type (its kernel.h): only
 * its address is passed on. */
extern const char ab_old_vgg_kernel_avx512[];
int ab_old_vgg_driver_gemm_im2col(const void *k, int transb, int M, float alpha,
                                  const float *A, int lda,
                                  const vgg_im2col_src *src, float beta,
                                  float *C, int ldc, int nthreads);
static int old_im2col(int transb, int M, float alpha, const float *A, int lda,
                      const vgg_im2col_src *src, float beta, float *C, int ldc,
                      int nthreads) {
    return ab_old_vgg_driver_gemm_im2col(ab_old_vgg_kernel_avx512, transb, M,
                                         alpha, A, lda, src, beta, C, ldc,
                                         nthreads);
}
#else
int ab_old_vgg_gemm_avx512_im2col(int transb, int M, float alpha,
                                  const float *A, int lda,
                                  const vgg_im2col_src *src, float beta,
                                  float *C, int ldc, int nthreads);
#define old_im2col ab_old_vgg_gemm_avx512_im2col
#endif

static int new_im2col(int transb, int M, float alpha, const float *A, int lda,
                      const vgg_im2col_src *src, float beta, float *C, int ldc,
                      int nthreads) {
    return vgg_driver_gemm_im2col(vgg_kernel_find("avx512"), transb, M, alpha,
                                  A, lda, src, beta, C, ldc, nthreads);
}

int main(int argc, char **argv) {
    int reps = 5, only = -1, batch = 128, threads = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int *dst = !strcmp(a, "--reps")      ? &reps
                   : !strcmp(a, "--layer")   ? &only
                   : !strcmp(a, "--batch")   ? &batch
                   : !strcmp(a, "--threads") ? &threads
                                             : NULL;
        if (!dst || i + 1 >= argc) {
            fprintf(
                stderr,
                "usage: %s [--reps R] [--layer L] [--batch B] [--threads N]\n",
                argv[0]);
            return 2;
        }
        *dst = atoi(argv[++i]);
    }
    if (reps < 1 || reps > 1000 || batch < 1 || threads < 1 ||
        only >= NLAYERS) {
        fprintf(
            stderr,
            "%s: --reps 1..1000, --batch >= 1, --threads >= 1, --layer 0..12\n",
            argv[0]);
        return 2;
    }
    if (vgg_gemm_select("avx512", NULL)) { /* the peak probe's, too */
        fprintf(stderr, "%s: this CPU has no AVX-512F\n", argv[0]);
        return 1;
    }
    const im2col_fn fn[2] = {old_im2col, new_im2col};
    double *t[2] = {malloc(sizeof(double) * reps),
                    malloc(sizeof(double) * reps)};
    double *pk = malloc(sizeof(double) * reps);
    if (!t[0] || !t[1] || !pk) return 1;
    printf("# batch %d, %d threads, median of %d; old = the other revision, "
           "new = the working tree\n",
           batch, threads, reps);
    printf("%-5s %-4s %7s %9s %5s %9s %5s %7s\n", "layer", "pass", "peak",
           "old", "%peak", "new", "%peak", "new/old");
    double tot[2] = {0, 0}, at_peak = 0;
    for (int l = 0; l < NLAYERS; l++) {
        if (only >= 0 && l != only) continue;
        const layer *ly = &vgg16[l];
        const long npix = (long)batch * ly->hw * ly->hw;
        conv_data cd;
        if (conv_data_make(&cd, ly, batch, 1)) {
            fprintf(stderr, "%s: out of memory at layer %d\n", argv[0], l);
            return 1;
        }
        for (int pass = 0; pass < 3; pass++) {
            if (l == 0 && pass == 2)
                continue; /* no input gradient for the image */
            for (int r = -1; r < reps; r++) {
                if (r >= 0) pk[r] = vgg_fma_peak(threads, 0.05);
                for (int v = 0; v < 2; v++) {
                    double t0 = vgg_now();
                    if (conv_pass(fn[v], ly, batch, pass, cd.x, cd.d, cd.w,
                                  cd.C, threads)) {
                        fprintf(stderr, "%s: GEMM failed (out of memory)\n",
                                argv[0]);
                        return 1;
                    }
                    if (r >= 0) t[v][r] = vgg_now() - t0;
                }
            }
            const double gf = 2.0 * npix * ly->cin * 9 * ly->cout * 1e-9;
            const double p = median_of(pk, reps, 0),
                         mo = median_of(t[0], reps, 0),
                         mn = median_of(t[1], reps, 0);
            tot[0] += mo;
            tot[1] += mn;
            at_peak += gf / p;
            printf("%-5d %-4s %7.1f %9.1f %4.0f%% %9.1f %4.0f%% %7.3f\n", l,
                   pass == 0   ? "fwd"
                   : pass == 1 ? "dW"
                               : "dcol",
                   p, gf / mo, 100 * gf / mo / p, gf / mn, 100 * gf / mn / p,
                   mo / mn);
            fflush(stdout);
        }
        conv_data_free(&cd);
    }
    printf("step  all  %7s %7.1fms %4.0f%% %7.1fms %4.0f%% %7.3f\n", "",
           tot[0] * 1e3, 100 * at_peak / tot[0], tot[1] * 1e3,
           100 * at_peak / tot[1], tot[0] / tot[1]);
    free(t[0]);
    free(t[1]);
    free(pk);
    return 0;
}
