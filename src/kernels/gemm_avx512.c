/* Single-precision GEMM in AVX-512F intrinsics, BLIS-style, for the
 * convolution shapes (C[Cout][N*H*W] and friends: one operand dimension in
 * the hundreds, one in the tens of thousands).
 *
 * Loops, outer to inner (BLIS's five loops around a 6x64 micro-kernel):
 *   jc: NC columns of C          B block op(B)[KC][NC]
 *   pc: KC of the depth          (fixed order: this is what makes each C
 *                                 element's sum order independent of threads)
 *   ic: MC rows of C             A block op(A)[MC][KC] packed
 *   then, order 0 (the default):
 *     jr: NR columns             B micro-panel [KC][NR], packed just before
 *                                its first use (during ic == 0), L1/L2
 *     ir: MR rows                micro-kernel: C[MR][NR] += a[KC][MR] b[KC][NR]
 *   or order 1 (depth K < 128, where order 0's panels are too thin): the B
 *   block packed whole up front (L2), ir outside jr (A micro-panel in L1).
 * The 6x64 tile holds 24 zmm accumulators; each k step is 4 loads of B,
 * 6 broadcasts of A and 24 FMAs, which keeps both FMA pipes busy: alone, on
 * data in L1/L2, it runs at the measured FMA peak of one core.
 *  * Packed layouts: an A micro-panel stores, for each k, MR consecutive rows;
 * a B micro-panel stores, for each k, NR consecutive columns (NR/16 zmm).
 * Edges are zero-padded in the packed buffers; partial C tiles are stored
 * with masks, by a kernel no wider than the tile.
 *
 * Threads: C is cut into one disjoint slab per thread (column slabs, or row
 * slabs, whichever packs less per thread), and each thread runs the loops
 * above on its slab with its own packing buffers: no barriers, no shared
 * writes. Wide column-split products with one row block hand their B
 * panels out in runs as threads come for them instead (gemm_panels), with
 * a barrier between depth blocks. The weight gradients of the big layers
 * (depth = the pixels, 4+ depth blocks, < 32 panels) cut the depth in two halves
 * instead, one a thread, the second summed into a scratch and added to C
 * (gemm_split_k). Each C element is summed in the same order whatever the
 * thread count.
 *
 * The file is compiled for AVX-512F by a pragma, whatever the build's
 * -march: nothing here may run before vgg_gemm_avx512_supported(). */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include "gemm_avx512.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int vgg_gemm_avx512_supported(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,fma"))), \
                             apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#endif

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

#define MAX_THREADS 64

/* Cache blocking, one set per loop order (see gemm_slab), measured over
 * the VGG16 step (docs/gemm.md).
 *   order 0: B micro-panel [KC][NR] (up to 300 KiB) in L2, A block
 *            [MC][KC] (up to 2.4 MiB) in L2 and L3. KC was 256 until the
 *            im2col went implicit; 1200 (so K = 576 and 1152 are one
 *            block, 2304 and 4608 blocks of 1152) made the convolution
 *            GEMMs 5 to 8% faster on Zen 5, mostly by passing over C fewer
 *            times. MC was 144 (A block in a 1 MiB L2); 516 makes every
 *            VGG layer (M <= 512) one row block, so no B block is kept:
 *            each B micro-panel is used by all of M while it is in L2,
 *            and the megabytes of a stored B block are never written and
 *            read back. On the Intel machine (2 MiB L2) that made layers
 *            4 to 12 7 to 27% faster (docs/gemm.md);
 *   order 1: A micro-panel [KC][MR] (6 KiB) in L1, B block [KC][NC]
 *            (512 KiB) in L2, A block in L3. */
typedef struct blocking { int kc, mc, nc; } blocking;
static const blocking blk_default[2] = {{1200, 516, 3072}, {256, 384, 512}};
static blocking blk[2] = {{1200, 516, 3072}, {256, 384, 512}};
static int force_order = -1;

void vgg_gemm_avx512_set_blocking(int kc, int mc, int nc) {
    if (kc <= 0 && mc <= 0 && nc <= 0) {
        memcpy(blk, blk_default, sizeof blk);
        return;
    }
    for (int o = 0; o < 2; o++) {
        if (kc > 0) blk[o].kc = kc;
        if (mc > 0) blk[o].mc = (mc + MR - 1) / MR * MR;
        if (nc > 0) blk[o].nc = (nc + NR - 1) / NR * NR;
    }
}

void vgg_gemm_avx512_get_blocking(int *kc, int *mc, int *nc, int *mr,
                                  int *nr) {
    *kc = blk[0].kc;
    *mc = blk[0].mc;
    *nc = blk[0].nc;
    *mr = MR;
    *nr = NR;
}

void vgg_gemm_avx512_set_order(int order) {
    force_order = order == 0 || order == 1 ? order : -1;
}

/* Per-thread packing buffers, grown on demand and kept for the process.
 * They are the library's, one set: a call holds buf_lock while it uses
 * them, so that two callers' threads (not OpenMP's team) take turns
 * instead of packing over each other (test_gemm's concurrent callers). */
static pthread_mutex_t buf_lock = PTHREAD_MUTEX_INITIALIZER;
static float *buf_a[MAX_THREADS], *buf_b[MAX_THREADS];
static size_t cap_a[MAX_THREADS], cap_b[MAX_THREADS];

/* Buffers are 2 MiB-aligned and asked to be huge pages where the kernel
 * allows it (transparent huge pages in madvise mode): a packed B block is
 * swept once per A micro-panel, and 4 KiB pages would cost a TLB miss
 * every 4 KiB of it. */
#define HUGE_PAGE (2u << 20)

static int reserve(float **buf, size_t *cap, size_t n) {
    if (*cap >= n) return 0;
    size_t bytes = (n * sizeof(float) + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    float *p = aligned_alloc(HUGE_PAGE, bytes);
    if (!p) return -1;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
    free(*buf);
    *buf = p;
    *cap = bytes / sizeof(float);
    return 0;
}

static inline int imin(int a, int b) { return a < b ? a : b; }

/* This thread's number and its team's size, inside a parallel region. */
static inline void team(int *t, int *tn) {
#ifdef _OPENMP
    *t = omp_get_thread_num();
    *tn = omp_get_num_threads();
#else
    *t = 0;
    *tn = 1;
#endif
}

static int pack_prefetch = 1; /* a switch for measuring, always on */
static int dyn_panels = 1; /* the same */
void vgg_gemm_avx512_set_dynamic(int on) { dyn_panels = on != 0; }

typedef struct gemm_args {
    int transa, transb, K;
    float alpha, beta;
    const float *A, *B;
    long lda, ldb, ldc;
    float *C;
    const vgg_im2col_src *im; /* non-NULL: op(B) is this implicit im2col */
} gemm_args;
#define PACK_AHEAD 8

/* The depth is cut into equal blocks of at most kc (K = 576 -> 2 x 288
 * rather than 256 + 256 + 64): fewer passes over C, no thin last pass. It
 * depends on K alone, so every thread sums in the same order. */
static int kc_block(int K, int kc) {
    int nb = (K + kc - 1) / kc;
    return (K + nb - 1) / nb;
}

/* ---- micro-kernel ------------------------------------------------------ */

/* The micro-kernel sums its depth in chunks of at most KSUB, each from
 * zero in the registers and then added to C: a running sum's rounding
 * error grows with its length, and one register chain over the whole
 * 576-1152 of a depth block had twice PyTorch's rounding error in the
 * forward pass (layer outputs against a float64 run; docs/gemm.md). The
 * C tile stays in L1 between chunks; at KSUB 256 the extra loads and
 * stores cost about 2.6% of the step's GEMM rate (docs/gemm.md). kc is
 * cut into equal chunks (576 -> 3 x 192), which depends on kc alone: the
 * sum order is still the same whatever the thread count. */
#ifndef VGG_GEMM_KSUB
#define VGG_GEMM_KSUB 256
#endif
#define KSUB VGG_GEMM_KSUB
static inline long ksub_chunk(long kc) {
    const long n = kc > KSUB ? (kc + KSUB - 1) / KSUB : 1;
    return (kc + n - 1) / n;
}

/* C[mr][nv*16 - masked tail] (row stride ldc) = alpha * a.b + beta * C,
 * where a is a packed A micro-panel [kc][MR] and b a packed B micro-panel
 * [kc][NR] of which the first nv vectors are used. Rows past mr and lanes
 * outside `last` (the mask of the nv-th vector) are computed from the zero
 * padding and not stored. beta == 0 does not read C. One copy per nv, so
 * that a narrow edge (or a thread's slab that ends mid-panel) does not pay
 * for a full-width tile. */
#define DEFINE_KERNEL(NVX) DEFINE_KERNEL_R(MR, NVX, kernel_nv##NVX)
/* The same with only the first MRX rows of the panel computed, for a last
 * row tile of at most MRX rows (M = 64 and 128 end in one of 4 rows: 2 of
 * 11 and 22 tiles' work saved). */
#define DEFINE_KERNEL_R(MRX, NVX, NAME)                                        \
    static void NAME(long kc, const float *restrict a,                        \
                     const float *restrict b, float *restrict c, long ldc,    \
                     int mr, __mmask16 last, float alpha, float beta) {       \
        _Pragma("GCC unroll 16") for (int i = 0; i < MRX; i++)                 \
            _Pragma("GCC unroll 8") for (int j = 0; j < NVX; j++)              \
                _mm_prefetch((const char *)(c + i * ldc + 16 * j), _MM_HINT_T0); \
        const long sub = ksub_chunk(kc);                                       \
        for (long p0 = 0;;) { /* one chunk; kc == 0 still stores beta C */     \
            const long p1 = kc - p0 < sub ? kc : p0 + sub;                     \
            __m512 acc[MRX][NVX];                                              \
            _Pragma("GCC unroll 16") for (int i = 0; i < MRX; i++)             \
                _Pragma("GCC unroll 8") for (int j = 0; j < NVX; j++)          \
                    acc[i][j] = _mm512_setzero_ps();                           \
            _Pragma("GCC unroll 4") for (long p = p0; p < p1; p++) {           \
                __m512 bv[NVX];                                                \
                _Pragma("GCC unroll 8") for (int j = 0; j < NVX; j++)          \
                    bv[j] = _mm512_load_ps(b + 16 * j);                        \
                _Pragma("GCC unroll 16") for (int i = 0; i < MRX; i++) {       \
                    __m512 av = _mm512_set1_ps(a[i]);                          \
                    _Pragma("GCC unroll 8") for (int j = 0; j < NVX; j++)      \
                        acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);     \
                }                                                              \
                a += MR;                                                       \
                b += NR;                                                       \
            }                                                                  \
            store_tile(&acc[0][0], NVX, c, ldc, mr < MRX ? mr : MRX, last,     \
                       alpha, p0 ? 1.0f : beta);                               \
            if (p1 >= kc) break;                                               \
            p0 = p1;                                                           \
        }                                                                      \
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
                r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, ci + 16 * j), r);
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

/* One tile: mr <= MR rows, nr <= NR columns. */
static inline void tile(long kc, const float *a, const float *b, float *c,
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
    case 3: kernel_nv3(kc, a, b, c, ldc, mr, last, alpha, beta); break;
#endif
#if NV >= 2
    case 2: kernel_nv2(kc, a, b, c, ldc, mr, last, alpha, beta); break;
#endif
    default: kernel_nv1(kc, a, b, c, ldc, mr, last, alpha, beta); break;
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
        __m512d t0 = _mm512_castps_pd(t[4 * i]), t1 = _mm512_castps_pd(t[4 * i + 1]);
        __m512d t2 = _mm512_castps_pd(t[4 * i + 2]), t3 = _mm512_castps_pd(t[4 * i + 3]);
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
                        _mm_prefetch((const char *)(x + (long)(i0 + g + i) * ldx + p + 64),
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
                    __m512 v = wide ? _mm512_loadu_ps(src + (long)p * ldx)
                                    : _mm512_maskz_loadu_ps(m, src + (long)p * ldx);
                    if ((long)p * W + 16 <= (long)kc * W) /* stays in the panel */
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
                _mm512_mask_storeu_ps(dst + (long)p * W, m,
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
                _mm_prefetch((const char *)(src + PACK_AHEAD * ldx + i), _MM_HINT_T0);
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
        _mm512_store_ps(dst + 16 * v, _mm512_maskz_loadu_ps(m[v], src + 16 * v));
}

static void pack_im2col_cols(float *restrict out, const vgg_im2col_src *s,
                             long j0, int cols, int pc, int kc) {
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
        int p = 0, c = pc / 9, t = pc % 9;
        /* The next panel's new lines of a channel (its taps reach W + 1
         * past it) into L2: the channels are more streams than the
         * hardware prefetcher follows (layer 1's forward and input gradient
         * 1.14x, docs/gemm.md). */
#define PREFETCH_NEXT(c)                                                      \
    for (int v = 0; v < NR; v += 16)                                          \
        _mm_prefetch((const char *)(xc + (long)(c) * M + NR + W + 1 + v),     \
                     _MM_HINT_T1)
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

/* ---- one thread's share -------------------------------------------------- */

/* Packs op(B)[pc..pc+kc)[col..col+nc) into NR-column micro-panels. */
static void pack_b(const gemm_args *g, float *pb, long col, int nc, int pc,
                   int kc) {
    if (g->im && g->transb)
        pack_im2col_rows(pb, g->im, col, nc, pc, kc);
    else if (g->im)
        pack_im2col_cols(pb, g->im, col, nc, pc, kc);
    else if (g->transb)
        pack_rows_kmajor(pb, g->B + col * g->ldb + pc, g->ldb, nc, kc, NR);
    else
        pack_rows_imajor(pb, g->B + (long)pc * g->ldb + col, g->ldb, nc, kc, NR);
}

/* Packs op(A)[row..row+mc)[pc..pc+kc) into MR-row micro-panels. */
static void pack_a(const gemm_args *g, float *pa, long row, int mc, int pc,
                   int kc) {
    if (g->transa)
        pack_rows_imajor(pa, g->A + (long)pc * g->lda + row, g->lda, mc, kc, MR);
    else
        pack_rows_kmajor(pa, g->A + row * g->lda + pc, g->lda, mc, kc, MR);
}

/* C[m0..m0+m)[n0..n0+n) of the product, on this thread's buffers, in loop
 * order `order` (see the blocking table). */
static void gemm_slab(const gemm_args *g, int order, int kb, int m0, int m,
                      int n0, int n, int k0, int k1, float *pa, float *pb) {
    const blocking b = blk[order];
    const int one_block = m <= b.mc;
    for (int jc = 0; jc < n; jc += b.nc) {
        int nc = imin(b.nc, n - jc);
        long col = n0 + jc;
        for (int pc = k0; pc < k1; pc += kb) {
            int kc = imin(kb, k1 - pc);
            float beta = pc == k0 ? g->beta : 1.0f;
            if (order == 1) pack_b(g, pb, col, nc, pc, kc);
            for (int ic = 0; ic < m; ic += b.mc) {
                int mc = imin(b.mc, m - ic);
                long row = m0 + ic;
                pack_a(g, pa, row, mc, pc, kc);
                if (order == 0) {
                    /* The B block is packed a micro-panel at a time during
                     * the first row block, just before its first use. With
                     * one row block, no panel is used again: each goes to
                     * the same place and stays in L2 (writing the whole
                     * block, megabytes, made layers 1 to 3 10 to 30%
                     * slower: docs/gemm.md). */
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = imin(NR, nc - jr);
                        float *pbj = one_block ? pb : pb + (long)jr * kc;
                        if (ic == 0) pack_b(g, pbj, col + jr, nr, pc, kc);
                        for (int ir = 0; ir < mc; ir += MR)
                            tile(kc, pa + (long)ir * kc, pbj,
                                 g->C + (row + ir) * g->ldc + col + jr, g->ldc,
                                 imin(MR, mc - ir), nr, g->alpha, beta);
                    }
                } else {
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = imin(MR, mc - ir);
                        for (int jr = 0; jr < nc; jr += NR)
                            tile(kc, pa + (long)ir * kc, pb + (long)jr * kc,
                                 g->C + (row + ir) * g->ldc + col + jr, g->ldc,
                                 mr, imin(NR, nc - jr), g->alpha, beta);
                    }
                }
            }
        }
    }
}

/* Column slabs handed out one B micro-panel at a time (order 0, one row
 * block, called by every thread of the team): each thread packs all of A
 * for a depth block, then takes the next panel left, packs it and runs
 * it through all of M; the depth blocks stay in order (a barrier between
 * them), so every C element is summed as in gemm_slab, whatever thread
 * takes its panel. A thread slowed by the host then takes fewer panels
 * instead of holding the others up at the end. */
static void gemm_panels(const gemm_args *g, int M, int N, int nt, float *pa,
                        float *pb) {
    const int K = g->K, kb = kc_block(K, blk[0].kc);
    const int npanel = (N + NR - 1) / NR;
    /* runs of panels, about 8 a thread: a thread's next panel is then
     * mostly the one its packer prefetched for (one at a time lost 8-11%
     * on layers 1 and 3's input gradient) */
    const int chunk = npanel / (8 * nt) > 1 ? npanel / (8 * nt) : 1;
    for (int pc = 0; pc < K; pc += kb) {
        const int kc = imin(kb, K - pc);
        const float beta = pc == 0 ? g->beta : 1.0f;
        pack_a(g, pa, 0, M, pc, kc);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, chunk)
#endif
        for (int p = 0; p < npanel; p++) {
            const int jr = p * NR, nr = imin(NR, N - jr);
            pack_b(g, pb, jr, nr, pc, kc);
            for (int ir = 0; ir < M; ir += MR)
                tile(kc, pa + (long)ir * kc, pb, g->C + ir * g->ldc + jr,
                     g->ldc, imin(MR, M - ir), nr, g->alpha, beta);
        }
    }
}

/* The weight gradients of the big layers (K = the pixels, tens of
 * thousands; C = Cout x 9 Cin, small) in two halves of the depth: C gets
 * beta C plus the first half, a scratch S the second, then C += S. Each
 * half's thread(s) pack only their half of A and B (split by columns,
 * each thread packs all of A, and layers 1 and 2's 576 columns leave each
 * thread a 32-column edge panel). The halves are cut by the shape alone,
 * so the sums are the same whatever the thread count: one thread runs
 * both halves and the same reduction. */
static float *buf_c;
static size_t cap_c;
static int split_k_mode = -1;
void vgg_gemm_avx512_set_split_k(int mode) {
    split_k_mode = mode == 0 || mode == 1 ? mode : -1;
}

static void gemm_split_k(const gemm_args *g, int M, int N, int kb, int mid,
                         int nt) {
    const int K = g->K, ntile_n = (N + 15) / 16;
    float *S = buf_c;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        int t, tn;
        team(&t, &tn);
        for (int half = 0; half < 2; half++) {
            /* tn >= 2: threads [0, tn/2) take the first half, the rest
             * the second; one thread takes both */
            int s = tn >= 2 ? t >= tn / 2 : half;
            if (tn >= 2 && half) break;
            int g0 = s && tn >= 2 ? tn / 2 : 0;
            int gn = tn < 2 ? 1 : s ? tn - tn / 2 : tn / 2;
            int r = t - g0;
            int n0 = (int)((long)ntile_n * r / gn) * 16;
            int n1 = imin(N, (int)((long)ntile_n * (r + 1) / gn) * 16);
            gemm_args h = *g;
            if (s) {
                h.C = S;
                h.ldc = N;
                h.beta = 0.0f;
            }
            if (n1 > n0)
                gemm_slab(&h, 0, kb, 0, M, n0, n1 - n0, s ? mid : 0,
                          s ? K : mid, buf_a[t], buf_b[t]);
        }
#ifdef _OPENMP
#pragma omp barrier
#endif
        for (int i = (int)((long)M * t / tn); i < (int)((long)M * (t + 1) / tn);
             i++) {
            float *restrict c = g->C + i * g->ldc;
            const float *restrict sr = S + (long)i * N;
            for (int j = 0; j < N; j++) c[j] += sr[j];
        }
    }
}

/* C = beta * C, for K == 0 or alpha == 0 (BLAS semantics). */
static void scale_c(float *C, long ldc, int M, int N, float beta) {
    for (int i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f)
            memset(c, 0, sizeof(float) * N);
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
}

static int gemm_run(gemm_args g, int M, int N, int K, int nthreads) {
    float *C = g.C;
    const long ldc = g.ldc;
    const float alpha = g.alpha, beta = g.beta;
    if (M <= 0 || N <= 0) return 0;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(C, ldc, M, N, beta);
        return 0;
    }
    int nt = nthreads < 1 ? 1 : nthreads > MAX_THREADS ? MAX_THREADS : nthreads;

    /* Slabs: split the columns (each thread packs all of A and its share of
     * B) or the rows (its share of A, all of B), whichever packs less per
     * thread, counting a transposing pack (A not transposed, B
     * transposed) twice a copy; the columns when C is too narrow to
     * share them. (Rows for the forward and input gradient of layers 10 to
     * 12, N = 512: 1.06 to 1.25x; the rest as before: docs/gemm.md.)
     * Column slabs are cut at 16 columns (a slab may end in a narrower
     * micro-panel, which the nv-variants of the kernel handle at no waste),
     * row slabs at MR rows. */
    int ntile_n = (N + 15) / 16, ntile_m = (M + MR - 1) / MR;
    const double wa = g.transa ? 1.0 : 2.0, wb = g.transb ? 2.0 : 1.0;
    const double pack_n = wa * M + wb * N / nt, pack_m = wa * M / nt + wb * N;
    int split_n = ntile_n >= nt && (pack_n <= pack_m || ntile_m < nt);
    int tiles = split_n ? ntile_n : ntile_m;
    if (tiles < nt) nt = tiles;

    /* Order 1 only for a shallow depth, where order 0's micro-panels are
     * too thin to pay for their packing (the first layer's K = 27). */
    int order = force_order >= 0 ? force_order : K < 128 ? 1 : 0;
    const blocking b = blk[order];
    int kc = kc_block(K, b.kc);
    /* Depth split (see gemm_split_k), by the shape alone: 4+ depth blocks
     * and fewer than 32 B panels (layers 0-4's weight gradients: 1.02-1.2x;
     * layers 5 and 6's, 36 panels handed out as threads come, 0.93-1.04:
     * docs/gemm.md). */
    const int nb = (K + b.kc - 1) / b.kc;
    const int ksplit =
        order == 0 && g.transb && !g.transa && M <= b.mc &&
        (split_k_mode > 0 ||
         (split_k_mode < 0 && nb >= 4 && (N + NR - 1) / NR < 32));
    const int nb2 = (nb + 1) / 2 * 2, kc2 = (K + nb2 - 1) / nb2;
    const int halves = ksplit && (nb2 / 2) * kc2 < K; /* a second half to sum */
    if (halves) kc = kc2;
    /* The depth split packs all rows in each half (M <= MC). */
    int mcap = halves || split_n ? M : (ntile_m + nt - 1) / nt * MR;
    int ncap = split_n ? (ntile_n + nt - 1) / nt * 16 : N;
    size_t need_a = (size_t)((imin(b.mc, mcap) + MR - 1) / MR * MR) * kc;
    /* Order 0 with one row block (see gemm_slab) keeps one B micro-panel. */
    size_t need_b = order == 0 && mcap <= b.mc
                        ? (size_t)NR * kc
                        : (size_t)((imin(b.nc, ncap) + NR - 1) / NR * NR) * kc;
    for (int t = 0; t < nt; t++)
        if (reserve(&buf_a[t], &cap_a[t], need_a) ||
            reserve(&buf_b[t], &cap_b[t], need_b))
            return -1;
    if (halves) {
        if (reserve(&buf_c, &cap_c, (size_t)M * N)) return -1;
        gemm_split_k(&g, M, N, kc, (nb2 / 2) * kc, nt);
        return 0;
    }
    /* Panels handed out as threads come for them (gemm_panels) when the
     * columns are split and there is one row block. */
    const int panels = dyn_panels && nt > 1 && split_n && order == 0 &&
                       M <= b.mc && (N + NR - 1) / NR >= 16 * nt;

#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        int t, tn;
        team(&t, &tn);
        /* Whole tiles per thread, as even as they come. */
        int t0 = (int)((long)tiles * t / tn), t1 = (int)((long)tiles * (t + 1) / tn);
        int m0 = 0, m1 = M, n0 = 0, n1 = N;
        if (panels) {
            gemm_panels(&g, M, N, tn, buf_a[t], buf_b[t]);
        } else if (split_n) {
            n0 = t0 * 16;
            n1 = imin(N, t1 * 16);
        } else {
            m0 = t0 * MR;
            m1 = imin(M, t1 * MR);
        }
        if (!panels && m1 > m0 && n1 > n0) {
            gemm_slab(&g, order, kc, m0, m1 - m0, n0, n1 - n0, 0, K, buf_a[t],
                      buf_b[t]);
        }
    }
    return 0;
}

static int gemm_locked(gemm_args g, int M, int N, int K, int nthreads) {
    pthread_mutex_lock(&buf_lock);
    int rc = gemm_run(g, M, N, K, nthreads);
    pthread_mutex_unlock(&buf_lock);
    return rc;
}

int vgg_gemm_avx512(int transa, int transb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc, int nthreads) {
    gemm_args g = {transa, transb, K, alpha, beta, A, B, lda, ldb, ldc, C,
                   NULL};
    return gemm_locked(g, M, N, K, nthreads);
}

int vgg_gemm_avx512_im2col(int transb, int M, float alpha, const float *A,
                           int lda, const vgg_im2col_src *src, float beta,
                           float *C, int ldc, int nthreads) {
    const long npix = (long)src->N * src->H * src->W;
    const int rows = src->C * 9;
    if (npix > 0x7fffffffL) return -1;
    gemm_args g = {0, transb, transb ? (int)npix : rows, alpha, beta, A,
                   NULL, lda, 0, ldc, C, src};
    return gemm_locked(g, M, transb ? rows : (int)npix, g.K, nthreads);
}

#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
