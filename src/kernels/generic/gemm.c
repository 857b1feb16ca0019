/* The portable kernel: a 4x16 micro-kernel and its packers in plain C,
 * through the same seam as the vector ones (kernel.h). It runs on any CPU
 * (VGG_GEMM=generic), and it is the reference every instruction set's
 * kernel is tested against (tests/test_gemm.c): the same driver, the same
 * packed layouts, the same depth chunks, only the arithmetic differs (a
 * multiply and an add where the vector kernels fuse them). Written for
 * clarity first; the compiler vectorises the inner loops for the build's
 * baseline. */
#include <string.h>

#include "kernels/kernel.h"

#define MR 4
#define NR 16

static int generic_supported(void) { return 1; }

static void generic_ukernel(long kc, const float *restrict a,
                            const float *restrict b, float *restrict c,
                            long ldc, int mr, int nr, float alpha, float beta) {
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (long p = 0; p < kc; p++, a += MR, b += NR)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float r = acc[i][j], *cij = c + i * ldc + j;
            if (alpha != 1.0f) r *= alpha;
            if (beta == 1.0f)
                r += *cij;
            else if (beta != 0.0f)
                r = beta * *cij + r;
            *cij = r;
        }
}

static void pack_kmajor(float *restrict out, const float *x, long ldx, int rows,
                        int kc, int W) {
    for (int i0 = 0; i0 < rows; i0 += W, out += (long)W * kc)
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < W; i++)
                out[(long)p * W + i] =
                    i0 + i < rows ? x[(long)(i0 + i) * ldx + p] : 0.0f;
}

static void pack_imajor(float *restrict out, const float *x, long ldx, int rows,
                        int kc, int W) {
    for (int i0 = 0; i0 < rows; i0 += W, out += (long)W * kc)
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < W; i++)
                out[(long)p * W + i] =
                    i0 + i < rows ? x[(long)p * ldx + i0 + i] : 0.0f;
}

/* col[r][j] of the implicit im2col (vgg_im2col_src): channel r / 9, tap
 * t = r % 9 = 3*(dy+1) + (dx+1), pixel j shifted by (dy, dx), or 0 where
 * that leaves its image. */
static inline float col_at(const vgg_im2col_src *s, long r, long j) {
    const long HW = (long)s->H * s->W, M = (long)s->N * HW;
    const int t = (int)(r % 9), dy = t / 3 - 1, dx = t % 3 - 1;
    const int y = (int)(j % HW / s->W) + dy, x = (int)(j % s->W) + dx;
    if (y < 0 || y >= s->H || x < 0 || x >= s->W) return 0.0f;
    return s->x[(r / 9) * M + j + dy * s->W + dx];
}

static void pack_im2col_cols(float *restrict out, const vgg_im2col_src *s,
                             long j0, int n, long pc, int kc) {
    for (int i0 = 0; i0 < n; i0 += NR, out += (long)NR * kc)
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < NR; i++)
                out[(long)p * NR + i] =
                    i0 + i < n ? col_at(s, pc + p, j0 + i0 + i) : 0.0f;
}

static void pack_im2col_rows(float *restrict out, const vgg_im2col_src *s,
                             long j0, int n, long pc, int kc) {
    for (int i0 = 0; i0 < n; i0 += NR, out += (long)NR * kc)
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < NR; i++)
                out[(long)p * NR + i] =
                    i0 + i < n ? col_at(s, j0 + i0 + i, pc + p) : 0.0f;
}

const vgg_kernel vgg_kernel_generic = {
    .name = "generic",
    .supported = generic_supported,
    .mr = MR,
    .nr = NR,
    .vec = NR,
    .blk = {{256, 128, 1024}, {256, 128, 512}},
    .ukernel = generic_ukernel,
    .pack_kmajor = pack_kmajor,
    .pack_imajor = pack_imajor,
    .pack_im2col_cols = pack_im2col_cols,
    .pack_im2col_rows = pack_im2col_rows,
};
