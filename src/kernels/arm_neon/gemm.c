/* The ARM64 NEON (Advanced SIMD) kernel: an 8x12 micro-kernel and its
 * packers, through the seam of kernel.h (the loops around them are
 * gemm_driver.c's), for the aarch64 CPUs (Neoverse N1/V1 servers such as
 * Graviton and Ampere, Apple M-series, Cortex-A7x). Advanced SIMD is part
 * of armv8-a, so the file needs no target flags; neon_supported() still
 * asks the kernel (HWCAP_ASIMD), as the x86 kernels ask CPUID.
 *
 * The 8x12 tile holds 24 q-register accumulators of the 32: each k step
 * loads 8 floats of A (2 registers) and 12 of B (3) and does 24 FMAs by
 * element (fmla v.4s, b.4s, a.s[i]), so A needs no broadcast and 29
 * registers stay live without a spill; 24 independent FMAs cover 2 to 4
 * FMA pipes of latency 4 (BLIS's and OpenBLAS's armv8 sgemm tiles are
 * 8x12 too). Edges are zero-padded in the packed buffers; partial C tiles
 * go through a tile on the stack, so that no lane outside C is touched.
 *
 * NEON has no masked load: the implicit-im2col packers load 4 pixels and
 * clear the lanes whose tap leaves its image with an AND, where the 4
 * loaded floats lie inside their channel of x, and gather lane by lane
 * at the two ends of a channel, where a whole load could leave x. */
#include <arm_neon.h>
#include <stdint.h>
#include <sys/auxv.h>

#include "kernels/kernel.h"

#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1) /* <asm/hwcap.h> on aarch64 Linux */
#endif

static int neon_supported(void) {
    return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
}

#define MR 8
#define NV 3
#define NR (4 * NV)

static inline int imin(int a, int b) { return a < b ? a : b; }

/* ---- micro-kernel ------------------------------------------------------ */

/* Writes the accumulators acc[MR][NV] to the full tile c: alpha * acc,
 * then + C (beta 1) or beta * C + that, fused (beta otherwise); beta 0
 * does not read C. */
static inline __attribute__((always_inline)) void
store_tile(const float32x4_t *acc, float *c, long ldc, float alpha,
           float beta) {
    const float32x4_t va = vdupq_n_f32(alpha), vb = vdupq_n_f32(beta);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
#pragma GCC unroll 3
        for (int j = 0; j < NV; j++) {
            float32x4_t r = acc[i * NV + j];
            if (alpha != 1.0f) r = vmulq_f32(va, r);
            if (beta == 1.0f)
                r = vaddq_f32(r, vld1q_f32(ci + 4 * j));
            else if (beta != 0.0f)
                r = vfmaq_f32(r, vb, vld1q_f32(ci + 4 * j));
            vst1q_f32(ci + 4 * j, r);
        }
    }
}

/* One row of the tile: acc[row][0..2] += b[0..2] * a.s[lane]. */
#define ROW_FMA(row, av, lane)                                                 \
    do {                                                                       \
        acc[3 * (row)] = vfmaq_laneq_f32(acc[3 * (row)], b0, av, lane);        \
        acc[3 * (row) + 1] =                                                   \
            vfmaq_laneq_f32(acc[3 * (row) + 1], b1, av, lane);                 \
        acc[3 * (row) + 2] =                                                   \
            vfmaq_laneq_f32(acc[3 * (row) + 2], b2, av, lane);                 \
    } while (0)

/* C[mr][nr] = alpha * a.b + beta * C over a packed A micro-panel [kc][MR]
 * and B micro-panel [kc][NR]: one chain of kc terms per element (the
 * driver cuts the depth into chunks). */
static void neon_ukernel(long kc, const float *restrict a,
                         const float *restrict b, float *restrict c, long ldc,
                         int mr, int nr, float alpha, float beta) {
    float32x4_t acc[MR * NV];
#pragma GCC unroll 24
    for (int i = 0; i < MR * NV; i++) acc[i] = vdupq_n_f32(0.0f);
#pragma GCC unroll 2
    for (long p = 0; p < kc; p++) {
        const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4),
                          b2 = vld1q_f32(b + 8);
        ROW_FMA(0, a0, 0);
        ROW_FMA(1, a0, 1);
        ROW_FMA(2, a0, 2);
        ROW_FMA(3, a0, 3);
        ROW_FMA(4, a1, 0);
        ROW_FMA(5, a1, 1);
        ROW_FMA(6, a1, 2);
        ROW_FMA(7, a1, 3);
        a += MR;
        b += NR;
    }
    if (mr == MR && nr == NR) {
        store_tile(acc, c, ldc, alpha, beta);
        return;
    }
    /* a partial tile: through a full one on the stack, the same arithmetic */
    float t[MR * NR] = {0};
    if (beta != 0.0f)
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) t[i * NR + j] = c[i * ldc + j];
    store_tile(acc, t, NR, alpha, beta);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) c[i * ldc + j] = t[i * NR + j];
}

/* ---- packing ----------------------------------------------------------- */

/* r[0..3] <- its transpose (r[i] lane j becomes r[j] lane i). */
static inline void transpose4(float32x4_t r[4]) {
    const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(
        vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(
        vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(
        vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(
        vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

/* X[i][p] = x[i*ldx + p] (the depth runs along memory) into micro-panels
 * of W rows, out[panel][p][W], zero past `rows`: op(A) with transa 0
 * (W = MR) and op(B) with transb 1 (W = NR). Four rows by four depth
 * steps at a time, transposed in registers. */
static void pack_kmajor(float *restrict out, const float *x, long ldx, int rows,
                        int kc, int W) {
    for (int i0 = 0; i0 < rows; i0 += W) {
        float *panel = out + (long)i0 * kc;
        const int nrow = imin(W, rows - i0);
        int p = 0;
        if (W % 4 == 0)
            for (; p + 4 <= kc; p += 4)
                for (int g = 0; g < W; g += 4) {
                    float32x4_t r[4];
                    for (int i = 0; i < 4; i++)
                        r[i] = g + i < nrow
                                   ? vld1q_f32(x + (long)(i0 + g + i) * ldx + p)
                                   : vdupq_n_f32(0.0f);
                    transpose4(r);
                    for (int q = 0; q < 4; q++)
                        vst1q_f32(panel + (long)(p + q) * W + g, r[q]);
                }
        for (; p < kc; p++)
            for (int i = 0; i < W; i++)
                panel[(long)p * W + i] =
                    i < nrow ? x[(long)(i0 + i) * ldx + p] : 0.0f;
    }
}

/* X[i][p] = x[p*ldx + i] (rows run along memory) into micro-panels of W
 * rows: op(A) with transa 1 (W = MR) and op(B) with transb 0 (W = NR).
 * Row p of x is read once, front to back, into every panel. */
static void pack_imajor(float *restrict out, const float *x, long ldx, int rows,
                        int kc, int W) {
    const int full = rows / W, rem = rows - full * W;
    const long pstride = (long)kc * W;
    for (int p = 0; p < kc; p++) {
        const float *src = x + (long)p * ldx;
        float *dst = out + (long)p * W;
        if (W % 4 == 0)
            for (int i = 0; i < full; i++)
                for (int l = 0; l < W; l += 4)
                    vst1q_f32(dst + i * pstride + l,
                              vld1q_f32(src + i * W + l));
        else
            for (int i = 0; i < full; i++)
                for (int l = 0; l < W; l++)
                    dst[i * pstride + l] = src[i * W + l];
        for (int l = 0; l < W && rem; l++)
            dst[full * pstride + l] = l < rem ? src[full * W + l] : 0.0f;
    }
}

/* ---- implicit im2col ------------------------------------------------------
 * op(B) is the im2col matrix of x[C][N*H*W] (see vgg_im2col_src), never
 * formed: col[c*9 + t][j] = x[c*NHW + j + s_t] with s_t = dy*W + dx for tap
 * t = 3*(dy+1) + (dx+1), where pixel j shifted by (dy, dx) stays inside its
 * image, else 0. Four consecutive j are one load of x and an AND with the
 * tap's lane mask, whatever H and W: the mask depends only on the tap and
 * on where the 4 pixels fall in their images. */

/* The nine tap masks of pixels j0..j0+3 as lane bits; lanes at or past
 * jend are 0. */
static void tap_bits(unsigned m[9], long j0, long jend, int H, int W) {
    unsigned left = 0, right = 0, top = 0, bottom = 0, in = 0;
    long j = j0;
    int x = (int)(j0 % W), y = (int)((j0 / W) % H);
    for (int l = 0; l < 4; l++, j++) {
        if (j < jend) {
            in |= 1u << l;
            if (x > 0) left |= 1u << l;       /* dx = -1 stays inside */
            if (x < W - 1) right |= 1u << l;  /* dx = +1 */
            if (y > 0) top |= 1u << l;        /* dy = -1 */
            if (y < H - 1) bottom |= 1u << l; /* dy = +1 */
        }
        if (++x == W) {
            x = 0;
            if (++y == H) y = 0;
        }
    }
    const unsigned row[3] = {top & in, in, bottom & in};
    const unsigned col[3] = {left, ~0u, right};
    for (int t = 0; t < 9; t++) m[t] = row[t / 3] & col[t % 3];
}

static inline uint32x4_t bits_mask(unsigned bits) {
    static const uint32_t lane_bit[4] = {1, 2, 4, 8};
    const uint32x4_t lane = vld1q_u32(lane_bit);
    return vtstq_u32(vdupq_n_u32(bits), lane);
}

/* Four floats of channel data xc (M of them) from index q on, the lanes
 * outside `bits` zero: one load and an AND where q..q+3 are inside the
 * channel (`whole`), else lane by lane (the loads that would leave it are
 * the ones the mask clears). */
static inline float32x4_t load_masked(const float *xc, long q, long M,
                                      uint32x4_t mask, unsigned bits,
                                      int whole) {
    if (whole)
        return vreinterpretq_f32_u32(
            vandq_u32(vreinterpretq_u32_f32(vld1q_f32(xc + q)), mask));
    float v[4];
    for (int l = 0; l < 4; l++)
        v[l] = (bits >> l & 1u) && q + l >= 0 && q + l < M ? xc[q + l] : 0.0f;
    return vld1q_f32(v);
}

/* op(B) = col (transb 0): B[p][i] = col[pc + p][j0 + i], i < cols, packed
 * into NR-column micro-panels out[panel][p][NR]. A channel's nine rows are
 * one unrolled step, tap offsets and masks constant in it. */
static void pack_im2col_cols(float *restrict out, const vgg_im2col_src *s,
                             long j0, int cols, long pc, int kc) {
    const long M = (long)s->N * s->H * s->W;
    const int W = s->W;
    long off[9];
    for (int t = 0; t < 9; t++) off[t] = (t / 3 - 1) * W + (t % 3 - 1);
    for (int i0 = 0; i0 < cols; i0 += NR) {
        float *panel = out + (long)i0 * kc;
        uint32x4_t m[9][NV];
        unsigned bits[9][NV];
        int whole[9][NV];
        for (int v = 0; v < NV; v++) {
            unsigned b[9];
            long a = j0 + i0 + 4 * v;
            long e = j0 + imin(cols, i0 + 4 * v + 4);
            tap_bits(b, a, e > a ? e : a, s->H, W);
            for (int t = 0; t < 9; t++) {
                const long q = a + off[t];
                m[t][v] = bits_mask(b[t]);
                bits[t][v] = b[t];
                whole[t][v] = q >= 0 && q + 4 <= M;
            }
        }
        const long jq = j0 + i0;
#define ROW(dst, xch, t)                                                       \
    do {                                                                       \
        for (int v_ = 0; v_ < NV; v_++)                                        \
            vst1q_f32((dst) + 4 * v_,                                          \
                      load_masked((xch), jq + 4 * v_ + off[t], M, m[t][v_],    \
                                  bits[t][v_], whole[t][v_]));                 \
    } while (0)
        int p = 0, c = (int)(pc / 9), t = (int)(pc % 9);
        if (t) { /* the depth block starts mid-channel */
            for (; t < 9 && p < kc; t++, p++)
                ROW(panel + (long)p * NR, s->x + c * M, t);
            c++;
        }
        for (; p + 9 <= kc; p += 9, c++) {
            const float *xc = s->x + c * M;
            float *d = panel + (long)p * NR;
            __builtin_prefetch(xc + jq + NR + W + 1, 0, 2);
#pragma GCC unroll 9
            for (int tt = 0; tt < 9; tt++) ROW(d + tt * NR, xc, tt);
        }
        for (t = 0; p < kc; t++, p++)
            ROW(panel + (long)p * NR, s->x + c * M, t);
#undef ROW
    }
}

/* op(B) = col^T (transb 1): B[p][i] = col[r0 + i][pc + p], i < rows, packed
 * into NR-column micro-panels: four pixels of four rows at a time,
 * transposed in registers. Each row's channel and tap are worked out once
 * per panel. */
static void pack_im2col_rows(float *restrict out, const vgg_im2col_src *s,
                             long r0, int rows, long pc, int kc) {
    const long M = (long)s->N * s->H * s->W;
    const long jend = pc + kc;
    for (int i0 = 0; i0 < rows; i0 += NR) {
        float *panel = out + (long)i0 * kc;
        const int nr = imin(NR, rows - i0);
        const float *xc[NR];
        long sh[NR];
        int tap[NR];
        for (int i = 0; i < nr; i++) {
            long rr = r0 + i0 + i;
            int t = (int)(rr % 9);
            tap[i] = t;
            xc[i] = s->x + (rr / 9) * M;
            sh[i] = (t / 3 - 1) * s->W + (t % 3 - 1);
        }
        for (int p = 0; p < kc; p += 4) {
            unsigned bits[9];
            tap_bits(bits, pc + p, jend, s->H, s->W);
            uint32x4_t m[9];
            for (int t = 0; t < 9; t++) m[t] = bits_mask(bits[t]);
            const int np = imin(4, kc - p);
            for (int g = 0; g < NR; g += 4) {
                float32x4_t r[4];
                for (int i = 0; i < 4; i++) {
                    const int ii = g + i;
                    if (ii >= nr) {
                        r[i] = vdupq_n_f32(0.0f);
                        continue;
                    }
                    const long q = pc + p + sh[ii];
                    r[i] = load_masked(xc[ii], q, M, m[tap[ii]], bits[tap[ii]],
                                       q >= 0 && q + 4 <= M);
                }
                transpose4(r);
                for (int q = 0; q < np; q++)
                    vst1q_f32(panel + (long)(p + q) * NR + g, r[q]);
            }
        }
    }
}

/* The table entry (kernel_table.c lists it). Blocking as the AVX kernels'
 * (gemm_driver.c): order 0 holds a B micro-panel [1200][12] (56 KiB) in
 * L1/L2 and makes every VGG layer (M <= 512) one row block; order 1 a B
 * block [256][516] (516 KiB) in a 1 MiB L2. Not measured on ARM
 * hardware: docs/kernels.md. The nominal FLOP per cycle is Neoverse N1's
 * and Cortex-A76's (2 FMA pipes x 4 lanes x 2); V1, V2 and Apple's cores
 * have 4 pipes, twice that. */
float vgg_fma_loop_neon(double seconds, uint64_t *iters);

const vgg_kernel vgg_kernel_neon = {
    .name = "neon",
    .supported = neon_supported,
    .mr = MR,
    .nr = NR,
    .vec = 4,
    .blk = {{1200, 512, 3072}, {256, 384, 516}},
    .ukernel = neon_ukernel,
    .pack_kmajor = pack_kmajor,
    .pack_imajor = pack_imajor,
    .pack_im2col_cols = pack_im2col_cols,
    .pack_im2col_rows = pack_im2col_rows,
    .fma_loop = vgg_fma_loop_neon,
    .flops_per_step = 16 * 4 * 2,
    .flops_per_cycle = 2 * 4 * 2,
};
