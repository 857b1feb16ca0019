/* The kernel seam (private to the library): what one instruction set
 * contributes to the GEMM, as in BLIS's context files and XNNPACK's
 * hardware config. The loops around the micro-kernel, the thread split,
 * the depth blocks and their chunking live once, in gemm_driver.c; each
 * instruction set is a folder (generic/, x86_avx2/, x86_avx512/, ...)
 * holding its micro-kernel and packers, compiled with its own target
 * flags, and one vgg_kernel entry, listed in kernel_table.c. Nothing
 * outside those folders includes an intrinsics header. docs/kernels.md.
 *
 * Packed layouts, for every kernel: an A micro-panel [kc][MR] holds, for
 * each depth index p, MR consecutive rows of op(A); a B micro-panel
 * [kc][NR] holds NR consecutive columns of op(B). Rows and columns past
 * the matrix are zero. Panel i of a block starts i*kc*MR (or NR) floats
 * into the driver's buffer (2 MiB-aligned): B panels are 64-byte aligned
 * when NR is a multiple of 16. */
#ifndef VGG_KERNELS_KERNEL_H
#define VGG_KERNELS_KERNEL_H

#include <stdint.h>

#include "vgg/gemm.h"

/* Cache blocking: KC (depth of a packed panel), MC (rows of a packed A
 * block, a multiple of MR), NC (columns of a packed B block, a multiple
 * of NR). */
typedef struct vgg_blocking {
    int kc, mc, nc;
} vgg_blocking;

/* C[mr][nr] (row stride ldc) = alpha * a.b + beta * C, where a is a packed
 * A micro-panel [kc][MR] and b a packed B micro-panel [kc][NR]; mr <= MR,
 * nr <= NR, and only those rows and columns are stored. beta == 0 does
 * not read C. The driver calls it once per chunk of the depth (at most
 * VGG_KSUB deep), so the kernel sums one chain of kc terms per element,
 * starting from zero, then scales and adds: alpha * sum, then + C (beta
 * 1), or beta * C + (alpha * sum), fused where the ISA has FMA. */
typedef void (*vgg_ukernel_fn)(long kc, const float *a, const float *b,
                               float *c, long ldc, int mr, int nr, float alpha,
                               float beta);

/* Packs X[i][p] (i < rows, p < kc) into micro-panels of W rows
 * (W = MR or NR): out[panel][p][W], zero past `rows`.
 *   kmajor: X[i][p] = x[i*ldx + p] (the depth runs along memory): op(A)
 *           with transa 0, op(B) with transb 1.
 *   imajor: X[i][p] = x[p*ldx + i]: op(A) with transa 1, op(B) with
 *           transb 0. */
typedef void (*vgg_pack_fn)(float *out, const float *x, long ldx, int rows,
                            int kc, int W);

/* The implicit im2col (see vgg_im2col_src), packed into NR-wide
 * micro-panels without forming col:
 *   cols (forward, op(B) = col): B[p][i] = col[pc + p][j0 + i], i < n;
 *   rows (weight gradient, op(B) = col^T): B[p][i] = col[j0 + i][pc + p].
 * The input gradient is a forward convolution of dout with the turned
 * weights, so it takes the cols packer too (src/nn/conv.c). */
typedef void (*vgg_pack_im2col_fn)(float *out, const vgg_im2col_src *s, long j0,
                                   int n, long pc, int kc);

/* The 2x2 stride-2 max-pool of one output row (n windows), and its
 * backward (see vgg_maxpool_forward in vgg/nn.h); NULL: the portable
 * loop in src/nn/pool.c. */
typedef void (*vgg_pool_row_fn)(float *o, uint8_t *arg, const float *r0,
                                const float *r1, int n);
typedef void (*vgg_unpool_row_fn)(float *r0, float *r1, const float *g,
                                  const uint8_t *arg, int n);

/* Batch norm's loops over one channel's row (src/nn/batchnorm_rows.h,
 * compiled per instruction set). */
typedef struct vgg_bn_rows {
    void (*sums)(const float *x, float k, int M, double *s, double *ss);
    void (*affine)(float *o, const float *x, float a, float b, int relu, int M);
    void (*grad_sums)(const float *g, const float *x, float a, float b,
                      float mu, int relu, int M, double *sg, double *sgx);
    double (*grad_apply)(float *d, const float *g, const float *x, float a,
                         float b, float mu, float k, float mg, float mgx,
                         int relu, int M);
} vgg_bn_rows;

typedef struct vgg_kernel {
    const char *name;       /* VGG_GEMM and vggbench --gemm take it */
    int (*supported)(void); /* 1 when this CPU and OS can run it */
    int mr, nr;             /* register block */
    int vec;                /* floats per vector: column slabs are cut at it */
    vgg_blocking blk[2];    /* per loop order (see gemm_driver.c) */
    vgg_ukernel_fn ukernel;
    vgg_pack_fn pack_kmajor, pack_imajor;
    vgg_pack_im2col_fn pack_im2col_cols, pack_im2col_rows;
    vgg_pool_row_fn pool_row;     /* may be NULL */
    vgg_unpool_row_fn unpool_row; /* may be NULL */
    const vgg_bn_rows *bn;        /* NULL: the baseline build's */
    /* The FMA peak probe's loop (fma_peak.c): runs FMA chains for about
     * `seconds` and stores in *iters how many steps it made, each step
     * flops_per_step FLOP; returns a value to keep. NULL: no probe. */
    float (*fma_loop)(double seconds, uint64_t *iters);
    double flops_per_step;
    int flops_per_cycle; /* nominal, per core: FMA pipes x lanes x 2 */
} vgg_kernel;

/* Depth chunk of the micro-kernel: each C element's depth block is summed
 * in chunks of at most this many terms from zero, then added up, which
 * holds the rounding of a 576-4608 deep sum at OpenBLAS's and PyTorch's
 * level (tests/test_gemm.c, test_depth_accuracy; docs/kernels.md). */
#ifndef VGG_KSUB
#define VGG_KSUB 256
#endif

/* Every kernel this build has, best first, NULL-terminated; entries the
 * CPU cannot run are listed too. */
const vgg_kernel *const *vgg_kernels(void);
/* The kernel called `name`, or NULL. */
const vgg_kernel *vgg_kernel_find(const char *name);
/* The best kernel this CPU supports (the portable one at worst). */
const vgg_kernel *vgg_kernel_best(void);
/* The kernel the GEMM uses now, or NULL when it is OpenBLAS. */
const vgg_kernel *vgg_kernel_current(void);
/* The kernel whose non-GEMM functions (pool_row, ...) the layers use: the
 * GEMM's, or the best supported when the GEMM is OpenBLAS. */
const vgg_kernel *vgg_kernel_ops(void);

#endif
