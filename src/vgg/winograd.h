/* Winograd minimal filtering for the 3x3, pad-1, stride-1 convolution of
 * nn.h (CNHW activations, w[Cout][Cin][3][3]), F(m x m, 3 x 3) with output
 * tiles of m = 4 (alpha = 6 input points a side) or m = 2 (alpha = 4).
 *
 * The maps are cut into T = N * (H/m) * (W/m) output tiles (H and W must
 * be multiples of m; pad 1 is handled by the input transform, which reads
 * zeros outside the map). Each of the alpha^2 transform points is one GEMM
 * through vgg_gemm, so the multiplications run on whichever GEMM kernel is
 * in use (for point p, as matrices; src/nn/winograd.c says how they are
 * laid out):
 *   forward   Y[p][Cout][T]   = U[p][Cout][Cin] x V[p][Cin][T]
 *             U = G g G^T (weights), V = B^T d B (input tiles),
 *             out = A^T Y A (output tiles);
 *   data      the forward of dout with the weights turned half a turn and
 *             Cin <-> Cout transposed (the direct path's trick, nn.h);
 *   weights   dU[p][Cout][Cin] = DY[p][Cout][T] x V[p][Cin][T]^T,
 *             DY = A dy A^T (dout tiles), dw += G^T dU G,
 *             the adjoint of the forward in g.
 *
 * All three take a scratch `ws` of vgg_wino_scratch() floats, which the
 * caller sizes once (the model: the largest layer) and reuses. */
#ifndef VGG_WINOGRAD_H
#define VGG_WINOGRAD_H

#include <stddef.h>

/* How a convolution pass is computed. */
typedef enum vgg_conv_algo {
    VGG_CONV_DIRECT = 0, /* one GEMM with im2col (nn.h) */
    VGG_CONV_WINO4,      /* F(4x4,3x3) */
    VGG_CONV_WINO2,      /* F(2x2,3x3) */
    VGG_CONV_NALGO
} vgg_conv_algo;

/* The passes of a convolution layer, in the order they run in training. */
enum { VGG_PASS_FWD = 0, VGG_PASS_DATA, VGG_PASS_WEIGHTS, VGG_PASS_COUNT };

const char *vgg_conv_algo_name(vgg_conv_algo a); /* "direct", "wino4", ... */
/* Output tile side of an algorithm (4, 2; 0 for direct). */
int vgg_wino_tile(vgg_conv_algo a);
/* 1 when `a` can compute a map of H x W (direct: always). */
int vgg_conv_algo_fits(vgg_conv_algo a, int H, int W);

/* Floats of scratch for any pass of layer (Cin, Cout, N, H, W) with
 * algorithm a (0 for direct or when it does not fit). */
size_t vgg_wino_scratch(vgg_conv_algo a, int Cin, int Cout, int N, int H,
                        int W);

/* out[Cout][N*H*W] = conv(in, w) (+ b[Cout] unless b is NULL). */
vgg_status vgg_wino_forward(vgg_conv_algo a, float *out, float *ws,
                            const float *in, const float *w, const float *b,
                            int Cin, int Cout, int N, int H, int W);
/* din[Cin][N*H*W] = the input gradient for dout[Cout][N*H*W]
 * (overwritten). */
vgg_status vgg_wino_backward_data(vgg_conv_algo a, float *din, float *ws,
                                  const float *dout, const float *w, int Cin,
                                  int Cout, int N, int H, int W);
/* dw[Cout][Cin][3][3] += the weight gradient of dout for input `in`. */
vgg_status vgg_wino_backward_weights(vgg_conv_algo a, float *dw, float *ws,
                                     const float *dout, const float *in,
                                     int Cin, int Cout, int N, int H, int W);

#endif
