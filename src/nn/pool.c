#include "vgg/nn.h"

#include "kernels/kernel.h"

/* 2x2 max-pool, stride 2, on P planes of H x W. The window's first
 * maximum wins (order: top-left, top-right, bottom-left, bottom-right), as
 * in PyTorch; arg keeps its index for the backward pass. The inner loops
 * are branch-free selects over one output row so that they vectorise;
 * the instruction set's own row functions replace them where it has them
 * (vgg_kernel's pool_row, chosen at run time: kernel.h). */
void vgg_maxpool_forward(float *out, uint8_t *arg, const float *in, int P,
                         int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    const long rows = (long)P * Ho;
    const vgg_pool_row_fn row = vgg_kernel_ops()->pool_row;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        const float *r0 = in + 2 * r * W, *r1 = r0 + W;
        float *o = out + r * Wo;
        uint8_t *a = arg + r * Wo;
        if (row) {
            row(o, a, r0, r1, Wo);
            continue;
        }
#pragma omp simd
        for (int x = 0; x < Wo; x++) {
            float best = r0[2 * x];
            int k = 0;
            float v = r0[2 * x + 1];
            k = v > best ? 1 : k;
            best = v > best ? v : best;
            v = r1[2 * x];
            k = v > best ? 2 : k;
            best = v > best ? v : best;
            v = r1[2 * x + 1];
            k = v > best ? 3 : k;
            best = v > best ? v : best;
            o[x] = best;
            a[x] = (uint8_t)k;
        }
    }
}

void vgg_maxpool_backward(float *din, const float *dout, const uint8_t *arg,
                          int P, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    const long rows = (long)P * Ho;
    const vgg_unpool_row_fn row = vgg_kernel_ops()->unpool_row;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        float *r0 = din + 2 * r * W, *r1 = r0 + W;
        const float *g = dout + r * Wo;
        const uint8_t *a = arg + r * Wo;
        if (row) {
            row(r0, r1, g, a, Wo);
            continue;
        }
#pragma omp simd
        for (int x = 0; x < Wo; x++) {
            int k = a[x];
            float gv = g[x];
            r0[2 * x] = k == 0 ? gv : 0.0f;
            r0[2 * x + 1] = k == 1 ? gv : 0.0f;
            r1[2 * x] = k == 2 ? gv : 0.0f;
            r1[2 * x + 1] = k == 3 ? gv : 0.0f;
        }
    }
}
