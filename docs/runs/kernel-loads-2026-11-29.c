/* Where the 6x64 kernel loses on the Intel machine (docs/gemm.md, "Intel,
 * fourth session of 2026-11-29"): variants of its loop on one core, B in
 * L1 or L2 (kc from argv[1], default 128), each timed alternately with the
 * FMA loop; medians of 11. Variants: the full loop; B kept in registers
 * (no B loads); B loaded from the same four lines every step; A broadcast
 * from the same address every step. ("no bcast" variants were dropped: 34
 * registers, they spilled.) Build as scripts/kernel-bench builds
 * kernel_bench.c, with -include scripts/bench_conv.h. */
#include "gemm_avx512.c"
#include <stdio.h>
#include "vgg/gemm.h"
#include "vgg/profile.h"

static long KC = 128;
/* variant: 0 full (4 B loads + 6 bcast), 1 no B loads (B in regs), 2 no bcast (A in regs),
 * 3 no loads, 4 full with A bcast as embedded {1to16} operand (GCC decides) */
#define BODY(VAR)                                                              \
static __attribute__((noinline)) void k##VAR(long kc, const float *restrict a, \
        const float *restrict b, float *restrict c) {                          \
    __m512 acc[6][4];                                                          \
    for (int i = 0; i < 6; i++) for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps(); \
    __m512 bv[4], av6[6];                                                      \
    for (int j = 0; j < 4; j++) bv[j] = _mm512_load_ps(b + 16 * j);            \
    for (int i = 0; i < 6; i++) av6[i] = _mm512_set1_ps(a[i]);                 \
    _Pragma("GCC unroll 4") for (long p = 0; p < kc; p++) {                    \
        if (VAR != 1 && VAR != 3) {                                            \
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) bv[j] = _mm512_load_ps(b + 16 * j); \
        }                                                                      \
        _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) {                  \
            __m512 av = (VAR == 2 || VAR == 3) ? av6[i] : _mm512_set1_ps(a[i]); \
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]); \
        }                                                                      \
        if (VAR == 1 || VAR == 3) __asm__ volatile("" : "+v"(bv[0]), "+v"(bv[1]), "+v"(bv[2]), "+v"(bv[3])); \
        if (VAR == 2 || VAR == 3) __asm__ volatile("" : "+v"(av6[0]), "+v"(av6[1]), "+v"(av6[2]), "+v"(av6[3]), "+v"(av6[4]), "+v"(av6[5])); \
        if (VAR != 6) a += 6; if (VAR != 5) b += 64;                                                       \
    }                                                                          \
    store_tile(&acc[0][0], 4, c, 64, 6, 0xFFFF, 1.0f, 1.0f);                   \
}
BODY(0)
BODY(1)
BODY(2)
BODY(3)
BODY(5)
BODY(6)
typedef void (*kf)(long, const float *, const float *, float *);
static double run(kf f, const float *a, const float *b, float *c, double s) {
    long reps = 0; double t0 = vgg_now(), t;
    do { for (int r = 0; r < 100; r++) f(KC, a, b, c); reps += 100; } while ((t = vgg_now()) < t0 + s);
    return 2.0 * 6 * 64 * KC * reps / (t - t0) / 1e9;
}
int main(int argc, char **argv) {
    if (argc > 1) KC = atol(argv[1]);
    float *a = aligned_alloc(64, 4 * 6 * 4096), *b = aligned_alloc(64, 4 * 64 * 4096), *c = aligned_alloc(64, 4 * 6 * 64);
    fill(a, 6 * 4096, 1); fill(b, 64 * 4096, 2); memset(c, 0, 4 * 6 * 64);
    kf fs[6] = {k0, k1, k5, k6, k0, k1};
    const char *nm[6] = {"full (4 B loads, 6 bcast)", "no B loads", "B loads same address", "bcast same address", "full again", "no B loads again"};
    double sh[6][11];
    for (int r = 0; r < 11; r++)
        for (int v = 0; v < 6; v++) { double pk = vgg_fma_peak(1, 0.05); sh[v][r] = run(fs[v], a, b, c, 0.05) / pk; }
    for (int v = 0; v < 6; v++) printf("%-28s %5.1f%%\n", nm[v], 100 * median_of(sh[v], 11, 0));
    return 0;
}
