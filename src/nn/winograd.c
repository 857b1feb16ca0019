/* Winograd F(4x4,3x3) and F(2x2,3x3) convolutions (see vgg/winograd.h).
 *
 * The transforms work on VL tiles at once: a chunk of VL consecutive tile
 * indices is gathered into alpha x alpha vectors of VL lanes (one lane a
 * tile), transformed with GCC vector arithmetic (which the compiler lowers
 * to whatever vector width the target has, AVX-512 to NEON to scalar), and
 * stored as VL contiguous floats of each point's row V[c][p][t0 .. t0+VL).
 * The matrices keep a channel's alpha^2 rows together (V[c][p][t],
 * U[o][p][i]), so that a transform writes one compact block per channel;
 * each point's GEMM reads every alpha^2-th row (lda = alpha^2 * row).
 * The matrices are Lavin and Gray's (2015); the tile index is
 * t = (n * TH + ty) * TW + tx with TH = H/m, TW = W/m. */
#include <stddef.h>
#include <string.h>

#include "vgg/gemm.h"
#include "vgg/profile.h"
#include "vgg/winograd.h"

#define VL 16
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef double vd __attribute__((vector_size(VL * sizeof(double))));

#define AMAX 6 /* alpha of F(4x4) */

const char *vgg_conv_algo_name(vgg_conv_algo a) {
    switch (a) {
    case VGG_CONV_DIRECT:
        return "direct";
    case VGG_CONV_WINO4:
        return "wino4";
    case VGG_CONV_WINO2:
        return "wino2";
    default:
        return "?";
    }
}

int vgg_wino_tile(vgg_conv_algo a) {
    return a == VGG_CONV_WINO4 ? 4 : a == VGG_CONV_WINO2 ? 2 : 0;
}

int vgg_conv_algo_fits(vgg_conv_algo a, int H, int W) {
    int m = vgg_wino_tile(a);
    if (a == VGG_CONV_DIRECT) return 1;
    return m > 0 && H >= m && W >= m && H % m == 0 && W % m == 0;
}

static size_t ntiles(int m, int N, int H, int W) {
    return (size_t)N * (size_t)(H / m) * (size_t)(W / m);
}

size_t vgg_wino_scratch(vgg_conv_algo a, int Cin, int Cout, int N, int H,
                        int W) {
    if (a == VGG_CONV_DIRECT || !vgg_conv_algo_fits(a, H, W)) return 0;
    const int m = vgg_wino_tile(a), al = m + 2;
    const size_t a2 = (size_t)al * al, T = ntiles(m, N, H, W);
    const size_t C = (size_t)(Cin > Cout ? Cin : Cout);
    /* U, then the two tile matrices (V and Y, or V and DY) */
    return a2 * ((size_t)Cin * Cout + 2 * C * T);
}

/* ---- one-dimensional transforms: r[i * rs] from d[k * s] ---- */

/* B^T d: alpha from alpha */
static inline void in_1d(int m, const vf *d, int s, vf *r, int rs) {
    if (m == 4) {
        vf d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s],
           d5 = d[5 * s];
        r[0] = 4.0f * d0 - 5.0f * d2 + d4;
        r[rs] = d3 + d4 - 4.0f * (d1 + d2);
        r[2 * rs] = d4 - d3 + 4.0f * (d1 - d2);
        r[3 * rs] = d4 - d2 + 2.0f * (d3 - d1);
        r[4 * rs] = d4 - d2 - 2.0f * (d3 - d1);
        r[5 * rs] = 4.0f * d1 - 5.0f * d3 + d5;
    } else {
        vf d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s];
        r[0] = d0 - d2;
        r[rs] = d1 + d2;
        r[2 * rs] = d2 - d1;
        r[3 * rs] = d1 - d3;
    }
}

/* A^T y: m from alpha */
static inline void out_1d(int m, const vf *y, int s, vf *r, int rs) {
    if (m == 4) {
        vf y0 = y[0], y1 = y[s], y2 = y[2 * s], y3 = y[3 * s], y4 = y[4 * s],
           y5 = y[5 * s];
        vf a = y1 + y2, b = y1 - y2, c = y3 + y4, e = y3 - y4;
        r[0] = y0 + a + c;
        r[rs] = b + 2.0f * e;
        r[2 * rs] = a + 4.0f * c;
        r[3 * rs] = b + 8.0f * e + y5;
    } else {
        vf y0 = y[0], y1 = y[s], y2 = y[2 * s], y3 = y[3 * s];
        r[0] = y0 + y1 + y2;
        r[rs] = y1 - y2 - y3;
    }
}

/* A d: alpha from m (the adjoint of out_1d) */
static inline void grad_1d(int m, const vf *d, int s, vf *r, int rs) {
    if (m == 4) {
        vf d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s];
        vf a = d0 + d2, b = d1 + d3, c = d0 + 4.0f * d2,
           e = 2.0f * d1 + 8.0f * d3;
        r[0] = d0;
        r[rs] = a + b;
        r[2 * rs] = a - b;
        r[3 * rs] = c + e;
        r[4 * rs] = c - e;
        r[5 * rs] = d3;
    } else {
        vf d0 = d[0], d1 = d[s];
        r[0] = d0;
        r[rs] = d0 + d1;
        r[2 * rs] = d0 - d1;
        r[3 * rs] = -d1;
    }
}

/* G g (alpha from 3) and G^T u (3 from alpha), in double: the weights
 * are few, and F(4x4)'s G has 1/6, 1/12 and 1/24, so float arithmetic
 * would add a rounding of its own to the float32 store's. */
static inline void g_1d(int m, const vd *g, int s, vd *r, int rs) {
    vd g0 = g[0], g1 = g[s], g2 = g[2 * s];
    if (m == 4) {
        vd a = g0 + g2, b = g0 / 24.0 + g2 / 6.0, c = g1 / 12.0;
        r[0] = g0 / 4.0;
        r[rs] = -(a + g1) / 6.0;
        r[2 * rs] = (g1 - a) / 6.0;
        r[3 * rs] = b + c;
        r[4 * rs] = b - c;
        r[5 * rs] = g2;
    } else {
        vd a = g0 + g2;
        r[0] = g0;
        r[rs] = 0.5 * (a + g1);
        r[2 * rs] = 0.5 * (a - g1);
        r[3 * rs] = g2;
    }
}

static inline void gt_1d(int m, const vd *u, int s, vd *r, int rs) {
    if (m == 4) {
        vd u0 = u[0], u1 = u[s], u2 = u[2 * s], u3 = u[3 * s], u4 = u[4 * s],
           u5 = u[5 * s];
        vd a = (u1 + u2) / 6.0, b = u3 + u4;
        r[0] = u0 / 4.0 - a + b / 24.0;
        r[rs] = (u2 - u1) / 6.0 + (u3 - u4) / 12.0;
        r[2 * rs] = b / 6.0 - a + u5;
    } else {
        vd u0 = u[0], u1 = u[s], u2 = u[2 * s], u3 = u[3 * s];
        vd a = 0.5 * (u1 + u2);
        r[0] = u0 + a;
        r[rs] = 0.5 * (u1 - u2);
        r[2 * rs] = a + u3;
    }
}

/* ---- tiles ---- */

/* Where the VL tiles from t0 lie: off[l] is lane l's tile origin (top-left
 * output pixel) as an offset into one channel's [N][H][W] plane, y[l] and
 * x[l] its coordinates in the map; n lanes are in use (T - t0 at the end).
 * inner: every window of alpha from (y - 1, x - 1) lies in the map. */
typedef struct chunk {
    long off[VL];
    int y[VL], x[VL];
    int n, inner;
} chunk;

static void chunk_at(chunk *k, size_t t0, size_t T, int m, int H, int W) {
    const int TW = W / m, TH = H / m, al = m + 2;
    size_t n = t0 / ((size_t)TH * TW), r = t0 % ((size_t)TH * TW);
    int ty = (int)(r / TW), tx = (int)(r % TW);
    k->n = T - t0 < VL ? (int)(T - t0) : VL;
    k->inner = 1;
    for (int l = 0; l < VL; l++) {
        if (l >= k->n) {
            k->off[l] = -1;
            k->y[l] = k->x[l] = 0;
            continue;
        }
        k->y[l] = ty * m;
        k->x[l] = tx * m;
        k->off[l] = (long)n * H * W + (long)k->y[l] * W + k->x[l];
        if (k->y[l] < 1 || k->x[l] < 1 || k->y[l] + al - 1 > H ||
            k->x[l] + al - 1 > W)
            k->inner = 0;
        if (++tx == TW) {
            tx = 0;
            if (++ty == TH) ty = 0, n++;
        }
    }
}

static inline void store_row(float *dst, const vf *v, int n) {
    if (n == VL)
        memcpy(dst, v, sizeof(vf));
    else
        memcpy(dst, v, sizeof(float) * (size_t)n);
}

static inline void load_row(vf *v, const float *src, int n) {
    if (n == VL) {
        memcpy(v, src, sizeof(vf));
    } else {
        memset(v, 0, sizeof(vf));
        memcpy(v, src, sizeof(float) * (size_t)n);
    }
}

/* The loops below run over (channel, chunk) with the chunks innermost, so
 * that each thread writes (or reads) the alpha^2 rows of a channel as
 * alpha^2 sequential streams. */

/* V[c][p][t] = (B^T d B)[p] of the input tiles of x[C][N][H][W]: the
 * alpha x alpha window at (y - 1, x - 1), zero outside the map. */
static void input_transform(int m, float *V, const float *x, int C, int N,
                            int H, int W) {
    const int al = m + 2;
    const size_t T = ntiles(m, N, H, W), plane = (size_t)N * H * W;
    const long nchunks = (long)((T + VL - 1) / VL);
    const double t = vgg_now();
#pragma omp parallel for collapse(2) schedule(static)
    for (int c = 0; c < C; c++)
        for (long ch = 0; ch < nchunks; ch++) {
            chunk k;
            chunk_at(&k, (size_t)ch * VL, T, m, H, W);
            const float *src = x + (size_t)c * plane;
            float d[AMAX * AMAX][VL] __attribute__((aligned(64)));
            vf tmp[AMAX * AMAX], r[AMAX * AMAX];
            if (!k.inner || k.n < VL) memset(d, 0, sizeof d);
            for (int l = 0; l < k.n; l++) {
                const float *s0 = src + k.off[l] - W - 1;
                if (k.inner) {
                    for (int i = 0; i < al; i++)
                        for (int j = 0; j < al; j++)
                            d[i * al + j][l] = s0[(long)i * W + j];
                    continue;
                }
                for (int i = 0; i < al; i++) {
                    int yy = k.y[l] - 1 + i;
                    if (yy < 0 || yy >= H) continue;
                    for (int j = 0; j < al; j++) {
                        int xx = k.x[l] - 1 + j;
                        if (xx >= 0 && xx < W)
                            d[i * al + j][l] = s0[(long)i * W + j];
                    }
                }
            }
            const vf *dv = (const vf *)d;
            for (int j = 0; j < al; j++) in_1d(m, dv + j, al, tmp + j, al);
            for (int i = 0; i < al; i++)
                in_1d(m, tmp + i * al, 1, r + i * al, 1);
            for (int p = 0; p < al * al; p++)
                store_row(V + ((size_t)c * al * al + p) * T + (size_t)ch * VL,
                          &r[p], k.n);
        }
    vgg_prof.seconds[VGG_PROF_IM2COL] += vgg_now() - t;
}

/* out[c][N][H][W] = (A^T Y A) of Y[c][p][t], plus b[c] (b may be NULL). */
static void output_transform(int m, float *out, const float *Y, const float *b,
                             int C, int N, int H, int W) {
    const int al = m + 2;
    const size_t T = ntiles(m, N, H, W), plane = (size_t)N * H * W;
    const long nchunks = (long)((T + VL - 1) / VL);
    const double t = vgg_now();
#pragma omp parallel for collapse(2) schedule(static)
    for (int c = 0; c < C; c++)
        for (long ch = 0; ch < nchunks; ch++) {
            chunk k;
            chunk_at(&k, (size_t)ch * VL, T, m, H, W);
            vf y[AMAX * AMAX], tmp[AMAX * AMAX];
            float r[4 * 4][VL] __attribute__((aligned(64)));
            for (int p = 0; p < al * al; p++)
                load_row(&y[p],
                         Y + ((size_t)c * al * al + p) * T + (size_t)ch * VL,
                         k.n);
            /* columns: tmp[i][j] (m x alpha), then rows: r[i][j] (m x m) */
            for (int j = 0; j < al; j++) out_1d(m, y + j, al, tmp + j, al);
            vf *rv = (vf *)r;
            const vf bias = (vf){0} + (b ? b[c] : 0.0f);
            for (int i = 0; i < m; i++)
                out_1d(m, tmp + i * al, 1, rv + i * m, 1);
            for (int i = 0; i < m * m; i++) rv[i] += bias;
            float *dst = out + (size_t)c * plane;
            for (int l = 0; l < k.n; l++) {
                float *o = dst + k.off[l];
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < m; j++)
                        o[(long)i * W + j] = r[i * m + j][l];
            }
        }
    vgg_prof.seconds[VGG_PROF_IM2COL] += vgg_now() - t;
}

/* DY[c][p][t] = (A dy A^T)[p] of the m x m tiles of dy[C][N][H][W]. */
static void grad_transform(int m, float *DY, const float *dy, int C, int N,
                           int H, int W) {
    const int al = m + 2;
    const size_t T = ntiles(m, N, H, W), plane = (size_t)N * H * W;
    const long nchunks = (long)((T + VL - 1) / VL);
    const double t = vgg_now();
#pragma omp parallel for collapse(2) schedule(static)
    for (int c = 0; c < C; c++)
        for (long ch = 0; ch < nchunks; ch++) {
            chunk k;
            chunk_at(&k, (size_t)ch * VL, T, m, H, W);
            const float *src = dy + (size_t)c * plane;
            float d[4 * 4][VL] __attribute__((aligned(64)));
            vf tmp[AMAX * 4], r[AMAX * AMAX];
            if (k.n < VL) memset(d, 0, sizeof d);
            for (int l = 0; l < k.n; l++) {
                const float *s0 = src + k.off[l];
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < m; j++)
                        d[i * m + j][l] = s0[(long)i * W + j];
            }
            const vf *dv = (const vf *)d;
            /* columns: tmp[i][j] (alpha x m), then rows: r (alpha x alpha) */
            for (int j = 0; j < m; j++) grad_1d(m, dv + j, m, tmp + j, m);
            for (int i = 0; i < al; i++)
                grad_1d(m, tmp + i * m, 1, r + i * al, 1);
            for (int p = 0; p < al * al; p++)
                store_row(DY + ((size_t)c * al * al + p) * T + (size_t)ch * VL,
                          &r[p], k.n);
        }
    vgg_prof.seconds[VGG_PROF_IM2COL] += vgg_now() - t;
}

/* U[o][p][i] = (G g G^T)[p] for g = w[o][i] (w[Cout][Cin][3][3]), VL
 * consecutive i at once. turned: U[i][p][o] of w[o][i] turned half a
 * turn, the weights of the input gradient's convolution (Cin <-> Cout),
 * VL consecutive o at once. */
static void weight_transform(int m, float *U, const float *w, int Cin, int Cout,
                             int turned) {
    const int al = m + 2;
    /* rows of the result and their length */
    const int R = turned ? Cin : Cout, L = turned ? Cout : Cin;
    const long nchunks = (L + VL - 1) / VL;
    const double t = vgg_now();
#pragma omp parallel for collapse(2) schedule(static)
    for (int row = 0; row < R; row++)
        for (long ch = 0; ch < nchunks; ch++) {
            const int l0 = (int)ch * VL, n = L - l0 < VL ? L - l0 : VL;
            double g[9][VL] __attribute__((aligned(64)));
            vd tmp[AMAX * 3], u[AMAX * AMAX];
            if (n < VL) memset(g, 0, sizeof g);
            for (int l = 0; l < n; l++) {
                const int o = turned ? l0 + l : row, i = turned ? row : l0 + l;
                const float *src = w + ((size_t)o * Cin + i) * 9;
                for (int k = 0; k < 9; k++) g[k][l] = src[turned ? 8 - k : k];
            }
            const vd *gv = (const vd *)g;
            for (int j = 0; j < 3; j++) g_1d(m, gv + j, 3, tmp + j, 3);
            for (int r = 0; r < al; r++) g_1d(m, tmp + r * 3, 1, u + r * al, 1);
            for (int p = 0; p < al * al; p++) {
                vf f = __builtin_convertvector(u[p], vf);
                store_row(U + ((size_t)row * al * al + p) * L + l0, &f, n);
            }
        }
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
}

/* dw[o][i] += G^T dU[o][.][i] G, VL consecutive i at once. */
static void weight_grad_transform(int m, float *dw, const float *dU, int Cin,
                                  int Cout) {
    const int al = m + 2;
    const long nchunks = (Cin + VL - 1) / VL;
    const double t = vgg_now();
#pragma omp parallel for collapse(2) schedule(static)
    for (int o = 0; o < Cout; o++)
        for (long ch = 0; ch < nchunks; ch++) {
            const int i0 = (int)ch * VL, n = Cin - i0 < VL ? Cin - i0 : VL;
            vd u[AMAX * AMAX], tmp[3 * AMAX] = {0};
            double g[9][VL] __attribute__((aligned(64)));
            for (int p = 0; p < al * al; p++) {
                vf f;
                load_row(&f, dU + ((size_t)o * al * al + p) * Cin + i0, n);
                u[p] = __builtin_convertvector(f, vd);
            }
            for (int j = 0; j < al; j++) gt_1d(m, u + j, al, tmp + j, al);
            vd *gv = (vd *)g;
            for (int r = 0; r < 3; r++)
                gt_1d(m, tmp + r * al, 1, gv + r * 3, 1);
            for (int l = 0; l < n; l++) {
                float *d = dw + ((size_t)o * Cin + i0 + l) * 9;
                for (int k = 0; k < 9; k++) d[k] += (float)g[k][l];
            }
        }
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
}

/* ---- the three passes ---- */

/* out = conv(x, U) for U already transformed ([p][Co][Ci]). */
static vgg_status wino_conv(int m, float *out, float *ws, const float *x,
                            const float *b, int Ci, int Co, int N, int H,
                            int W) {
    const int al = m + 2, a2 = al * al;
    const size_t T = ntiles(m, N, H, W);
    const size_t C = (size_t)(Ci > Co ? Ci : Co);
    const float *U = ws;
    float *V = ws + (size_t)a2 * Ci * Co, *Y = V + (size_t)a2 * C * T;
    input_transform(m, V, x, Ci, N, H, W);
    vgg_status st = VGG_OK;
    for (int p = 0; p < a2 && !st; p++)
        st = vgg_gemm(0, 0, Co, (int)T, Ci, 1.0f, U + (size_t)p * Ci, a2 * Ci,
                      V + (size_t)p * T, a2 * (int)T, 0.0f, Y + (size_t)p * T,
                      a2 * (int)T);
    if (!st) output_transform(m, out, Y, b, Co, N, H, W);
    return st;
}

vgg_status vgg_wino_forward(vgg_conv_algo a, float *out, float *ws,
                            const float *in, const float *w, const float *b,
                            int Cin, int Cout, int N, int H, int W) {
    const int m = vgg_wino_tile(a);
    weight_transform(m, ws, w, Cin, Cout, 0);
    return wino_conv(m, out, ws, in, b, Cin, Cout, N, H, W);
}

vgg_status vgg_wino_backward_data(vgg_conv_algo a, float *din, float *ws,
                                  const float *dout, const float *w, int Cin,
                                  int Cout, int N, int H, int W) {
    const int m = vgg_wino_tile(a);
    weight_transform(m, ws, w, Cin, Cout, 1);
    return wino_conv(m, din, ws, dout, NULL, Cout, Cin, N, H, W);
}

vgg_status vgg_wino_backward_weights(vgg_conv_algo a, float *dw, float *ws,
                                     const float *dout, const float *in,
                                     int Cin, int Cout, int N, int H, int W) {
    const int m = vgg_wino_tile(a), al = m + 2, a2 = al * al;
    const size_t T = ntiles(m, N, H, W);
    const size_t C = (size_t)(Cin > Cout ? Cin : Cout);
    float *dU = ws, *V = ws + (size_t)a2 * Cin * Cout,
          *DY = V + (size_t)a2 * C * T;
    input_transform(m, V, in, Cin, N, H, W);
    grad_transform(m, DY, dout, Cout, N, H, W);
    vgg_status st = VGG_OK;
    for (int p = 0; p < a2 && !st; p++)
        st = vgg_gemm(0, 1, Cout, Cin, (int)T, 1.0f, DY + (size_t)p * T,
                      a2 * (int)T, V + (size_t)p * T, a2 * (int)T, 0.0f,
                      dU + (size_t)p * Cin, a2 * Cin);
    if (!st) weight_grad_transform(m, dw, dU, Cin, Cout);
    return st;
}
