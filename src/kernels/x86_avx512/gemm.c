/* The AVX-512 kernel: a 6x64 micro-kernel and its packers, through the
 * seam of kernel.h (the loops around them are gemm_driver.c's). Compiled
 * with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma (CMakeLists.txt):
 * nothing here may run before avx512_supported() says 1.
 *
 * The 6x64 tile holds 24 zmm accumulators; each k step is 4 loads of B,
 * 6 broadcasts of A and 24 FMAs, which keeps both FMA pipes busy: alone, on
 * data in L1/L2, it runs at the measured FMA peak of one core.
 * Edges are zero-padded in the packed buffers; partial C tiles are stored
 * with masks, by a kernel no wider than the tile. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/kernel.h"

/* CPUID and XCR0 (libgcc's __builtin_cpu_supports reads both: the OS must
 * save the zmm and mask registers) for every extension the file is
 * compiled with. */
static int avx512_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
}

/* Micro-kernel shape: MR rows x NV zmm (NR = 16*NV columns). */
#ifndef VGG_GEMM_MR
#define VGG_GEMM_MR 6
#endif
#ifndef VGG_GEMM_NV
#define VGG_GEMM_NV 4
#endif
#define MR VGG_GEMM_MR
#define NV VGG_GEMM_NV
#define NR (16 * NV)

static inline int imin(int a, int b) { return a < b ? a : b; }

static const int pack_prefetch = 1; /* a switch for measuring, always on */
#define PACK_AHEAD 8

/* ---- micro-kernel ------------------------------------------------------ */

/* C[mr][nv*16 - masked tail] (row stride ldc) = alpha * a.b + beta * C,
 * where a is a packed A micro-panel [kc][MR] and b a packed B micro-panel
 * [kc][NR] of which the first nv vectors are used: one chain of kc terms
 * (the driver cuts the depth into chunks). Rows past mr and lanes outside
 * `last` (the mask of the nv-th vector) are computed from the zero
 * padding and not stored. beta == 0 does not read C. One copy per nv, so
 * that a narrow edge (or a thread's slab that ends mid-panel) does not pay
 * for a full-width tile. */
#define DEFINE_KERNEL(NVX) DEFINE_KERNEL_R(MR, NVX, kernel_nv##NVX)
/* The same with only the first MRX rows of the panel computed, for a last
 * row tile of at most MRX rows (M = 64 and 128 end in one of 4 rows: 2 of
 * 11 and 22 tiles' work saved). */
#define DEFINE_KERNEL_R(MRX, NVX, NAME)                                        \
    static void NAME(long kc, const float *restrict a,                         \
                     const float *restrict b, float *restrict c, long ldc,     \
                     int mr, __mmask16 last, float alpha, float beta) {        \
        _Pragma("GCC unroll 16") for (int i = 0; i < MRX; i++) _Pragma(        \
            "GCC unroll 8") for (int j = 0; j < NVX; j++)                      \
            _mm_prefetch((const char *)(c + i * ldc + 16 * j), _MM_HINT_T0);   \
        __m512 acc[MRX][NVX];                                                  \
        _Pragma("GCC unroll 16") for (int i = 0; i < MRX; i++)                 \
            _Pragma("GCC unroll 8") for (int j = 0; j < NVX; j++) acc[i][j] =  \
                _mm512_setzero_ps();                                           \
        _Pragma("GCC unroll 4") for (long p = 0; p < kc; p++) {                \
            __m512 bv[NVX];                                                    \
            _Pragma("GCC unroll 8") for (int j = 0; j < NVX; j++) bv[j] =      \
                _mm512_load_ps(b + 16 * j);                                    \
            _Pragma("GCC unroll 16") for (int i = 0; i < MRX; i++) {           \
                __m512 av = _mm512_set1_ps(a[i]);                              \
                _Pragma("GCC unroll 8") for (int j = 0; j < NVX; j++)          \
                    acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);         \
            }                                                                  \
            a += MR;                                                           \
            b += NR;                                                           \
        }                                                                      \
        store_tile(&acc[0][0], NVX, c, ldc, mr < MRX ? mr : MRX, last, alpha,  \
                   beta);                                                      \
    }

/* Writes the accumulators acc[MR][nv] (nv compile-time after inlining). */
static inline __attribute__((always_inline)) void
store_tile(const __m512 *acc, int nv, float *c, long ldc, int mr,
           __mmask16 last, float alpha, float beta) {
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *ci = c + i * ldc;
#pragma GCC unroll 8
        for (int j = 0; j < nv; j++) {
            __mmask16 m = j == nv - 1 ? last : (__mmask16)0xFFFF;
            __m512 r = acc[i * nv + j];
            if (alpha != 1.0f) r = _mm512_mul_ps(va, r);
            if (beta == 1.0f)
                r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m, ci + 16 * j));
            else if (beta != 0.0f)
                r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, ci + 16 * j),
                                    r);
            _mm512_mask_storeu_ps(ci + 16 * j, m, r);
        }
    }
}

DEFINE_KERNEL(1)
#if NV >= 2
DEFINE_KERNEL(2)
#endif
#if NV >= 3
DEFINE_KERNEL(3)
#endif
#if NV >= 4
DEFINE_KERNEL(4)
#endif
#if NV > 4
#error "micro-kernel wider than 4 vectors: add its DEFINE_KERNEL"
#endif
#if MR > 4 && NV == 4
DEFINE_KERNEL_R(4, NV, kernel_r4)
#endif

/* The seam's micro-kernel: one tile, mr <= MR rows, nr <= NR columns. */
static void avx512_ukernel(long kc, const float *a, const float *b, float *c,
                           long ldc, int mr, int nr, float alpha, float beta) {
    int nv = (nr + 15) / 16;
    __mmask16 last = (__mmask16)(0xFFFFu >> (nv * 16 - nr));
    switch (nv) {
#if NV >= 4
    case 4:
#if MR > 4 && NV == 4
        if (mr <= 4) {
            kernel_r4(kc, a, b, c, ldc, mr, last, alpha, beta);
            break;
        }
#endif
        kernel_nv4(kc, a, b, c, ldc, mr, last, alpha, beta);
        break;
#endif
#if NV >= 3
    case 3:
        kernel_nv3(kc, a, b, c, ldc, mr, last, alpha, beta);
        break;
#endif
#if NV >= 2
    case 2:
        kernel_nv2(kc, a, b, c, ldc, mr, last, alpha, beta);
        break;
#endif
    default:
        kernel_nv1(kc, a, b, c, ldc, mr, last, alpha, beta);
        break;
    }
}

/* ---- packing ----------------------------------------------------------- */

/* r[0..15] <- its transpose (r[i] lane j becomes r[j] lane i). */
static inline void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d t0 = _mm512_castps_pd(t[4 * i]),
                t1 = _mm512_castps_pd(t[4 * i + 1]);
        __m512d t2 = _mm512_castps_pd(t[4 * i + 2]),
                t3 = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    /* u[4g+k] lane L holds column 4L+k of rows 4g..4g+3. */
    for (int k = 0; k < 4; k++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x44);
        __m512 v1 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x44);
        __m512 v2 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xEE);
        __m512 v3 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xEE);
        r[k] = _mm512_shuffle_f32x4(v0, v1, 0x88);
        r[4 + k] = _mm512_shuffle_f32x4(v0, v1, 0xDD);
        r[8 + k] = _mm512_shuffle_f32x4(v2, v3, 0x88);
        r[12 + k] = _mm512_shuffle_f32x4(v2, v3, 0xDD);
    }
}

static inline __mmask16 tail_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* Packs the block X[i][p] (i < rows, p < kc) where X[i][p] = x[i*ldx + p]
 * (the depth runs along memory) into micro-panels of W rows:
 * out[panel][p][W]. Rows past `rows` are zero. Used for op(A) with
 * transa == 0 (W = MR) and op(B) with transb == 1 (W = NR). */
static void pack_rows_kmajor(float *restrict out, const float *x, long ldx,
                             int rows, int kc, int W) {
    for (int i0 = 0; i0 < rows; i0 += W) {
        float *panel = out + (long)i0 * kc;
        for (int g = 0; g < W; g += 16) {
            int gw = imin(16, W - g); /* lanes of this group in the panel */
            int nrow = imin(gw, rows - i0 - g);
            if (nrow < 0) nrow = 0;
            for (int p = 0; p < kc; p += 16) {
                int np = imin(16, kc - p);
                __mmask16 m = tail_mask(np);
                __m512 r[16];
                /* rows are short runs (kc floats) far apart: fetch 4 lines
                 * ahead in each (past kc it is the next depth block's) */
                if (pack_prefetch)
                    for (int i = 0; i < nrow; i++)
                        _mm_prefetch((const char *)(x +
                                                    (long)(i0 + g + i) * ldx +
                                                    p + 64),
                                     _MM_HINT_T0);
                for (int i = 0; i < 16; i++)
                    r[i] = i < nrow ? _mm512_maskz_loadu_ps(
                                          m, x + (long)(i0 + g + i) * ldx + p)
                                    : _mm512_setzero_ps();
                transpose16(r);
                __mmask16 wm = tail_mask(gw);
                for (int q = 0; q < np; q++)
                    _mm512_mask_storeu_ps(panel + (long)(p + q) * W + g, wm,
                                          r[q]);
            }
        }
    }
}

/* Packs X[i][p] = x[p*ldx + i] (rows run along memory) into micro-panels of
 * W rows: out[panel][p][W], zero past `rows`. Used for op(A) with
 * transa == 1 (W = MR) and op(B) with transb == 0 (W = NR). */
static void pack_rows_imajor(float *restrict out, const float *x, long ldx,
                             int rows, int kc, int W) {
    /* Row p of x is read once, front to back, into every panel. */
    const int full = rows / W, rem = rows - full * W;
    const long pstride = (long)kc * W; /* floats between panels */
    if (W < 16) {
        /* Narrow panels (W = MR). Eight rows of x at a time across all
         * panels (a long stride walked panel by panel would miss the TLB on
         * every row), with full-width stores that spill into the next p's
         * slots, rewritten next, instead of masked ones; only a panel's last
         * p or two, and the loads of the last panels, are masked. */
        const __mmask16 m = tail_mask(W);
        for (int p0 = 0; p0 < kc; p0 += 8) {
            int p1 = imin(kc, p0 + 8);
            for (int i = 0; i < full; i++) {
                const float *src = x + (long)i * W;
                float *dst = out + i * pstride;
                int wide = (i + 1) * W + (16 - W) <= rows; /* loads stay in x */
                for (int p = p0; p < p1; p++) {
                    __m512 v =
                        wide ? _mm512_loadu_ps(src + (long)p * ldx)
                             : _mm512_maskz_loadu_ps(m, src + (long)p * ldx);
                    if ((long)p * W + 16 <=
                        (long)kc * W) /* stays in the panel */
                        _mm512_storeu_ps(dst + (long)p * W, v);
                    else
                        _mm512_mask_storeu_ps(dst + (long)p * W, m, v);
                }
            }
        }
        if (rem) {
            const __mmask16 lm = tail_mask(rem);
            const float *src = x + (long)full * W;
            float *dst = out + full * pstride;
            for (int p = 0; p < kc; p++)
                _mm512_mask_storeu_ps(
                    dst + (long)p * W, m,
                    _mm512_maskz_loadu_ps(lm, src + (long)p * ldx));
        }
        return;
    }
    for (int p = 0; p < kc; p++) {
        const float *src = x + (long)p * ldx;
        float *dst = out + (long)p * W;
        /* Each row is a short run (rows floats) far from the last one: the
         * hardware prefetcher cannot see it coming, so ask for the row
         * PACK_AHEAD rows on. */
        if (p + PACK_AHEAD < kc && pack_prefetch)
            for (int i = 0; i < rows; i += 16)
                _mm_prefetch((const char *)(src + PACK_AHEAD * ldx + i),
                             _MM_HINT_T0);
        for (int i = 0; i < full; i++)
            for (int g = 0; g < W; g += 16)
                _mm512_store_ps(dst + i * pstride + g,
                                _mm512_loadu_ps(src + (long)i * W + g));
        if (rem) {
            const float *s = src + (long)full * W;
            float *d = dst + full * pstride;
            for (int g = 0; g < W; g += 16) {
                int n = rem - g;
                __mmask16 lm = n <= 0 ? 0 : tail_mask(n);
                _mm512_mask_storeu_ps(d + g, tail_mask(imin(16, W - g)),
                                      _mm512_maskz_loadu_ps(lm, s + g));
            }
        }
    }
}

/* ---- implicit im2col ------------------------------------------------------
 * op(B) is the im2col matrix of x[C][N*H*W] (see vgg_im2col_src), never
 * formed: col[c*9 + t][j] = x[c*NHW + j + s_t] with s_t = dy*W + dx for tap
 * t = 3*(dy+1) + (dx+1), where pixel j shifted by (dy, dx) stays inside its
 * image, else 0. Sixteen consecutive j are therefore one masked load of x,
 * whatever H and W: the mask (which lanes stay inside) depends only on the
 * tap and on where the 16 pixels fall in their images. Masked-off lanes are
 * never read, so loads that would fall outside x are harmless. */

/* The nine tap masks of pixels j0..j0+15; lanes at or past jend are 0. */
static void tap_masks(__mmask16 m[9], long j0, long jend, int H, int W) {
    unsigned left = 0, right = 0, top = 0, bottom = 0, in = 0;
    long j = j0;
    int x = (int)(j0 % W), y = (int)((j0 / W) % H);
    for (int l = 0; l < 16; l++, j++) {
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
    for (int t = 0; t < 9; t++) m[t] = (__mmask16)(row[t / 3] & col[t % 3]);
}

/* op(B) = col (transb 0): B[p][i] = col[pc + p][j0 + i], i < cols, packed
 * into NR-column micro-panels out[panel][p][NR]. A channel's nine rows are
 * one unrolled step (tap offsets and masks constant in it): the loop with
 * the tap a variable packed a vector in 2.5 ns here, this in 2.1 ns, which
 * made the forward GEMMs of layers 1 to 5 0 to 5% faster (docs/gemm.md). */
static inline __attribute__((always_inline)) void
im2col_row(float *restrict dst, const float *src, const __mmask16 *m) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++)
        _mm512_store_ps(dst + 16 * v,
                        _mm512_maskz_loadu_ps(m[v], src + 16 * v));
}

static void pack_im2col_cols(float *restrict out, const vgg_im2col_src *s,
                             long j0, int cols, long pc, int kc) {
    const long M = (long)s->N * s->H * s->W;
    const int W = s->W;
    long off[9];
    for (int t = 0; t < 9; t++) off[t] = (t / 3 - 1) * W + (t % 3 - 1);
    for (int i0 = 0; i0 < cols; i0 += NR) {
        float *panel = out + (long)i0 * kc;
        __mmask16 mv[NV][9], m[9][NV];
        for (int v = 0; v < NV; v++) {
            long a = j0 + i0 + 16 * v;
            long e = j0 + imin(cols, i0 + 16 * v + 16);
            tap_masks(mv[v], a, e > a ? e : a, s->H, W);
        }
        for (int t = 0; t < 9; t++)
            for (int v = 0; v < NV; v++) m[t][v] = mv[v][t];
        const float *xc = s->x + j0 + i0;
        int p = 0, c = (int)(pc / 9), t = (int)(pc % 9);
        /* The next panel's new lines of a channel (its taps reach W + 1
         * past it) into L2: the channels are more streams than the
         * hardware prefetcher follows (layer 1's forward and input gradient
         * 1.14x, docs/gemm.md). */
#define PREFETCH_NEXT(c)                                                       \
    for (int v = 0; v < NR; v += 16)                                           \
    _mm_prefetch((const char *)(xc + (long)(c)*M + NR + W + 1 + v), _MM_HINT_T1)
        if (t) { /* the depth block starts mid-channel */
            PREFETCH_NEXT(c);
            for (; t < 9 && p < kc; t++, p++)
                im2col_row(panel + (long)p * NR, xc + c * M + off[t], m[t]);
            c++;
        }
        for (; p + 9 <= kc; p += 9, c++) {
            const float *x = xc + c * M;
            float *d = panel + (long)p * NR;
            PREFETCH_NEXT(c);
#pragma GCC unroll 9
            for (int tt = 0; tt < 9; tt++)
                im2col_row(d + tt * NR, x + off[tt], m[tt]);
        }
        if (p < kc) PREFETCH_NEXT(c);
        for (t = 0; p < kc; t++, p++)
            im2col_row(panel + (long)p * NR, xc + c * M + off[t], m[t]);
#undef PREFETCH_NEXT
    }
}

/* op(B) = col^T (transb 1): B[p][i] = col[r0 + i][pc + p], i < rows, packed
 * into NR-column micro-panels: sixteen pixels of sixteen rows at a time,
 * transposed in registers (as pack_rows_kmajor). Each row's source offset
 * and tap are worked out once per panel; each channel of the panel has its
 * line PACK_LINES_AHEAD lines on fetched as the pixels advance (a panel's
 * seven or eight channels are more streams than the hardware prefetcher
 * follows). */
#define PACK_LINES_AHEAD 4
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
        const long c_lo = (r0 + i0) / 9, c_hi = (r0 + i0 + nr - 1) / 9;
        for (int p = 0; p < kc; p += 16) {
            __mmask16 m[9];
            tap_masks(m, pc + p, jend, s->H, s->W);
            for (long c = c_lo; c <= c_hi; c++)
                _mm_prefetch((const char *)(s->x + c * M + pc + p +
                                            16 * PACK_LINES_AHEAD + s->W + 1),
                             _MM_HINT_T0);
            for (int g = 0; g < NR; g += 16) {
                int nrow = imin(16, nr - g);
                if (nrow <= 0) break;
                __m512 r[16];
                for (int i = 0; i < 16; i++)
                    r[i] = i < nrow ? _mm512_maskz_loadu_ps(
                                          m[tap[g + i]], s->x + off[g + i] + p)
                                    : _mm512_setzero_ps();
                transpose16(r);
                int np = imin(16, kc - p);
                for (int q = 0; q < np; q++)
                    _mm512_store_ps(panel + (long)(p + q) * NR + g, r[q]);
            }
        }
    }
}

/* The table entry (kernel_table.c lists it). Blocking per loop order,
 * measured over the VGG16 step on Zen 5 and on an Intel AVX-512 machine
 * (the table in gemm_driver.c says why each value). */
float vgg_fma_loop_avx512(double seconds, uint64_t *iters);
extern const vgg_bn_rows vgg_bn_rows_avx512;
void vgg_pool_row_avx512(float *o, uint8_t *arg, const float *r0,
                         const float *r1, int n);
void vgg_unpool_row_avx512(float *r0, float *r1, const float *g,
                           const uint8_t *arg, int n);

const vgg_kernel vgg_kernel_avx512 = {
    .name = "avx512",
    .supported = avx512_supported,
    .mr = MR,
    .nr = NR,
    .vec = 16,
    .blk = {{1200, 516, 3072}, {256, 384, 512}},
    .ukernel = avx512_ukernel,
    .pack_kmajor = pack_rows_kmajor,
    .pack_imajor = pack_rows_imajor,
    .pack_im2col_cols = pack_im2col_cols,
    .pack_im2col_rows = pack_im2col_rows,
    .pool_row = vgg_pool_row_avx512,
    .unpool_row = vgg_unpool_row_avx512,
    .bn = &vgg_bn_rows_avx512,
    .fma_loop = vgg_fma_loop_avx512,
    .flops_per_step = 16 * 16 * 2,
    .flops_per_cycle = 2 * 16 * 2,
};
