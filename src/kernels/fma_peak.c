/* The machine's FMA peak, measured: a loop of independent fused
 * multiply-adds on the widest vectors the CPU has, on n threads at once.
 * Benchmarks quote their GEMM rate as a share of this figure, measured in
 * the same run, because the machines here change speed from minute to
 * minute (shared hosts, turbo): a fixed nominal peak would mislead. */
#include <stdint.h>

#include "vgg/gemm.h"
#include "vgg/profile.h"
#include "gemm_avx512.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Sixteen independent accumulator chains: enough to cover FMA latency
 * (4 cycles) times two FMA pipes with room to spare. Written out, not as
 * an array, so the compiler keeps them in registers at any -O. */
#define FMA16(fma, v, b, c)                                                    \
    v##0 = fma(v##0, b, c), v##1 = fma(v##1, b, c), v##2 = fma(v##2, b, c),    \
    v##3 = fma(v##3, b, c), v##4 = fma(v##4, b, c), v##5 = fma(v##5, b, c),    \
    v##6 = fma(v##6, b, c), v##7 = fma(v##7, b, c), v##8 = fma(v##8, b, c),    \
    v##9 = fma(v##9, b, c), v##a = fma(v##a, b, c), v##b = fma(v##b, b, c),    \
    v##c = fma(v##c, b, c), v##d = fma(v##d, b, c), v##e = fma(v##e, b, c),    \
    v##f = fma(v##f, b, c)
#define SUM16(add, v)                                                          \
    add(add(add(add(v##0, v##1), add(v##2, v##3)),                             \
            add(add(v##4, v##5), add(v##6, v##7))),                            \
        add(add(add(v##8, v##9), add(v##a, v##b)),                             \
            add(add(v##c, v##d), add(v##e, v##f))))
/* Distinct starting values: sixteen identical chains would be one chain
 * to the compiler. */
#define DECL16(type, v, set1)                                                  \
    type v##0 = set1(1.00f), v##1 = set1(1.01f), v##2 = set1(1.02f),           \
         v##3 = set1(1.03f), v##4 = set1(1.04f), v##5 = set1(1.05f),           \
         v##6 = set1(1.06f), v##7 = set1(1.07f), v##8 = set1(1.08f),           \
         v##9 = set1(1.09f), v##a = set1(1.10f), v##b = set1(1.11f),           \
         v##c = set1(1.12f), v##d = set1(1.13f), v##e = set1(1.14f),           \
         v##f = set1(1.15f)

#define CHUNK 4096 /* iterations between clock reads */

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

/* One timed loop per vector width; returns lane 0 of the chains' sum so
 * the work has a result to keep. */
#define DEFINE_RUN(name, isa, type, set1, fma, add, lane0)                  \
    __attribute__((target(isa))) static float name(double seconds,          \
                                                      uint64_t *iters) {       \
        DECL16(type, v, set1);                                                 \
        const type b = set1(0.999999f), c = set1(1e-6f);                       \
        uint64_t n = 0;                                                        \
        const double end = vgg_now() + seconds;                                \
        do {                                                                   \
            for (int i = 0; i < CHUNK; i++) FMA16(fma, v, b, c);               \
            n += CHUNK;                                                        \
        } while (vgg_now() < end);                                             \
        *iters = n;                                                            \
        return lane0(SUM16(add, v));                                           \
    }
DEFINE_RUN(run_avx512, "avx512f,fma", __m512, _mm512_set1_ps, _mm512_fmadd_ps,
           _mm512_add_ps, _mm512_cvtss_f32)
DEFINE_RUN(run_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps,
           _mm256_add_ps, _mm256_cvtss_f32)

static int vector_floats(void) {
    __builtin_cpu_init();
    if (vgg_gemm_avx512_supported()) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
    return 0;
}
#else
static int vector_floats(void) { return 0; }
#endif

int vgg_fma_peak_width(void) { return vector_floats(); }

/* Sinks the sums so the loops are not optimised away. */
static volatile float sink;

double vgg_fma_peak(int nthreads, double seconds) {
    const int w = vector_floats();
    if (w == 0 || seconds <= 0.0) return 0.0;
    if (nthreads < 1) nthreads = 1;
    uint64_t total = 0;
    float sum = 0.0f;
    double t0 = vgg_now();
#ifdef _OPENMP
#pragma omp parallel num_threads(nthreads) reduction(+ : total, sum) if (nthreads > 1)
#endif
    {
        uint64_t n = 0;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        sum += w == 16 ? run_avx512(seconds, &n) : run_avx2(seconds, &n);
#endif
        total += n;
    }
    sink = sum;
    double dt = vgg_now() - t0;
    /* 16 chains x w lanes x 2 FLOP per iteration */
    return dt > 0.0 ? (double)total * 16.0 * w * 2.0 / dt / 1e9 : 0.0;
}
