#include <string.h>

#include "vgg/nn.h"
#include "vgg/profile.h"

void vgg_im2col(float *col, const float *in, int C, int N, int H, int W) {
    const long HW = (long)H * W, M = (long)N * HW;
    double t0 = vgg_now();
    /* Each of the C*9 rows is independent: one contiguous output row per
     * (channel, tap), copied as shifted runs of the input rows. */
#pragma omp parallel for schedule(static)
    for (int r = 0; r < C * 9; r++) {
        int c = r / 9, ky = (r % 9) / 3, kx = r % 3;
        int dy = ky - 1, dx = kx - 1;
        int x0 = dx < 0 ? 1 : 0, x1 = dx > 0 ? W - 1 : W;
        float *dst = col + (long)r * M;
        const float *src = in + (long)c * M;
        for (int n = 0; n < N; n++) {
            for (int y = 0; y < H; y++) {
                float *d = dst + n * HW + (long)y * W;
                int sy = y + dy;
                if (sy < 0 || sy >= H) {
                    memset(d, 0, sizeof(float) * W);
                    continue;
                }
                const float *s = src + n * HW + (long)sy * W + dx;
                if (x0) d[0] = 0.0f;
                if (x1 < W) d[W - 1] = 0.0f;
                memcpy(d + x0, s + x0, sizeof(float) * (x1 - x0));
            }
        }
    }
    vgg_prof.seconds[VGG_PROF_IM2COL] += vgg_now() - t0;
}

void vgg_col2im(float *din, const float *col, int C, int N, int H, int W) {
    const long HW = (long)H * W, M = (long)N * HW;
    double t0 = vgg_now();
    /* One thread owns a channel and its nine rows: no write conflicts. */
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        float *dst = din + (long)c * M;
        memset(dst, 0, sizeof(float) * M);
        for (int k = 0; k < 9; k++) {
            int dy = k / 3 - 1, dx = k % 3 - 1;
            int x0 = dx < 0 ? 1 : 0, x1 = dx > 0 ? W - 1 : W;
            const float *src = col + ((long)c * 9 + k) * M;
            for (int n = 0; n < N; n++) {
                for (int y = 0; y < H; y++) {
                    int sy = y + dy;
                    if (sy < 0 || sy >= H) continue;
                    const float *s = src + n * HW + (long)y * W;
                    float *d = dst + n * HW + (long)sy * W + dx;
                    for (int x = x0; x < x1; x++) d[x] += s[x];
                }
            }
        }
    }
    vgg_prof.seconds[VGG_PROF_IM2COL] += vgg_now() - t0;
}
