/* The AVX-512 micro-kernel alone (kernel_nv4, 6 x 64), on one core,
 * against the FMA loop (vgg_fma_peak) timed alternately with it: how close
 * the kernel gets to the peak as its operands move out of L1. Each pattern
 * is order 0's inner loop (gemm_slab): one packed B micro-panel [kc][64]
 * run through the A micro-panels of M rows, C += A B on a C block of M x 64
 * (row stride 64), the depth in the driver's chunks (gemm_driver.c). Built
 * by scripts/kernel-bench, which includes src/kernels/x86_avx512/gemm.c
 * here to reach its static kernel.
 *
 *   kernel_bench [--rounds R] [--ms MS]
 *
 * Prints, per pattern, the median over R rounds of the kernel's rate over
 * the FMA loop's measured just before it (MS milliseconds each), with the
 * lowest and highest. */
/* the library has its own table entry: this copy's is renamed */
#define vgg_kernel_avx512 kernel_bench_avx512
#include "x86_avx512/gemm.c"
#undef vgg_kernel_avx512

#include <stdio.h>

#include "bench_conv.h"
#include "vgg/gemm.h"
#include "vgg/profile.h"

typedef struct pattern {
    const char *what;
    int M;
    int kc;
} pattern;

static const pattern patterns[] = {
    {"one tile, B 16 KiB (L1), short depth", 6, 64},
    {"one tile, B 32 KiB (L1)", 6, 128},
    {"one tile, B 72 KiB (L2)", 6, 288},
    {"row block M 66 (layer 1), B 144 KiB", 66, 576},
    {"row block M 516 (layers 7-12), B 288 KiB, A 2.3 MiB", 516, 1152},
};
#define NPAT (int)(sizeof patterns / sizeof *patterns)

/* GFLOP/s of the pattern's loop for about `seconds`. */
static double run(const pattern *p, const float *a, const float *b, float *c,
                  double seconds) {
    long reps = 0;
    const double t0 = vgg_now(), end = t0 + seconds;
    double t;
    /* the driver's chunks: at most VGG_KSUB, equal (gemm_driver.c) */
    const long nch = p->kc > VGG_KSUB ? (p->kc + VGG_KSUB - 1) / VGG_KSUB : 1;
    const long sub = (p->kc + nch - 1) / nch;
    do {
        for (int ir = 0; ir < p->M; ir += MR)
            for (long p0 = 0; p0 < p->kc; p0 += sub) {
                const long n = p->kc - p0 < sub ? p->kc - p0 : sub;
                kernel_nv4(n, a + (long)ir * p->kc + p0 * MR, b + p0 * NR,
                           c + (long)ir * NR, NR, MR, (__mmask16)0xFFFF, 1.0f,
                           1.0f);
            }
        reps++;
    } while ((t = vgg_now()) < end);
    return 2.0 * p->M * NR * p->kc * reps / (t - t0) / 1e9;
}

static int arg_int(const char *flag, const char *v, int lo, int hi) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
        fprintf(stderr,
                "kernel_bench: %s %s: expected a whole number %d to %d\n", flag,
                v, lo, hi);
        exit(2);
    }
    return (int)n;
}

int main(int argc, char **argv) {
    int rounds = 9;
    double seconds = 0.1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0)
            rounds = arg_int("--rounds", argv[++i], 1, 99);
        else if (i + 1 < argc && strcmp(argv[i], "--ms") == 0)
            seconds = arg_int("--ms", argv[++i], 1, 10000) / 1000.0;
        else {
            fprintf(stderr, "usage: kernel_bench [--rounds R] [--ms MS]\n");
            return 2;
        }
    }
    if (!avx512_supported() || vgg_gemm_select("avx512", NULL) ||
        vgg_fma_peak_width() != 16) {
        fprintf(stderr, "kernel_bench: this CPU has no AVX-512F\n");
        return 1;
    }
    printf("# micro-kernel %dx%d alone on one core, against the FMA loop "
           "(16-float vectors) timed just before each run; median of %d\n",
           MR, NR, rounds);
    printf("%-54s %6s %9s %6s %9s\n", "pattern", "M", "kc", "%peak", "min-max");
    for (int k = 0; k < NPAT; k++) {
        const pattern *p = &patterns[k];
        const int mp = (p->M + MR - 1) / MR * MR;
        float *a = aligned_alloc(64, sizeof(float) * (size_t)mp * p->kc);
        float *b = aligned_alloc(64, sizeof(float) * (size_t)NR * p->kc);
        float *c = aligned_alloc(64, sizeof(float) * (size_t)mp * NR);
        if (!a || !b || !c) {
            fprintf(stderr, "kernel_bench: out of memory\n");
            return 1;
        }
        /* values in [-0.5, 0.5): C takes a random walk, far from overflow
         * and from subnormals */
        fill(a, (size_t)mp * p->kc, 1);
        fill(b, (size_t)NR * p->kc, 2);
        memset(c, 0, sizeof(float) * (size_t)mp * NR);
        double share[99];
        for (int r = 0; r < rounds; r++) {
            double peak = vgg_fma_peak(1, seconds);
            share[r] = run(p, a, b, c, seconds) / peak;
        }
        const double med = median_of(share, rounds, 0); /* sorts share */
        printf("%-54s %6d %9d %5.0f%% %4.0f-%.0f%%\n", p->what, p->M, p->kc,
               100 * med, 100 * share[0], 100 * share[rounds - 1]);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
