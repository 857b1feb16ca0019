/* The AVX2+FMA kernel: a 6x16 micro-kernel and its packers, through the
 * seam of kernel.h (the loops around them are gemm_driver.c's), for the
 * x86-64 CPUs without AVX-512 (Intel's Haswell to Alder Lake, AMD's Zen 1
 * to 3). Compiled with -mavx2 -mfma -mno-avx512f (CMakeLists.txt): nothing
 * here may run before avx2_supported() says 1, and nothing here needs
 * AVX-512.
 *
 * The 6x16 tile holds 12 ymm accumulators (of the 16 ymm registers: 2
 * more hold a row of B, 1 the broadcast of A); each k step is 2 loads of
 * B, 6 broadcasts of A and 12 FMAs, enough independent FMAs in flight for
 * two FMA pipes of latency 4 to 5 (BLIS's haswell sgemm is 6x16 too).
 * Edges are zero-padded in the packed buffers; partial C tiles are stored
 * with masks (vmaskmovps), by a kernel no wider than the tile. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/kernel.h"

/* CPUID and XCR0 (libgcc's __builtin_cpu_supports reads both: the OS must
 * save the ymm registers). */
static int avx2_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define MR 6
#define NV 2
#define NR (8 * NV)

static inline int imin(int a, int b) { return a < b ? a : b; }

/* The lanes below n (0..8) of a vector, as vmaskmovps wants them. */
static inline __m256i lane_mask(int n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
}

/* ---- micro-kernel ------------------------------------------------------ */

/* Writes the accumulators acc[MR][nv] to C (mr rows, the last vector's
 * lanes under `last`): alpha * acc, then + C (beta 1) or
 * beta * C + that, fused (beta otherwise); beta 0 does not read C. */
static inline __attribute__((always_inline)) void
store_tile(const __m256 *acc, int nv, float *c, long ldc, int mr, int full,
           __m256i last, float alpha, float beta) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *ci = c + i * ldc;
#pragma GCC unroll 4
        for (int j = 0; j < nv; j++) {
            const int whole = full || j < nv - 1;
            __m256 r = acc[i * nv + j];
            if (alpha != 1.0f) r = _mm256_mul_ps(va, r);
            if (beta != 0.0f) {
                __m256 cv = whole ? _mm256_loadu_ps(ci + 8 * j)
                                  : _mm256_maskload_ps(ci + 8 * j, last);
                r = beta == 1.0f ? _mm256_add_ps(r, cv)
                                 : _mm256_fmadd_ps(vb, cv, r);
            }
            if (whole)
                _mm256_storeu_ps(ci + 8 * j, r);
            else
                _mm256_maskstore_ps(ci + 8 * j, last, r);
        }
    }
}

/* C[mr][nr] (nr <= 8*NVX) = alpha * a.b + beta * C over a packed A
 * micro-panel [kc][MR] and B micro-panel [kc][NR] of which the first NVX
 * vectors are used: one chain of kc terms per element. */
#define DEFINE_KERNEL(NVX)                                                     \
    static void kernel_nv##NVX(long kc, const float *restrict a,               \
                               const float *restrict b, float *restrict c,     \
                               long ldc, int mr, int nr, float alpha,          \
                               float beta) {                                   \
        __m256 acc[MR][NVX];                                                   \
        _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++)                   \
            _Pragma("GCC unroll 4") for (int j = 0; j < NVX; j++) acc[i][j] =  \
                _mm256_setzero_ps();                                           \
        _Pragma("GCC unroll 4") for (long p = 0; p < kc; p++) {                \
            __m256 bv[NVX];                                                    \
            _Pragma("GCC unroll 4") for (int j = 0; j < NVX; j++) bv[j] =      \
                _mm256_load_ps(b + 8 * j);                                     \
            _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++) {             \
                __m256 av = _mm256_broadcast_ss(a + i);                        \
                _Pragma("GCC unroll 4") for (int j = 0; j < NVX; j++)          \
                    acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]);         \
            }                                                                  \
            a += MR;                                                           \
            b += NR;                                                           \
        }                                                                      \
        const int full = nr == 8 * NVX;                                        \
        store_tile(&acc[0][0], NVX, c, ldc, mr, full,                          \
                   lane_mask(nr - 8 * (NVX - 1)), alpha, beta);                \
    }

DEFINE_KERNEL(1)
DEFINE_KERNEL(2)

static void avx2_ukernel(long kc, const float *a, const float *b, float *c,
                         long ldc, int mr, int nr, float alpha, float beta) {
    if (nr > 8)
        kernel_nv2(kc, a, b, c, ldc, mr, nr, alpha, beta);
    else
        kernel_nv1(kc, a, b, c, ldc, mr, nr, alpha, beta);
}

/* ---- packing ----------------------------------------------------------- */

/* r[0..7] <- its transpose (r[i] lane j becomes r[j] lane i). */
static inline void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int k = 0; k < 4; k++) {
        r[k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x20);
        r[4 + k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x31);
    }
}

/* X[i][p] = x[i*ldx + p] (the depth runs along memory) into micro-panels
 * of W rows, out[panel][p][W], zero past `rows`: op(A) with transa 0
 * (W = MR) and op(B) with transb 1 (W = NR). Eight rows by eight depth
 * steps at a time, transposed in registers, where they are whole. */
static void pack_kmajor(float *restrict out, const float *x, long ldx, int rows,
                        int kc, int W) {
    for (int i0 = 0; i0 < rows; i0 += W) {
        float *panel = out + (long)i0 * kc;
        const int nrow = imin(W, rows - i0);
        int p = 0;
        if (W % 8 == 0)
            for (; p + 8 <= kc; p += 8)
                for (int g = 0; g < W; g += 8) {
                    __m256 r[8];
                    for (int i = 0; i < 8; i++)
                        r[i] = g + i < nrow
                                   ? _mm256_loadu_ps(
                                         x + (long)(i0 + g + i) * ldx + p)
                                   : _mm256_setzero_ps();
                    transpose8(r);
                    for (int q = 0; q < 8; q++)
                        _mm256_storeu_ps(panel + (long)(p + q) * W + g, r[q]);
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
        if (W == NR)
            for (int i = 0; i < full; i++) {
                _mm256_storeu_ps(dst + i * pstride,
                                 _mm256_loadu_ps(src + i * W));
                _mm256_storeu_ps(dst + i * pstride + 8,
                                 _mm256_loadu_ps(src + i * W + 8));
            }
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
 * image, else 0. Eight consecutive j are one masked load (vmaskmovps) of
 * x, whatever H and W: the mask depends only on the tap and on where the
 * 8 pixels fall in their images. Masked-off lanes are not read, so loads
 * that would fall outside x are harmless. */

/* The nine tap masks of pixels j0..j0+7 as lane bits; lanes at or past
 * jend are 0. */
static void tap_bits(unsigned m[9], long j0, long jend, int H, int W) {
    unsigned left = 0, right = 0, top = 0, bottom = 0, in = 0;
    long j = j0;
    int x = (int)(j0 % W), y = (int)((j0 / W) % H);
    for (int l = 0; l < 8; l++, j++) {
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

static inline __m256i bits_mask(unsigned bits) {
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(
        _mm256_and_si256(_mm256_set1_epi32((int)bits), lane), lane);
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
        __m256i m[9][NV];
        for (int v = 0; v < NV; v++) {
            unsigned bits[9];
            long a = j0 + i0 + 8 * v;
            long e = j0 + imin(cols, i0 + 8 * v + 8);
            tap_bits(bits, a, e > a ? e : a, s->H, W);
            for (int t = 0; t < 9; t++) m[t][v] = bits_mask(bits[t]);
        }
        const float *xc = s->x + j0 + i0;
        int p = 0, c = (int)(pc / 9), t = (int)(pc % 9);
#define ROW(dst, src, mt)                                                      \
    do {                                                                       \
        _mm256_store_ps((dst), _mm256_maskload_ps((src), (mt)[0]));            \
        _mm256_store_ps((dst) + 8, _mm256_maskload_ps((src) + 8, (mt)[1]));    \
    } while (0)
        /* the next panel's new lines of a channel (its taps reach W + 1
         * past it), as the AVX-512 packer does */
#define PREFETCH_NEXT(c)                                                       \
    _mm_prefetch((const char *)(xc + (long)(c)*M + NR + W + 1), _MM_HINT_T1)
        if (t) { /* the depth block starts mid-channel */
            PREFETCH_NEXT(c);
            for (; t < 9 && p < kc; t++, p++)
                ROW(panel + (long)p * NR, xc + c * M + off[t], m[t]);
            c++;
        }
        for (; p + 9 <= kc; p += 9, c++) {
            const float *x = xc + c * M;
            float *d = panel + (long)p * NR;
            PREFETCH_NEXT(c);
#pragma GCC unroll 9
            for (int tt = 0; tt < 9; tt++) ROW(d + tt * NR, x + off[tt], m[tt]);
        }
        if (p < kc) PREFETCH_NEXT(c);
        for (t = 0; p < kc; t++, p++)
            ROW(panel + (long)p * NR, xc + c * M + off[t], m[t]);
#undef ROW
#undef PREFETCH_NEXT
    }
}

/* op(B) = col^T (transb 1): B[p][i] = col[r0 + i][pc + p], i < rows, packed
 * into NR-column micro-panels: eight pixels of eight rows at a time,
 * transposed in registers. Each row's source offset and tap are worked out
 * once per panel. */
static void pack_im2col_rows(float *restrict out, const vgg_im2col_src *s,
                             long r0, int rows, long pc, int kc) {
    const long M = (long)s->N * s->H * s->W;
    const long jend = pc + kc;
    for (int i0 = 0; i0 < rows; i0 += NR) {
        float *panel = out + (long)i0 * kc;
        const int nr = imin(NR, rows - i0);
        long off[NR];
        int tap[NR];
        for (int i = 0; i < nr; i++) {
            long rr = r0 + i0 + i;
            int c = (int)(rr / 9), t = (int)(rr % 9);
            tap[i] = t;
            off[i] = (long)c * M + pc + (t / 3 - 1) * s->W + (t % 3 - 1);
        }
        for (int p = 0; p < kc; p += 8) {
            unsigned bits[9];
            tap_bits(bits, pc + p, jend, s->H, s->W);
            __m256i m[9];
            for (int t = 0; t < 9; t++) m[t] = bits_mask(bits[t]);
            const int np = imin(8, kc - p);
            for (int g = 0; g < NR; g += 8) {
                __m256 r[8];
                for (int i = 0; i < 8; i++)
                    r[i] = g + i < nr
                               ? _mm256_maskload_ps(s->x + off[g + i] + p,
                                                    m[tap[g + i]])
                               : _mm256_setzero_ps();
                transpose8(r);
                for (int q = 0; q < np; q++)
                    _mm256_store_ps(panel + (long)(p + q) * NR + g, r[q]);
            }
        }
    }
}

/* The table entry (kernel_table.c lists it). */
float vgg_fma_loop_avx2(double seconds, uint64_t *iters);
extern const vgg_bn_rows vgg_bn_rows_avx2;

const vgg_kernel vgg_kernel_avx2 = {
    .name = "avx2",
    .supported = avx2_supported,
    .mr = MR,
    .nr = NR,
    .vec = 8,
    .blk = {{1200, 516, 3072}, {256, 384, 512}},
    .ukernel = avx2_ukernel,
    .pack_kmajor = pack_kmajor,
    .pack_imajor = pack_imajor,
    .pack_im2col_cols = pack_im2col_cols,
    .pack_im2col_rows = pack_im2col_rows,
    .bn = &vgg_bn_rows_avx2,
    .fma_loop = vgg_fma_loop_avx2,
    .flops_per_step = 12 * 8 * 2,
    .flops_per_cycle = 2 * 8 * 2,
};
