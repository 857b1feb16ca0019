/* The GEMM driver: BLIS's loops around a vgg_kernel's micro-kernel and
 * packers (kernel.h), written once for every instruction set. Tuned for
 * the convolution shapes (C[Cout][N*H*W] and friends: one operand
 * dimension in the hundreds, one in the tens of thousands).
 *
 * Loops, outer to inner (BLIS's five loops around an MR x NR micro-kernel):
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
 * The micro-kernel is called once per chunk of at most VGG_KSUB of the
 * depth block (tile): see kernel.h.
 *
 * Threads: C is cut into one disjoint slab per thread (column slabs, or row
 * slabs, whichever packs less per thread), and each thread runs the loops
 * above on its slab with its own packing buffers: no barriers, no shared
 * writes. Wide column-split products with one row block hand their B
 * panels out in runs as threads come for them instead (gemm_panels), with
 * a barrier between depth blocks. The weight gradients of the big layers
 * (depth = the pixels, 4+ depth blocks, < 32 panels) cut the depth in two
 * halves instead, one a thread, the second summed into a scratch and added to C
 * (gemm_split_k). Each C element is summed in the same order whatever the
 * thread count. */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include "core/alloc.h"
#include "gemm_driver.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_THREADS 64

/* Cache blocking: each kernel has one set per loop order (see gemm_slab)
 * in its table entry; these override it for tuning and tests. The AVX-512
 * kernel's, measured over the VGG16 step (docs/gemm.md):
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
static vgg_blocking blk_set; /* 0: the kernel's own */
static int force_order = -1;

void vgg_driver_set_blocking(int kc, int mc, int nc) {
    if (kc <= 0 && mc <= 0 && nc <= 0) {
        memset(&blk_set, 0, sizeof blk_set);
        return;
    }
    if (kc > 0) blk_set.kc = kc;
    if (mc > 0) blk_set.mc = mc;
    if (nc > 0) blk_set.nc = nc;
}

/* Kernel k's blocking in loop order `order`, as set. */
static vgg_blocking blocking_of(const vgg_kernel *k, int order) {
    vgg_blocking b = k->blk[order];
    if (blk_set.kc > 0) b.kc = blk_set.kc;
    if (blk_set.mc > 0) b.mc = (blk_set.mc + k->mr - 1) / k->mr * k->mr;
    if (blk_set.nc > 0) b.nc = (blk_set.nc + k->nr - 1) / k->nr * k->nr;
    return b;
}

void vgg_driver_get_blocking(const vgg_kernel *k, int *kc, int *mc, int *nc,
                             int *mr, int *nr) {
    vgg_blocking b = blocking_of(k, 0);
    *kc = b.kc;
    *mc = b.mc;
    *nc = b.nc;
    *mr = k->mr;
    *nr = k->nr;
}

void vgg_driver_set_order(int order) {
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
    float *p = vgg_aligned_alloc(HUGE_PAGE, bytes);
    if (!p) return -1;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
    free(*buf);
    *buf = p;
    *cap = bytes / sizeof(float);
    return 0;
}

static float *buf_c; /* the depth split's second half (gemm_split_k) */
static size_t cap_c;

void vgg_driver_free_buffers(void) {
    pthread_mutex_lock(&buf_lock);
    for (int t = 0; t < MAX_THREADS; t++) {
        free(buf_a[t]);
        free(buf_b[t]);
        buf_a[t] = buf_b[t] = NULL;
        cap_a[t] = cap_b[t] = 0;
    }
    free(buf_c);
    buf_c = NULL;
    cap_c = 0;
    pthread_mutex_unlock(&buf_lock);
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

static int dyn_panels = 1; /* a switch for measuring, always on */
void vgg_driver_set_dynamic(int on) { dyn_panels = on != 0; }

typedef struct gemm_args {
    const vgg_kernel *k;
    int transa, transb, K;
    float alpha, beta;
    const float *A, *B;
    long lda, ldb, ldc;
    float *C;
    const vgg_im2col_src *im; /* non-NULL: op(B) is this implicit im2col */
} gemm_args;

/* The depth is cut into equal blocks of at most kc (K = 576 -> 2 x 288
 * rather than 256 + 256 + 64): fewer passes over C, no thin last pass. It
 * depends on K alone, so every thread sums in the same order. */
static int kc_block(int K, int kc) {
    int nb = (K + kc - 1) / kc;
    return (K + nb - 1) / nb;
}

/* ---- the micro-kernel's depth chunks ------------------------------------ */

/* The micro-kernel sums its depth in chunks of at most VGG_KSUB, each from
 * zero in the registers and then added to C: a running sum's rounding
 * error grows with its length, and one register chain over the whole
 * 576-1152 of a depth block had twice PyTorch's rounding error in the
 * forward pass (layer outputs against a float64 run; docs/gemm.md). The
 * C tile stays in L1 between chunks; at 256 the extra loads and stores
 * cost about 2.6% of the step's GEMM rate on the AVX-512 kernel
 * (docs/gemm.md). kc is cut into equal chunks (576 -> 3 x 192), which
 * depends on kc alone: the sum order is still the same whatever the
 * thread count. */
static inline long ksub_chunk(long kc) {
    const long n = kc > VGG_KSUB ? (kc + VGG_KSUB - 1) / VGG_KSUB : 1;
    return (kc + n - 1) / n;
}

/* One tile: mr <= MR rows, nr <= NR columns, over a depth block of kc. */
static inline void tile(const vgg_kernel *k, long kc, const float *a,
                        const float *b, float *c, long ldc, int mr, int nr,
                        float alpha, float beta) {
    const long sub = ksub_chunk(kc);
    for (long p0 = 0;;) { /* one chunk; kc == 0 still stores beta C */
        const long p1 = kc - p0 < sub ? kc : p0 + sub;
        k->ukernel(p1 - p0, a + p0 * k->mr, b + p0 * k->nr, c, ldc, mr, nr,
                   alpha, p0 ? 1.0f : beta);
        if (p1 >= kc) break;
        p0 = p1;
    }
}

/* ---- one thread's share -------------------------------------------------- */

/* Packs op(B)[pc..pc+kc)[col..col+nc) into NR-column micro-panels. */
static void pack_b(const gemm_args *g, float *pb, long col, int nc, int pc,
                   int kc) {
    const vgg_kernel *k = g->k;
    if (g->im && g->transb)
        k->pack_im2col_rows(pb, g->im, col, nc, pc, kc);
    else if (g->im)
        k->pack_im2col_cols(pb, g->im, col, nc, pc, kc);
    else if (g->transb)
        k->pack_kmajor(pb, g->B + col * g->ldb + pc, g->ldb, nc, kc, k->nr);
    else
        k->pack_imajor(pb, g->B + (long)pc * g->ldb + col, g->ldb, nc, kc,
                       k->nr);
}

/* Packs op(A)[row..row+mc)[pc..pc+kc) into MR-row micro-panels. */
static void pack_a(const gemm_args *g, float *pa, long row, int mc, int pc,
                   int kc) {
    const vgg_kernel *k = g->k;
    if (g->transa)
        k->pack_imajor(pa, g->A + (long)pc * g->lda + row, g->lda, mc, kc,
                       k->mr);
    else
        k->pack_kmajor(pa, g->A + row * g->lda + pc, g->lda, mc, kc, k->mr);
}

/* C[m0..m0+m)[n0..n0+n) of the product, on this thread's buffers, in loop
 * order `order` (see the blocking table). */
static void gemm_slab(const gemm_args *g, int order, int kb, int m0, int m,
                      int n0, int n, int k0, int k1, float *pa, float *pb) {
    const vgg_blocking b = blocking_of(g->k, order);
    const int MR = g->k->mr, NR = g->k->nr;
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
                            tile(g->k, kc, pa + (long)ir * kc, pbj,
                                 g->C + (row + ir) * g->ldc + col + jr, g->ldc,
                                 imin(MR, mc - ir), nr, g->alpha, beta);
                    }
                } else {
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = imin(MR, mc - ir);
                        for (int jr = 0; jr < nc; jr += NR)
                            tile(g->k, kc, pa + (long)ir * kc,
                                 pb + (long)jr * kc,
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
    const int K = g->K, kb = kc_block(K, blocking_of(g->k, 0).kc);
    const int MR = g->k->mr, NR = g->k->nr;
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
                tile(g->k, kc, pa + (long)ir * kc, pb, g->C + ir * g->ldc + jr,
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
static int split_k_mode = -1;
void vgg_driver_set_split_k(int mode) {
    split_k_mode = mode == 0 || mode == 1 ? mode : -1;
}

static void gemm_split_k(const gemm_args *g, int M, int N, int kb, int mid,
                         int nt) {
    const int K = g->K, vec = g->k->vec, ntile_n = (N + vec - 1) / vec;
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
            int n0 = (int)((long)ntile_n * r / gn) * vec;
            int n1 = imin(N, (int)((long)ntile_n * (r + 1) / gn) * vec);
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
    const int MR = g.k->mr, NR = g.k->nr, vec = g.k->vec;

    /* Slabs: split the columns (each thread packs all of A and its share of
     * B) or the rows (its share of A, all of B), whichever packs less per
     * thread, counting a transposing pack (A not transposed, B
     * transposed) twice a copy; the columns when C is too narrow to
     * share them. (Rows for the forward and input gradient of layers 10 to
     * 12, N = 512: 1.06 to 1.25x; the rest as before: docs/gemm.md.)
     * Column slabs are cut at a vector's columns (a slab may end in a
     * narrower micro-panel, which the kernels handle at no waste), row
     * slabs at MR rows. */
    int ntile_n = (N + vec - 1) / vec, ntile_m = (M + MR - 1) / MR;
    const double wa = g.transa ? 1.0 : 2.0, wb = g.transb ? 2.0 : 1.0;
    const double pack_n = wa * M + wb * N / nt, pack_m = wa * M / nt + wb * N;
    int split_n = ntile_n >= nt && (pack_n <= pack_m || ntile_m < nt);
    int tiles = split_n ? ntile_n : ntile_m;
    if (tiles < nt) nt = tiles;

    /* Order 1 only for a shallow depth, where order 0's micro-panels are
     * too thin to pay for their packing (the first layer's K = 27). */
    int order = force_order >= 0 ? force_order : K < 128 ? 1 : 0;
    const vgg_blocking b = blocking_of(g.k, order);
    int kc = kc_block(K, b.kc);
    /* Depth split (see gemm_split_k), by the shape alone: 4+ depth blocks
     * and fewer than 32 B panels (layers 0-4's weight gradients: 1.02-1.2x;
     * layers 5 and 6's, 36 panels handed out as threads come, 0.93-1.04:
     * docs/gemm.md). */
    const int nb = (K + b.kc - 1) / b.kc;
    const int ksplit = order == 0 && g.transb && !g.transa && M <= b.mc &&
                       (split_k_mode > 0 || (split_k_mode < 0 && nb >= 4 &&
                                             (N + NR - 1) / NR < 32));
    const int nb2 = (nb + 1) / 2 * 2, kc2 = (K + nb2 - 1) / nb2;
    const int halves = ksplit && (nb2 / 2) * kc2 < K; /* a second half to sum */
    if (halves) kc = kc2;
    /* The depth split packs all rows in each half (M <= MC). */
    int mcap = halves || split_n ? M : (ntile_m + nt - 1) / nt * MR;
    int ncap = split_n ? (ntile_n + nt - 1) / nt * vec : N;
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
        int t0 = (int)((long)tiles * t / tn),
            t1 = (int)((long)tiles * (t + 1) / tn);
        int m0 = 0, m1 = M, n0 = 0, n1 = N;
        if (panels) {
            gemm_panels(&g, M, N, tn, buf_a[t], buf_b[t]);
        } else if (split_n) {
            n0 = t0 * vec;
            n1 = imin(N, t1 * vec);
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

int vgg_driver_gemm(const vgg_kernel *k, int transa, int transb, int M, int N,
                    int K, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc, int nthreads) {
    gemm_args g = {k, transa, transb, K,   alpha, beta, A,
                   B, lda,    ldb,    ldc, C,     NULL};
    return gemm_locked(g, M, N, K, nthreads);
}

int vgg_driver_gemm_im2col(const vgg_kernel *k, int transb, int M, float alpha,
                           const float *A, int lda, const vgg_im2col_src *src,
                           float beta, float *C, int ldc, int nthreads) {
    const long npix = (long)src->N * src->H * src->W;
    const int rows = src->C * 9;
    if (npix > 0x7fffffffL) return -1;
    gemm_args g = {
        k,   0, transb, transb ? (int)npix : rows, alpha, beta, A, NULL, lda, 0,
        ldc, C, src};
    return gemm_locked(g, M, transb ? rows : (int)npix, g.K, nthreads);
}
