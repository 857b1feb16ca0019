/* The FMA peak probe's timed loop, written once for any vector type (no
 * intrinsics here: each instruction set's folder instantiates it with its
 * own, in a file compiled for it; fma_peak.c times it).
 *
 * NCHAIN independent accumulator chains v = v * b + c: a core with P FMA
 * pipes of latency L cycles needs at least P x L of them in flight (2 x 4
 * on Zen and Intel cores, 2 x 5 on Zen 3, 4 x 4 on Apple's), and all of
 * them, b and c must stay in registers: 16 chains are 18 ymm registers,
 * more than AVX2's 16, and the spills made an earlier probe read half the
 * AVX2 peak. So AVX2 takes 12 chains (14 registers), and the 32-register
 * sets (AVX-512, NEON) 16. Written out, not as an array, so that the
 * compiler keeps them in registers at any -O. */
#ifndef VGG_KERNELS_FMA_LOOP_H
#define VGG_KERNELS_FMA_LOOP_H

#include <stdint.h>

#include "vgg/profile.h"

#define VGG_FMA_CHUNK 4096 /* steps between clock reads */

#define VGG_FMA12_(fma, v, b, c)                                               \
    v##0 = fma(v##0, b, c), v##1 = fma(v##1, b, c), v##2 = fma(v##2, b, c),    \
    v##3 = fma(v##3, b, c), v##4 = fma(v##4, b, c), v##5 = fma(v##5, b, c),    \
    v##6 = fma(v##6, b, c), v##7 = fma(v##7, b, c), v##8 = fma(v##8, b, c),    \
    v##9 = fma(v##9, b, c), v##a = fma(v##a, b, c), v##b = fma(v##b, b, c)
#define VGG_FMA16_(fma, v, b, c)                                               \
    VGG_FMA12_(fma, v, b, c), v##c = fma(v##c, b, c), v##d = fma(v##d, b, c),  \
                              v##e = fma(v##e, b, c), v##f = fma(v##f, b, c)
#define VGG_SUM12_(add, v)                                                     \
    add(add(add(add(v##0, v##1), add(v##2, v##3)),                             \
            add(add(v##4, v##5), add(v##6, v##7))),                            \
        add(add(v##8, v##9), add(v##a, v##b)))
#define VGG_SUM16_(add, v)                                                     \
    add(VGG_SUM12_(add, v), add(add(v##c, v##d), add(v##e, v##f)))
/* Distinct starting values: identical chains would be one chain to the
 * compiler. */
#define VGG_DECL12_(type, v, set1)                                             \
    type v##0 = set1(1.00f), v##1 = set1(1.01f), v##2 = set1(1.02f),           \
         v##3 = set1(1.03f), v##4 = set1(1.04f), v##5 = set1(1.05f),           \
         v##6 = set1(1.06f), v##7 = set1(1.07f), v##8 = set1(1.08f),           \
         v##9 = set1(1.09f), v##a = set1(1.10f), v##b = set1(1.11f)
#define VGG_DECL16_(type, v, set1)                                             \
    VGG_DECL12_(type, v, set1), v##c = set1(1.12f), v##d = set1(1.13f),        \
                                v##e = set1(1.14f), v##f = set1(1.15f)

/* float name(double seconds, uint64_t *iters): NCHAIN (12 or 16) chains
 * of `type` until `seconds` have passed; *iters = steps made (each NCHAIN
 * FMAs of one vector); returns lane 0 of the chains' sum, so that the
 * work has a result to keep. fma(a, b, c) = a * b + c. */
#define VGG_DEFINE_FMA_LOOP(name, NCHAIN, type, set1, fma, add, lane0)         \
    float name(double seconds, uint64_t *iters) {                              \
        VGG_DECL##NCHAIN##_(type, v, set1);                                    \
        const type b = set1(0.999999f), c = set1(1e-6f);                       \
        uint64_t n = 0;                                                        \
        const double end = vgg_now() + seconds;                                \
        do {                                                                   \
            for (int i = 0; i < VGG_FMA_CHUNK; i++)                            \
                VGG_FMA##NCHAIN##_(fma, v, b, c);                              \
            n += VGG_FMA_CHUNK;                                                \
        } while (vgg_now() < end);                                             \
        *iters = n;                                                            \
        return lane0(VGG_SUM##NCHAIN##_(add, v));                              \
    }

#endif
