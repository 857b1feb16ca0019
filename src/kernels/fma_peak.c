/* The arithmetic peak, measured: the kernel in use's FMA loop
 * (fma_loop.h, instantiated in its folder) on n threads at once, and the
 * core clock, from a chain of dependent integer adds (one cycle each on
 * every core we know). Benchmarks quote their GEMM rate as a share of the
 * peak measured in the same run, because the machines here change speed
 * from minute to minute (shared hosts, turbo): a fixed nominal peak would
 * mislead. The peak over the clock is the FLOP per cycle the loop
 * reached, which must come out at the kernel's nominal figure
 * (flops_per_cycle: FMA pipes x lanes x 2) for the probe to be right. */
#include <stdint.h>

#include "kernel.h"
#include "vgg/gemm.h"
#include "vgg/profile.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* The kernel whose peak the shares divide by: the GEMM's, or for
 * OpenBLAS the best this CPU has. */
static const vgg_kernel *probe_kernel(void) { return vgg_kernel_ops(); }

int vgg_fma_peak_width(void) {
    const vgg_kernel *k = probe_kernel();
    return k->fma_loop ? k->vec : 0;
}

int vgg_fma_flops_per_cycle(void) {
    const vgg_kernel *k = probe_kernel();
    return k->fma_loop ? k->flops_per_cycle : 0;
}

/* Sinks the sums so the loops are not optimised away. */
static volatile float sink;

double vgg_fma_peak(int nthreads, double seconds) {
    const vgg_kernel *k = probe_kernel();
    if (!k->fma_loop || seconds <= 0.0) return 0.0;
    if (nthreads < 1) nthreads = 1;
    uint64_t total = 0;
    float sum = 0.0f;
    double t0 = vgg_now();
#ifdef _OPENMP
#pragma omp parallel num_threads(nthreads) reduction(+ : total, sum) if (nthreads > 1)
#endif
    {
        uint64_t n = 0;
        sum += k->fma_loop(seconds, &n);
        total += n;
    }
    sink = sum;
    double dt = vgg_now() - t0;
    return dt > 0.0 ? (double)total * k->flops_per_step / dt / 1e9 : 0.0;
}

/* 64 dependent adds a step: the empty asm makes each add wait for the one
 * before (the compiler cannot fold them), and the loop's own counter runs
 * beside the chain, so a step takes 64 cycles. */
#define ADD8(x)                                                                \
    x += 1;                                                                    \
    __asm__ volatile("" : "+r"(x));                                            \
    x += 1;                                                                    \
    __asm__ volatile("" : "+r"(x));                                            \
    x += 1;                                                                    \
    __asm__ volatile("" : "+r"(x));                                            \
    x += 1;                                                                    \
    __asm__ volatile("" : "+r"(x));                                            \
    x += 1;                                                                    \
    __asm__ volatile("" : "+r"(x));                                            \
    x += 1;                                                                    \
    __asm__ volatile("" : "+r"(x));                                            \
    x += 1;                                                                    \
    __asm__ volatile("" : "+r"(x));                                            \
    x += 1;                                                                    \
    __asm__ volatile("" : "+r"(x))

/* Cycles (dependent adds) run in about `seconds`; *dt the time taken. */
static double count_cycles(double seconds, double *dt) {
    uint64_t x = 0, steps = 0;
    const double t0 = vgg_now(), end = t0 + seconds;
    double t;
    do {
        for (int i = 0; i < 1024; i++) {
            ADD8(x);
            ADD8(x);
            ADD8(x);
            ADD8(x);
            ADD8(x);
            ADD8(x);
            ADD8(x);
            ADD8(x);
        }
        steps += 1024;
    } while ((t = vgg_now()) < end);
    sink = (float)x;
    *dt = t - t0;
    return (double)steps * 64.0;
}

double vgg_clock_ghz(double seconds) {
    if (seconds <= 0.0) return 0.0;
    double dt, cycles = count_cycles(seconds, &dt);
    return dt > 0.0 ? cycles / dt / 1e9 : 0.0;
}

double vgg_fma_flop_per_cycle(double seconds) {
    const vgg_kernel *k = probe_kernel();
    if (!k->fma_loop || seconds <= 0.0) return 0.0;
    /* Short turns of each, alternated, and the fastest turn of each: on a
     * host that time-slices the core among other work, a turn that lost
     * the core reads slow, and the fastest is the nearest to the core's
     * own rate (the mean of the turns read 0.5x to 2.5x the nominal
     * figure under a load of 8 on 2 cores). */
    const int turns = 40;
    double best_flops = 0.0, best_hz = 0.0;
    for (int i = 0; i < turns; i++) {
        uint64_t n = 0;
        double t0 = vgg_now(), dt;
        sink += k->fma_loop(seconds / (2 * turns), &n);
        dt = vgg_now() - t0;
        if (dt > 0.0 && n * k->flops_per_step / dt > best_flops)
            best_flops = n * k->flops_per_step / dt;
        double cycles = count_cycles(seconds / (2 * turns), &dt);
        if (dt > 0.0 && cycles / dt > best_hz) best_hz = cycles / dt;
    }
    return best_hz > 0.0 ? best_flops / best_hz : 0.0;
}
