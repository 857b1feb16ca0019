/* Winograd convolutions (vgg/winograd.h) against a double-precision direct
 * convolution, in every pass and tile size, and their backward passes by
 * finite differences.
 *
 * The error measure is relative to the float32 direct path (nn.h, on the
 * GEMM in use) on the same data: ratio = max |wino - exact| / max |direct
 * - exact|, with `exact` the direct convolution in double. The direct
 * path's error is that of a float32 dot product of the pass's depth (Cin*9
 * forward, Cout*9 for the input gradient, N*H*W for the weight gradient).
 * Winograd adds the rounding of its transforms, amplified by the size of
 * their coefficients. F(2x2)'s are 0, +-1 and +-1/2: measured here on
 * AMD EPYC (Zen 5), 0.4-3.4x direct on either GEMM. F(4x4)'s reach 5 (B),
 * 8 (A) and 1/24 (G), a row of B^T sums to 10 in absolute value and one of
 * A^T to 18, so the transformed tiles are up to 10^2 times the data and
 * the GEMMs' rounding on them comes back amplified up to 18^2 before the
 * cancellations of the output transform; the error also grows with depth.
 * Measured: 5-38x direct (OpenBLAS and AVX-512 GEMMs), the largest at
 * depth 4608 (Barabasz et al. 2020
 * report float32 F(4x4,3x3) errors of the same order). The limits, 6
 * (F(2x2)) and 60 (F(4x4)), leave room for other GEMMs' summation orders
 * and are far below what a wrong transform gives (an error of the order
 * of the values themselves, 1e5-1e6 times direct's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "kernels/kernel.h"
#include "vgg/conv_choice.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/nn.h"
#include "vgg/winograd.h"

#define LIMIT2 6.0
#define LIMIT4 60.0

/* Exact (double) passes of the 3x3 pad-1 convolution, CNHW. */
static void ref_forward(double *out, const float *in, const float *w, int Ci,
                        int Co, int N, int H, int W) {
    const long HW = (long)H * W, M = N * HW;
    for (int o = 0; o < Co; o++)
        for (int n = 0; n < N; n++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    double s = 0.0;
                    for (int i = 0; i < Ci; i++)
                        for (int k = 0; k < 9; k++) {
                            int sy = y + k / 3 - 1, sx = x + k % 3 - 1;
                            if (sy < 0 || sy >= H || sx < 0 || sx >= W)
                                continue;
                            s += (double)w[((long)o * Ci + i) * 9 + k] *
                                 in[i * M + n * HW + sy * W + sx];
                        }
                    out[o * M + n * HW + y * W + x] = s;
                }
}

static void ref_backward(double *din, double *dw, const float *dout,
                         const float *in, const float *w, int Ci, int Co, int N,
                         int H, int W) {
    const long HW = (long)H * W, M = N * HW;
    memset(din, 0, sizeof(double) * Ci * M);
    memset(dw, 0, sizeof(double) * Co * Ci * 9);
    for (int o = 0; o < Co; o++)
        for (int i = 0; i < Ci; i++)
            for (int k = 0; k < 9; k++) {
                const int dy = k / 3 - 1, dx = k % 3 - 1;
                const double wv = w[((long)o * Ci + i) * 9 + k];
                double s = 0.0;
                for (int n = 0; n < N; n++)
                    for (int y = 0; y < H; y++) {
                        int sy = y + dy;
                        if (sy < 0 || sy >= H) continue;
                        for (int x = 0; x < W; x++) {
                            int sx = x + dx;
                            if (sx < 0 || sx >= W) continue;
                            long ii = i * M + n * HW + sy * W + sx;
                            double g = dout[o * M + n * HW + y * W + x];
                            s += g * in[ii];
                            din[ii] += g * wv;
                        }
                    }
                dw[((long)o * Ci + i) * 9 + k] = s;
            }
}

static double max_err(const float *a, const double *exact, size_t n) {
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - exact[i]);
        if (!(d <= e)) e = d; /* NaN wins */
    }
    return e;
}

typedef struct shape {
    int Ci, Co, N, H, W;
} shape;

/* One shape: each pass with each tile size that fits, as a ratio to the
 * direct path's error. Returns the worst ratio per algorithm. */
static void check_shape(const shape *s, double worst[VGG_CONV_NALGO]) {
    const int Ci = s->Ci, Co = s->Co, N = s->N, H = s->H, W = s->W;
    const size_t M = (size_t)N * H * W, nin = Ci * M, nout = Co * M,
                 nw = (size_t)Co * Ci * 9;
    float *in = malloc(sizeof(float) * nin),
          *dout = malloc(sizeof(float) * nout);
    float *w = malloc(sizeof(float) * nw), *dw = malloc(sizeof(float) * nw);
    float *out = malloc(sizeof(float) * nout),
          *din = malloc(sizeof(float) * nin);
    double *eout = malloc(sizeof(double) * nout),
           *edin = malloc(sizeof(double) * nin);
    double *edw = malloc(sizeof(double) * nw);
    size_t ncol = vgg_conv_scratch(Ci, Co, N, H, W), nws = 0;
    for (int a = 1; a < VGG_CONV_NALGO; a++) {
        size_t k = vgg_wino_scratch(a, Ci, Co, N, H, W);
        if (k > nws) nws = k;
    }
    float *col = malloc(sizeof(float) * (ncol > nw ? ncol : nw));
    float *ws = malloc(sizeof(float) * (nws ? nws : 1));
    assert_true(in && dout && w && dw && out && din && eout && edin && edw &&
                col && ws);

    vgg_rng r;
    vgg_rng_seed(&r, 7, (uint64_t)Ci * 131 + H);
    /* the input as after a ReLU (half zeros), weights as initialised,
     * gradients signed */
    tu_fill_uniform(in, nin, -1, 1, &r);
    for (size_t i = 0; i < nin; i++) in[i] = in[i] > 0 ? in[i] : 0.0f;
    float bound = 1.0f / sqrtf((float)(Ci * 9));
    tu_fill_uniform(w, nw, -bound, bound, &r);
    tu_fill_uniform(dout, nout, -1, 1, &r);
    ref_forward(eout, in, w, Ci, Co, N, H, W);
    ref_backward(edin, edw, dout, in, w, Ci, Co, N, H, W);

    double e_dir[3];
    const size_t col_n = ncol > nw ? ncol : nw;
    assert_int_equal(
        vgg_conv_forward(out, col, col_n, in, w, NULL, Ci, Co, N, H, W),
        VGG_OK);
    e_dir[0] = max_err(out, eout, nout);
    assert_int_equal(
        vgg_conv_backward_data(din, col, col_n, dout, w, Ci, Co, N, H, W),
        VGG_OK);
    e_dir[1] = max_err(din, edin, nin);
    memset(dw, 0, sizeof(float) * nw);
    assert_int_equal(vgg_conv_backward(NULL, dw, NULL, col, col_n, dout, in, w,
                                       Ci, Co, N, H, W),
                     VGG_OK);
    e_dir[2] = max_err(dw, edw, nw);

    for (int a = 1; a < VGG_CONV_NALGO; a++) {
        if (!vgg_conv_algo_fits(a, H, W)) continue;
        double e[3];
        assert_int_equal(
            vgg_wino_forward(a, out, ws, in, w, NULL, Ci, Co, N, H, W), VGG_OK);
        e[0] = max_err(out, eout, nout);
        assert_int_equal(
            vgg_wino_backward_data(a, din, ws, dout, w, Ci, Co, N, H, W),
            VGG_OK);
        e[1] = max_err(din, edin, nin);
        memset(dw, 0, sizeof(float) * nw);
        assert_int_equal(
            vgg_wino_backward_weights(a, dw, ws, dout, in, Ci, Co, N, H, W),
            VGG_OK);
        e[2] = max_err(dw, edw, nw);
        double q[3];
        for (int p = 0; p < 3; p++) {
            /* direct's error can be 0 on tiny depths: floor it at one
             * float32 rounding of the values' size */
            double floor = 6e-8 * (p == 2 ? sqrt((double)M) : 1.0);
            q[p] = e[p] / fmax(e_dir[p], floor);
            if (!(q[p] <= worst[a])) worst[a] = q[p];
        }
        print_message("  %-5s %4dx%-4d N%-3d %2dx%-2d depth %4d/%4d/%5zu: "
                      "fwd %5.2f  data %5.2f  weights %5.2f x direct "
                      "(direct %.1e %.1e %.1e)\n",
                      vgg_conv_algo_name(a), Ci, Co, N, H, W, Ci * 9, Co * 9, M,
                      q[0], q[1], q[2], e_dir[0], e_dir[1], e_dir[2]);
        const double limit = a == VGG_CONV_WINO4 ? LIMIT4 : LIMIT2;
        for (int p = 0; p < 3; p++) assert_true(q[p] <= limit);
    }
    free(in);
    free(dout);
    free(w);
    free(dw);
    free(out);
    free(din);
    free(eout);
    free(edin);
    free(edw);
    free(col);
    free(ws);
}

/* Every map size of VGG16 on CIFAR (32 .. 2), depths up to 512*9 = 4608
 * in the forward and input-gradient passes, and a partial last chunk of
 * tiles (N*tiles not a multiple of the transforms' 16 lanes). */
static void test_winograd_vs_double(void **state) {
    (void)state;
    static const shape shapes[] = {
        {3, 8, 2, 32, 32},   {16, 16, 1, 16, 16}, {64, 32, 3, 8, 8},
        {128, 64, 5, 4, 4},  {512, 512, 2, 4, 4}, {512, 512, 4, 2, 2},
        {256, 512, 1, 8, 8}, {7, 5, 3, 12, 20},
    };
    /* on OpenBLAS and on every kernel of ours the CPU runs: the Winograd
     * GEMMs and the direct path's both change */
    for (const vgg_kernel *const *k = vgg_kernels(); *k; k++) {
        if (!(*k)->supported()) continue;
        assert_int_equal(vgg_gemm_select((*k)->name, NULL), VGG_OK);
        double worst[VGG_CONV_NALGO] = {0};
        print_message("  gemm %s\n", vgg_gemm_name());
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            check_shape(&shapes[i], worst);
        print_message("  worst ratio to direct: wino4 %.2f (limit %.0f), "
                      "wino2 %.2f (limit %.0f)\n",
                      worst[VGG_CONV_WINO4], LIMIT4, worst[VGG_CONV_WINO2],
                      LIMIT2);
    }
    assert_int_equal(vgg_gemm_select("openblas", NULL), VGG_OK);
    double worst[VGG_CONV_NALGO] = {0};
    print_message("  gemm %s\n", vgg_gemm_name());
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(&shapes[i], worst);
    vgg_gemm_select("auto", NULL);
}

/* ---- finite differences of the probe loss sum(forward(x, w) * R) ---- */

enum { FI = 3, FO = 4, FN = 2, FH = 8, FW = 4 };
#define FM (FN * FH * FW)

typedef struct fd_ctx {
    vgg_conv_algo a;
    float in[FI * FM], w[FO * FI * 9], out[FO * FM], R[FO * FM];
    float ws[4096];
} fd_ctx;

static double probe(fd_ctx *c) {
    vgg_wino_forward(c->a, c->out, c->ws, c->in, c->w, NULL, FI, FO, FN, FH,
                     FW);
    double s = 0.0;
    for (int i = 0; i < FO * FM; i++) s += (double)c->out[i] * c->R[i];
    return s;
}

/* The probe is linear in x, so the central difference is exact but for
 * rounding: about 1e-6 relative of the O(10) probe over h = 1e-2, i.e.
 * 1e-3 absolute. A wrong gradient is off by O(0.1-1). */
static void check_fd(fd_ctx *c, const char *what, float *x, const float *g,
                     int n) {
    const float h = 1e-2f;
    double worst = 0.0;
    for (int i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + h;
        double fp = probe(c);
        x[i] = keep - h;
        double fm = probe(c);
        x[i] = keep;
        double fd = (fp - fm) / (2.0 * h), err = fabs(fd - g[i]);
        if (err > 2e-3 + 1e-3 * fabs(fd))
            fail_msg("%s %s[%d]: analytic %.6g, finite difference %.6g",
                     vgg_conv_algo_name(c->a), what, i, (double)g[i], fd);
        if (err > worst) worst = err;
    }
    print_message("  %-5s %-10s %3d checked, worst |analytic - fd| %.1e\n",
                  vgg_conv_algo_name(c->a), what, n, worst);
}

static void test_winograd_finite_differences(void **state) {
    (void)state;
    static fd_ctx c;
    for (int a = VGG_CONV_WINO4; a < VGG_CONV_NALGO; a++) {
        assert_true(vgg_wino_scratch(a, FI, FO, FN, FH, FW) <= 4096);
        c.a = a;
        vgg_rng r;
        vgg_rng_seed(&r, 3, a);
        tu_fill_uniform(c.in, FI * FM, -1, 1, &r);
        tu_fill_uniform(c.w, FO * FI * 9, -1, 1, &r);
        tu_fill_uniform(c.R, FO * FM, -1, 1, &r);
        float din[FI * FM], dw[FO * FI * 9] = {0};
        vgg_wino_backward_data(a, din, c.ws, c.R, c.w, FI, FO, FN, FH, FW);
        vgg_wino_backward_weights(a, dw, c.ws, c.R, c.in, FI, FO, FN, FH, FW);
        check_fd(&c, "d(input)", c.in, din, FI * FM);
        check_fd(&c, "d(weight)", c.w, dw, FO * FI * 9);
        /* the weight gradient adds: a second call doubles it */
        float dw2[FO * FI * 9];
        memcpy(dw2, dw, sizeof dw);
        vgg_wino_backward_weights(a, dw2, c.ws, c.R, c.in, FI, FO, FN, FH, FW);
        for (int i = 0; i < FO * FI * 9; i++)
            assert_float_equal(dw2[i], 2 * dw[i], 1e-5 * (1 + fabsf(dw[i])));
    }
}

static void test_winograd_fits(void **state) {
    (void)state;
    assert_true(vgg_conv_algo_fits(VGG_CONV_WINO4, 32, 32));
    assert_true(vgg_conv_algo_fits(VGG_CONV_WINO4, 4, 8));
    assert_false(vgg_conv_algo_fits(VGG_CONV_WINO4, 2, 2));
    assert_false(vgg_conv_algo_fits(VGG_CONV_WINO4, 6, 6));
    assert_true(vgg_conv_algo_fits(VGG_CONV_WINO2, 2, 2));
    assert_false(vgg_conv_algo_fits(VGG_CONV_WINO2, 1, 1));
    assert_false(vgg_conv_algo_fits(VGG_CONV_WINO2, 3, 4));
    assert_true(vgg_conv_algo_fits(VGG_CONV_DIRECT, 3, 5));
    assert_int_equal(vgg_wino_scratch(VGG_CONV_WINO4, 8, 8, 1, 2, 2), 0);
    assert_int_equal(vgg_wino_scratch(VGG_CONV_DIRECT, 8, 8, 1, 4, 4), 0);
}

/* A model's training step with every pass by Winograd (F(4x4) down to
 * 4x4 maps, F(2x2) on 2x2) and with `auto`, against the direct one: the
 * same loss and gradients within float32 Winograd's error. */
static double step(vgg_model *m, vgg_rng *r, float *grads) {
    vgg_rng_seed(r, 11, 0);
    vgg_model_init(m, r);
    tu_fill_uniform(m->input, 3 * 4 * 32 * 32, -1, 1, r);
    for (int i = 0; i < 4; i++) m->labels[i] = (uint8_t)(i % 3);
    double loss = vgg_model_forward(m, 4, 1, NULL);
    vgg_model_zero_grad(m);
    vgg_model_backward(m, 4);
    memcpy(grads, m->grads, sizeof(float) * m->nparams);
    return loss;
}

static void test_winograd_model_step(void **state) {
    (void)state;
    vgg_config cfg;
    vgg_error err;
    assert_int_equal(
        vgg_config_parse(&cfg, "8 M 16 M 16 M 32 M 32 32 M", 3, &err), VGG_OK);
    vgg_model *m;
    assert_int_equal(vgg_model_create(&m, &cfg, 4, &err), VGG_OK);
    float *g0 = malloc(sizeof(float) * m->nparams),
          *g1 = malloc(sizeof(float) * m->nparams);
    assert_true(g0 && g1);
    vgg_rng r;
    double l0 = step(m, &r, g0);
    char line[256];
    for (int mode = VGG_CONV_MODE_WINOGRAD; mode <= VGG_CONV_MODE_AUTO;
         mode++) {
        vgg_conv_times times;
        assert_int_equal(vgg_model_set_conv(m, mode, 4, 1, &times, &err),
                         VGG_OK);
        vgg_model_conv_summary(m, line, sizeof line);
        if (mode == VGG_CONV_MODE_WINOGRAD) {
            assert_string_equal(line, "fwd 444422 data 444422 wgt 444422");
            assert_true(m->wino_floats > 0);
        } else {
            /* the direct time of every measured pass is recorded */
            assert_true(times.sec[VGG_CONV_DIRECT] > 0.0);
        }
        double l1 = step(m, &r, g1);
        double gmax = 0.0, dmax = 0.0;
        for (size_t i = 0; i < m->nparams; i++) {
            gmax = fmax(gmax, fabs(g0[i]));
            dmax = fmax(dmax, fabs((double)g1[i] - g0[i]));
        }
        print_message("  %-8s %s: loss %.6f vs direct %.6f, max grad diff "
                      "%.1e of max %.2e\n",
                      vgg_conv_mode_name(mode), line, l1, l0, dmax, gmax);
        assert_true(fabs(l1 - l0) < 1e-4 * fabs(l0));
        assert_true(dmax < 1e-3 * gmax);
    }
    assert_int_equal(
        vgg_model_set_conv(m, VGG_CONV_MODE_DIRECT, 4, 1, NULL, &err), VGG_OK);
    assert_int_equal(m->wino_floats, 0);
    free(g0);
    free(g1);
    vgg_model_free(m);
}

static void test_conv_mode_parse(void **state) {
    (void)state;
    vgg_conv_mode mode;
    vgg_error err;
    assert_int_equal(vgg_conv_mode_parse(&mode, "winograd", "--conv", &err),
                     VGG_OK);
    assert_int_equal(mode, VGG_CONV_MODE_WINOGRAD);
    assert_int_not_equal(vgg_conv_mode_parse(&mode, "wino", "--conv", &err),
                         VGG_OK);
    assert_non_null(strstr(err.msg, "--conv wino: expected auto, direct or "
                                    "winograd"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_winograd_fits),
        cmocka_unit_test(test_winograd_finite_differences),
        cmocka_unit_test(test_winograd_vs_double),
        cmocka_unit_test(test_winograd_model_step),
        cmocka_unit_test(test_conv_mode_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
