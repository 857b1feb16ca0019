#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgg/conv_choice.h"
#include "vgg/nn.h"
#include "vgg/profile.h"

vgg_status vgg_conv_mode_parse(vgg_conv_mode *out, const char *s,
                               const char *flag, vgg_error *err) {
    static const char *names[] = {"direct", "winograd", "auto"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (vgg_conv_mode)i;
            return VGG_OK;
        }
    return vgg_fail(err, VGG_ERR_ARG,
                    "%s %s: expected auto, direct or winograd", flag, s);
}

const char *vgg_conv_mode_name(vgg_conv_mode mode) {
    return mode == VGG_CONV_MODE_AUTO       ? "auto"
           : mode == VGG_CONV_MODE_WINOGRAD ? "winograd"
                                            : "direct";
}

static size_t layer_scratch(const vgg_layer *L, vgg_conv_algo a, int n) {
    return vgg_wino_scratch(a, L->cin, L->cout, n, L->H, L->W);
}

static vgg_status alloc_wino(vgg_model *m, size_t floats, vgg_error *err) {
    if (floats == m->wino_floats) return VGG_OK;
    free(m->wino);
    m->workspace_bytes -= m->wino_floats * sizeof(float);
    m->wino = NULL;
    m->wino_floats = 0;
    if (!floats) return VGG_OK;
    m->wino = calloc(floats, sizeof(float));
    if (!m->wino)
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "cannot allocate %.1f MB of Winograd scratch at "
                        "batch %d",
                        (double)floats * sizeof(float) / 1e6, m->batch_max);
    m->wino_floats = floats;
    m->workspace_bytes += floats * sizeof(float);
    return VGG_OK;
}

vgg_status vgg_model_conv_alloc(vgg_model *m, vgg_error *err) {
    size_t need = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const vgg_layer *L = &m->layers[i];
        if (L->kind != VGG_LAYER_CONV) continue;
        for (int p = 0; p < VGG_PASS_COUNT; p++) {
            size_t k = layer_scratch(L, L->algo[p], m->batch_max);
            if (k > need) need = k;
        }
    }
    return alloc_wino(m, need, err);
}

/* Runs one pass of layer i by algorithm a at batch n on the model's
 * buffers; returns its seconds. */
static double run_pass(vgg_model *m, int i, int pass, vgg_conv_algo a, int n) {
    vgg_layer *L = &m->layers[i];
    const float *in = i > 0 ? m->layers[i - 1].out : m->input;
    const int ci = L->cin, co = L->cout, H = L->H, W = L->W;
    double t = vgg_now();
    if (pass == VGG_PASS_FWD) {
        if (a == VGG_CONV_DIRECT)
            vgg_conv_forward(L->conv, m->col, m->col_n, in, L->w, NULL, ci, co,
                             n, H, W);
        else
            vgg_wino_forward(a, L->conv, m->wino, in, L->w, NULL, ci, co, n, H,
                             W);
    } else if (pass == VGG_PASS_DATA) {
        if (a == VGG_CONV_DIRECT)
            vgg_conv_backward_data(m->grad_a, m->col, m->col_n, m->grad_b, L->w,
                                   ci, co, n, H, W);
        else
            vgg_wino_backward_data(a, m->grad_a, m->wino, m->grad_b, L->w, ci,
                                   co, n, H, W);
    } else {
        if (a == VGG_CONV_DIRECT)
            vgg_conv_backward(NULL, L->dw, NULL, m->col, m->col_n, m->grad_b,
                              in, L->w, ci, co, n, H, W);
        else
            vgg_wino_backward_weights(a, L->dw, m->wino, m->grad_b, in, ci, co,
                                      n, H, W);
    }
    return vgg_now() - t;
}

vgg_status vgg_model_set_conv(vgg_model *m, vgg_conv_mode mode, int n,
                              int train, vgg_conv_times *times,
                              vgg_error *err) {
    if (times) {
        times->nlayers = m->nlayers;
        for (size_t k = 0; k < sizeof times->sec / sizeof times->sec[0]; k++)
            times->sec[k] = -1.0;
    }
    if (n < 1 || n > m->batch_max) n = m->batch_max;
    size_t need = 0;
    for (int i = 0; i < m->nlayers; i++) {
        vgg_layer *L = &m->layers[i];
        if (L->kind != VGG_LAYER_CONV || L->kernel != 3) continue;
        vgg_conv_algo w =
            vgg_conv_algo_fits(VGG_CONV_WINO4, L->H, L->W)   ? VGG_CONV_WINO4
            : vgg_conv_algo_fits(VGG_CONV_WINO2, L->H, L->W) ? VGG_CONV_WINO2
                                                             : VGG_CONV_DIRECT;
        for (int p = 0; p < VGG_PASS_COUNT; p++)
            L->algo[p] = mode == VGG_CONV_MODE_WINOGRAD ? w : VGG_CONV_DIRECT;
        if (mode == VGG_CONV_MODE_AUTO)
            for (int a = 1; a < VGG_CONV_NALGO; a++) {
                size_t k = layer_scratch(L, (vgg_conv_algo)a, m->batch_max);
                if (k > need) need = k;
            }
    }
    if (mode != VGG_CONV_MODE_AUTO) return vgg_model_conv_alloc(m, err);

    /* Measure with room for every candidate, then keep the choice's. */
    vgg_status st = alloc_wino(m, need, err);
    if (st) return st;
    for (int i = 0; i < m->nlayers; i++) {
        vgg_layer *L = &m->layers[i];
        if (L->kind != VGG_LAYER_CONV || L->kernel != 3) continue;
        for (int p = 0; p < VGG_PASS_COUNT; p++) {
            if (!train && p != VGG_PASS_FWD) continue;
            if (p == VGG_PASS_DATA && i == 0) continue; /* not computed */
            /* every algorithm in turn, three times: the first round
             * untimed (it touches the scratch first), then the best of
             * two, so that a burst of load on a shared machine counts
             * against both */
            double sec[VGG_CONV_NALGO];
            for (int a = 0; a < VGG_CONV_NALGO; a++) sec[a] = -1.0;
            for (int rep = 0; rep < 3; rep++)
                for (int a = 0; a < VGG_CONV_NALGO; a++) {
                    if (!vgg_conv_algo_fits(a, L->H, L->W)) continue;
                    double s = run_pass(m, i, p, a, n);
                    if (rep && (sec[a] < 0 || s < sec[a])) sec[a] = s;
                }
            L->algo[p] = VGG_CONV_DIRECT;
            double best = sec[VGG_CONV_DIRECT];
            for (int a = 1; a < VGG_CONV_NALGO; a++)
                if (sec[a] >= 0 && sec[a] < best &&
                    sec[a] < 0.95 * sec[VGG_CONV_DIRECT]) {
                    best = sec[a];
                    L->algo[p] = (vgg_conv_algo)a;
                }
            if (times)
                memcpy(&times->sec[(i * VGG_PASS_COUNT + p) * VGG_CONV_NALGO],
                       sec, sizeof sec);
        }
    }
    vgg_model_zero_grad(m);
    return vgg_model_conv_alloc(m, err);
}

void vgg_model_conv_summary(const vgg_model *m, char *buf, size_t size) {
    static const char *pass[] = {"fwd", "data", "wgt"};
    int any = 0;
    for (int i = 0; i < m->nlayers; i++)
        for (int p = 0; p < VGG_PASS_COUNT; p++)
            if (m->layers[i].kind == VGG_LAYER_CONV &&
                m->layers[i].algo[p] != VGG_CONV_DIRECT)
                any = 1;
    if (!any) {
        snprintf(buf, size, "direct");
        return;
    }
    size_t at = 0;
    buf[0] = '\0';
    for (int p = 0; p < VGG_PASS_COUNT; p++) {
        int k = snprintf(buf + at, at < size ? size - at : 0, "%s%s ",
                         p ? " " : "", pass[p]);
        at += k > 0 ? (size_t)k : 0;
        for (int i = 0; i < m->nlayers && at + 1 < size; i++) {
            const vgg_layer *L = &m->layers[i];
            if (L->kind != VGG_LAYER_CONV) continue;
            int t = vgg_wino_tile(L->algo[p]);
            buf[at++] = t ? (char)('0' + t) : 'd';
            buf[at] = '\0';
        }
    }
}
