#include "vgg/gemm.h"
#include "vgg/nn.h"

void vgg_flatten_forward(float *out, const float *in, int C, int N, int S) {
    for (int c = 0; c < C; c++)
        for (int n = 0; n < N; n++)
            for (int s = 0; s < S; s++)
                out[((long)n * C + c) * S + s] = in[((long)c * N + n) * S + s];
}

void vgg_flatten_backward(float *din, const float *dout, int C, int N, int S) {
    for (int c = 0; c < C; c++)
        for (int n = 0; n < N; n++)
            for (int s = 0; s < S; s++)
                din[((long)c * N + n) * S + s] =
                    dout[((long)n * C + c) * S + s];
}

vgg_status vgg_linear_forward(float *out, const float *in, const float *w,
                              const float *b, int N, int F, int K) {
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) out[n * K + k] = b[k];
    return vgg_gemm(0, 1, N, K, F, 1.0f, in, F, w, F, 1.0f, out, K);
}

vgg_status vgg_linear_backward(float *din, float *dw, float *db,
                               const float *dout, const float *in,
                               const float *w, int N, int F, int K) {
    for (int k = 0; k < K; k++) {
        double s = 0.0;
        for (int n = 0; n < N; n++) s += dout[n * K + k];
        db[k] += (float)s;
    }
    vgg_status st = vgg_gemm(1, 0, K, F, N, 1.0f, dout, K, in, F, 1.0f, dw, F);
    if (!st && din)
        st = vgg_gemm(0, 0, N, F, K, 1.0f, dout, K, w, F, 0.0f, din, F);
    return st;
}
