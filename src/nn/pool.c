#include "vgg/nn.h"

void vgg_maxpool_forward(float *out, uint8_t *arg, const float *in, int P,
                         int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < P; p++) {
        const float *x = in + (long)p * H * W;
        float *o = out + (long)p * Ho * Wo;
        uint8_t *a = arg + (long)p * Ho * Wo;
        for (int y = 0; y < Ho; y++)
            for (int xo = 0; xo < Wo; xo++) {
                const float *r0 = x + (2 * y) * W + 2 * xo, *r1 = r0 + W;
                float v[4] = {r0[0], r0[1], r1[0], r1[1]};
                int best = 0;
                for (int k = 1; k < 4; k++)
                    if (v[k] > v[best]) best = k;
                o[y * Wo + xo] = v[best];
                a[y * Wo + xo] = (uint8_t)best;
            }
    }
}

void vgg_maxpool_backward(float *din, const float *dout, const uint8_t *arg,
                          int P, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < P; p++) {
        float *d = din + (long)p * H * W;
        const float *g = dout + (long)p * Ho * Wo;
        const uint8_t *a = arg + (long)p * Ho * Wo;
        for (int y = 0; y < Ho; y++)
            for (int xo = 0; xo < Wo; xo++) {
                float *r0 = d + (2 * y) * W + 2 * xo, *r1 = r0 + W;
                int k = a[y * Wo + xo];
                float gv = g[y * Wo + xo];
                r0[0] = k == 0 ? gv : 0.0f;
                r0[1] = k == 1 ? gv : 0.0f;
                r1[0] = k == 2 ? gv : 0.0f;
                r1[1] = k == 3 ? gv : 0.0f;
            }
    }
}
