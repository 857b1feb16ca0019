#include <stddef.h>
#include <string.h>

#include "vgg/gemm.h"
#include "vgg/nn.h"
#include "vgg/profile.h"

vgg_status vgg_conv_forward(float *out, float *col, size_t col_n,
                            const float *in, const float *w, const float *b,
                            int Cin, int Cout, int N, int H, int W) {
    const int M = N * H * W, K = Cin * 9;
    if (b) {
        double t = vgg_now();
#pragma omp parallel for schedule(static)
        for (int co = 0; co < Cout; co++) {
            float *o = out + (long)co * M;
            for (int j = 0; j < M; j++) o[j] = b[co];
        }
        vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
    }
    const vgg_im2col_src src = {in, Cin, N, H, W};
    return vgg_gemm_im2col(0, Cout, 1.0f, w, K, &src, col, col_n,
                           b ? 1.0f : 0.0f, out, M);
}

size_t vgg_conv_scratch(int Cin, int Cout, int N, int H, int W) {
    if (vgg_gemm_im2col_implicit()) return (size_t)Cin * Cout * 9;
    return (size_t)Cin * 9 * N * H * W;
}

void vgg_bias_backward(float *db, const float *dout, int C, int M) {
    double t = vgg_now();
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const float *g = dout + (long)c * M;
        double s = 0.0;
        for (int j = 0; j < M; j++) s += g[j];
        db[c] += (float)s;
    }
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
}

vgg_status vgg_conv_backward(float *din, float *dw, float *db, float *col,
                             size_t col_n, const float *dout, const float *in,
                             const float *w, int Cin, int Cout, int N, int H,
                             int W) {
    const int M = N * H * W, K = Cin * 9;
    if (db) vgg_bias_backward(db, dout, Cout, M);
    /* dw[Cout][K] += dout[Cout][M] x col[K][M]^T */
    const vgg_im2col_src src = {in, Cin, N, H, W};
    vgg_status st =
        vgg_gemm_im2col(1, Cout, 1.0f, dout, M, &src, col, col_n, 1.0f, dw, K);
    if (st || !din) return st;
    return vgg_conv_backward_data(din, col, col_n, dout, w, Cin, Cout, N, H, W);
}

vgg_status vgg_conv_backward_data(float *din, float *col, size_t col_n,
                                  const float *dout, const float *w, int Cin,
                                  int Cout, int N, int H, int W) {
    const int M = N * H * W, K = Cin * 9;
    if (vgg_gemm_im2col_implicit() && col_n >= (size_t)Cin * Cout * 9) {
        /* din is the convolution of dout with the weights transposed
         * (Cin <-> Cout) and turned half a turn (tap t -> 8 - t):
         * din[c][j] = sum over co, t of w[co][c][8-t] dout[co][j + s_t],
         * with s_t tap t's shift, as in the forward pass. col holds the
         * turned weights wt[Cin][Cout*9]. */
        double t = vgg_now();
#pragma omp parallel for schedule(static)
        for (int c = 0; c < Cin; c++)
            for (int co = 0; co < Cout; co++)
                for (int k = 0; k < 9; k++)
                    col[((long)c * Cout + co) * 9 + k] =
                        w[((long)co * Cin + c) * 9 + 8 - k];
        vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
        const vgg_im2col_src gsrc = {dout, Cout, N, H, W};
        return vgg_gemm_im2col(0, Cin, 1.0f, col, Cout * 9, &gsrc, NULL, 0,
                               0.0f, din, M);
    }
    /* dcol[K][M] = w[Cout][K]^T x dout[Cout][M], reusing col */
    if (col_n < (size_t)K * M) return VGG_ERR_ARG; /* see vgg_conv_scratch */
    vgg_status st =
        vgg_gemm(1, 0, K, M, Cout, 1.0f, w, K, dout, M, 0.0f, col, M);
    if (!st) vgg_col2im(din, col, Cin, N, H, W);
    return st;
}

/* The reference: the definition of a 3x3 pad-1 convolution, in CNHW. */
void vgg_conv_forward_ref(float *out, const float *in, const float *w,
                          const float *b, int Cin, int Cout, int N, int H,
                          int W) {
    const long HW = (long)H * W, M = (long)N * HW;
    for (int co = 0; co < Cout; co++)
        for (int n = 0; n < N; n++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    double s = b[co];
                    for (int ci = 0; ci < Cin; ci++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int sy = y + ky - 1, sx = x + kx - 1;
                                if (sy < 0 || sy >= H || sx < 0 || sx >= W)
                                    continue;
                                s +=
                                    (double)
                                        w[((co * Cin + ci) * 3 + ky) * 3 + kx] *
                                    in[ci * M + n * HW + sy * W + sx];
                            }
                    out[co * M + n * HW + y * W + x] = (float)s;
                }
}

void vgg_conv_backward_ref(float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int Cin, int Cout,
                           int N, int H, int W) {
    const long HW = (long)H * W, M = (long)N * HW;
    if (din) memset(din, 0, sizeof(float) * Cin * M);
    for (int co = 0; co < Cout; co++)
        for (int n = 0; n < N; n++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    float g = dout[co * M + n * HW + y * W + x];
                    db[co] += g;
                    for (int ci = 0; ci < Cin; ci++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int sy = y + ky - 1, sx = x + kx - 1;
                                if (sy < 0 || sy >= H || sx < 0 || sx >= W)
                                    continue;
                                long wi = ((co * Cin + ci) * 3 + ky) * 3 + kx;
                                long ii = ci * M + n * HW + sy * W + sx;
                                dw[wi] += g * in[ii];
                                if (din) din[ii] += g * w[wi];
                            }
                }
}
