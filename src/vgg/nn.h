/* Layer kernels. Activations use the CNHW layout: a tensor of C channels,
 * N images of H x W is stored as [C][N][H][W], so that one channel of the
 * whole batch is one contiguous row of M = N*H*W values. That makes the
 * convolution one GEMM per layer and pass (out[Cout][M] = W[Cout][Cin*9] x
 * col[Cin*9][M]) and batch norm a loop over contiguous rows.
 *
 * Conventions (as llm.c): outputs first, sizes last. Backward functions ADD
 * into parameter gradients (so zeroing them is one memset) and OVERWRITE
 * input gradients. */
#ifndef VGG_NN_H
#define VGG_NN_H

#include <stddef.h>
#include <stdint.h>

#include "vgg/status.h"

/* col[Cin*9][N*H*W] from in[Cin][N][H][W], 3x3 window, pad 1, stride 1. */
void vgg_im2col(float *col, const float *in, int C, int N, int H, int W);
/* din[C][N][H][W] = sum of col's contributions (the adjoint of im2col). */
void vgg_col2im(float *din, const float *col, int C, int N, int H, int W);

/* conv3x3 pad 1: out[Cout][N*H*W]; w[Cout][Cin][3][3]; b[Cout] (NULL: no
 * bias, as when batch norm follows and takes it). col is scratch of
 * vgg_conv_scratch() floats: the im2col matrix (Cin*9*N*H*W) when the GEMM
 * in use forms it, else room for the turned weights of the backward pass
 * (Cin*Cout*9). Ask after the GEMM is chosen (vgg_gemm_select); col_n is
 * col's size in floats, so that a GEMM chosen since (one that forms the
 * matrix) takes a buffer of its own rather than overrunning it. Both
 * return VGG_OK, or the GEMM's failure (VGG_ERR_NOMEM: its buffers could
 * not be allocated; the outputs are then incomplete). */
size_t vgg_conv_scratch(int Cin, int Cout, int N, int H, int W);
vgg_status vgg_conv_forward(float *out, float *col, size_t col_n,
                            const float *in, const float *w, const float *b,
                            int Cin, int Cout, int N, int H, int W);
/* din may be NULL (first layer: no input gradient needed); db may be NULL
 * (computed by the batch norm that took the bias). */
vgg_status vgg_conv_backward(float *din, float *dw, float *db, float *col,
                             size_t col_n, const float *dout, const float *in,
                             const float *w, int Cin, int Cout, int N, int H,
                             int W);
/* The input-gradient half of vgg_conv_backward alone: din (overwritten)
 * from dout and w, with the same scratch. */
vgg_status vgg_conv_backward_data(float *din, float *col, size_t col_n,
                                  const float *dout, const float *w, int Cin,
                                  int Cout, int N, int H, int W);
/* Direct seven-loop convolution: the reference the tests compare with. */
void vgg_conv_forward_ref(float *out, const float *in, const float *w,
                          const float *b, int Cin, int Cout, int N, int H,
                          int W);
void vgg_conv_backward_ref(float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int Cin, int Cout,
                           int N, int H, int W);

/* 1x1 convolution over M = N*H*W positions: out[Cout][M] = w[Cout][Cin] x
 * in[Cin][M] (+ b, which may be NULL). Backward: din may be NULL, db may
 * be NULL; dw and db are added to. */
vgg_status vgg_conv1x1_forward(float *out, const float *in, const float *w,
                               const float *b, int Cin, int Cout, int M);
vgg_status vgg_conv1x1_backward(float *din, float *dw, float *db,
                                const float *dout, const float *in,
                                const float *w, int Cin, int Cout, int M);

/* A bias's gradient: db[c] += the sum of dout[c][0..M) (in double), for
 * the convolutions whose bias no batch norm takes. */
void vgg_bias_backward(float *db, const float *dout, int C, int M);

/* ReLU in place (NaN stays NaN, so divergence shows), and its backward from
 * the output y: g[i] = y[i] > 0 ? g[i] * scale : 0. scale 2 takes a
 * Dropout(0.5) whose dropped entries are 0 in y through as well (a kept
 * entry is 2 * relu, a dropped one 0). */
void vgg_relu_forward(float *x, long n);
void vgg_relu_backward(float *g, const float *y, long n, float scale);

/* Batch norm over rows of M values per channel, optionally fused with ReLU,
 * of x = in + bias, where bias (may be NULL) is the preceding conv's bias
 * folded in: batch norm cancels it in training except in the running mean,
 * so the conv can skip adding it. Training uses batch statistics (biased
 * variance for normalising, unbiased for the running variance, as PyTorch)
 * and keeps mean[C] and invstd[C] of `in` for the backward pass.
 * scratch holds 3*C doubles. */
void vgg_batchnorm_forward_train(float *out, float *mean, float *invstd,
                                 float *run_mean, float *run_var,
                                 const float *in, const float *bias,
                                 const float *gamma, const float *beta,
                                 int relu, float momentum, float eps, int C,
                                 int M, double *scratch);
/* Evaluation: running statistics. out may alias in. */
void vgg_batchnorm_forward_eval(float *out, const float *in, const float *bias,
                                const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var,
                                int relu, float eps, int C, int M);
/* in, mean, invstd as the training forward kept them; gamma and beta as
 * it used them (the ReLU mask is recomputed from them; ignored when relu
 * is 0). din may alias dout. dbias (may be NULL) gets the gradient of the
 * folded-in bias, the sum of din. scratch holds 2*C doubles. */
void vgg_batchnorm_backward(float *din, float *dgamma, float *dbeta,
                            float *dbias, const float *dout, const float *in,
                            const float *gamma, const float *beta,
                            const float *mean, const float *invstd, int relu,
                            int C, int M, double *scratch);

/* The two halves of each pass, for data-parallel training: the per-channel
 * sums (sums[2c], sums[2c+1]) can be added across processes between them
 * (synchronised batch norm), with count the total values per channel.
 * Forward: sums of (x - shift) and (x - shift)^2. Backward: sums of dz and
 * dz * xhat; the backward sums also add this process's share to dgamma and
 * dbeta. */
void vgg_batchnorm_sums(double *sums, const float *in, const float *shift,
                        int C, int M);
void vgg_batchnorm_apply_train(float *out, float *mean, float *invstd,
                               float *run_mean, float *run_var,
                               const double *sums, const float *shift,
                               long count, const float *in, const float *bias,
                               const float *gamma, const float *beta, int relu,
                               float momentum, float eps, int C, int M);
void vgg_batchnorm_backward_sums(double *sums, float *dgamma, float *dbeta,
                                 const float *dout, const float *in,
                                 const float *gamma, const float *beta,
                                 const float *mean, const float *invstd,
                                 int relu, int C, int M);
void vgg_batchnorm_backward_apply(float *din, float *dbias, const double *sums,
                                  long count, const float *dout,
                                  const float *in, const float *gamma,
                                  const float *beta, const float *mean,
                                  const float *invstd, int relu, int C, int M);

/* 2x2 max-pool, stride 2, over P planes of H x W (H, W even). arg keeps
 * which of the four won (first in row-major order on ties, as PyTorch). */
void vgg_maxpool_forward(float *out, uint8_t *arg, const float *in, int P,
                         int H, int W);
void vgg_maxpool_backward(float *din, const float *dout, const uint8_t *arg,
                          int P, int H, int W);

/* [C][N][S] -> [N][C*S] (PyTorch's flatten of NCHW) and back. */
void vgg_flatten_forward(float *out, const float *in, int C, int N, int S);
void vgg_flatten_backward(float *din, const float *dout, int C, int N, int S);

/* out[N][K] = in[N][F] x w[K][F]^T + b[K]. VGG_OK or the GEMM's failure. */
vgg_status vgg_linear_forward(float *out, const float *in, const float *w,
                              const float *b, int N, int F, int K);
vgg_status vgg_linear_backward(float *din, float *dw, float *db,
                               const float *dout, const float *in,
                               const float *w, int N, int F, int K);

/* Softmax cross-entropy, mean over the batch. Returns the summed loss (not
 * the mean) in double; dlogits (may be NULL) gets d(mean loss)/d(logits);
 * correct (may be NULL) gets the count of argmax hits; pred (may be NULL)
 * gets each row's argmax. */
double vgg_softmax_xent(float *dlogits, int *correct, int *pred,
                        const float *logits, const uint8_t *labels, int N,
                        int K);

#endif
