/* 1x1 convolution (configuration C): in CNHW the input is already the
 * GEMM's right operand, in[Cin][N*H*W], so each pass is one GEMM. */
#include "vgg/gemm.h"
#include "vgg/nn.h"
#include "vgg/profile.h"

vgg_status vgg_conv1x1_forward(float *out, const float *in, const float *w,
                               const float *b, int Cin, int Cout, int M) {
    if (b) {
        double t = vgg_now();
#pragma omp parallel for schedule(static)
        for (int co = 0; co < Cout; co++) {
            float *o = out + (long)co * M;
            for (int j = 0; j < M; j++) o[j] = b[co];
        }
        vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
    }
    return vgg_gemm(0, 0, Cout, M, Cin, 1.0f, w, Cin, in, M, b ? 1.0f : 0.0f,
                    out, M);
}

vgg_status vgg_conv1x1_backward(float *din, float *dw, float *db,
                                const float *dout, const float *in,
                                const float *w, int Cin, int Cout, int M) {
    if (db) vgg_bias_backward(db, dout, Cout, M);
    /* dw[Cout][Cin] += dout[Cout][M] x in[Cin][M]^T */
    vgg_status st =
        vgg_gemm(0, 1, Cout, Cin, M, 1.0f, dout, M, in, M, 1.0f, dw, Cin);
    /* din[Cin][M] = w[Cout][Cin]^T x dout[Cout][M] */
    if (st || !din) return st;
    return vgg_gemm(1, 0, Cin, M, Cout, 1.0f, w, Cin, dout, M, 0.0f, din, M);
}

void vgg_relu_forward(float *x, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        if (x[i] < 0.0f) x[i] = 0.0f; /* NaN stays NaN, as in PyTorch */
}

void vgg_relu_backward(float *g, const float *y, long n, float scale) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) g[i] = y[i] > 0.0f ? g[i] * scale : 0.0f;
}
