#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/nn.h"
#include "vgg/profile.h"
#include "vgg/rng.h"

float *vgg_tensor_f32(const vgg_model *m, const vgg_tensor *t) {
    switch (t->kind) {
    case VGG_TENSOR_PARAM:
        return m->params + t->offset;
    case VGG_TENSOR_BUFFER:
        return m->state + t->offset;
    default:
        return NULL;
    }
}

const vgg_tensor *vgg_model_find_tensor(const vgg_model *m, const char *name) {
    for (int i = 0; i < m->ntensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

void vgg_model_free(vgg_model *m) {
    if (!m) return;
    free(m->params);
    free(m->grads);
    free(m->momentum);
    free(m->state);
    free(m->counters);
    for (int i = 0; i < m->nlayers; i++) {
        free(m->layers[i].conv);
        free(m->layers[i].mean);
        free(m->layers[i].out);
        free(m->layers[i].invstd);
        free(m->layers[i].arg);
    }
    free(m->input);
    free(m->labels);
    free(m->col);
    free(m->wino);
    free(m->grad_a);
    free(m->grad_b);
    free(m->flat);
    free(m->dflat);
    free(m->logits);
    free(m->dlogits);
    free(m->bn_scratch);
    for (int j = 0; j < m->nfc; j++) {
        free(m->fc[j].out);
        free(m->fc[j].keep);
    }
    free(m->dh_a);
    free(m->dh_b);
    free(m);
}

static void *xcalloc(size_t n, size_t size, size_t *total) {
    *total += n * size;
    return vgg_calloc(n ? n : 1, size);
}

vgg_status vgg_model_create(vgg_model **out, const vgg_config *cfg,
                            int batch_max, vgg_error *err) {
    *out = NULL;
    if (batch_max < 1)
        return vgg_fail(err, VGG_ERR_ARG, "batch size %d: expected >= 1",
                        batch_max);
    vgg_arch *a = vgg_malloc(sizeof *a);
    if (!a) return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate the model");
    vgg_status st = vgg_arch_walk(a, cfg, err);
    vgg_model *m = st ? NULL : vgg_calloc(1, sizeof *m);
    if (st || !m) {
        free(a);
        return st ? st
                  : vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate the model");
    }
    m->cfg = *cfg;
    m->batch_max = batch_max;
    m->nlayers = cfg->nlayers;
    m->features = a->features;
    m->nfc = a->nfc;
    m->nparams = a->nparams;
    m->nstate = a->nstate;
    m->ntensors = a->ntensors;
    memcpy(m->tensors, a->tensors, sizeof(vgg_tensor) * (size_t)a->ntensors);

    size_t total = 0;
    m->params = xcalloc(a->nparams, sizeof(float), &total);
    m->grads = xcalloc(a->nparams, sizeof(float), &total);
    m->momentum = xcalloc(a->nparams, sizeof(float), &total);
    m->state = xcalloc(a->nstate, sizeof(float), &total);
    m->counters = xcalloc(a->ncounters, sizeof(int64_t), &total);
    int ok = m->params && m->grads && m->momentum && m->state && m->counters;

    /* Named views, from the walk's tensor list. */
    size_t col_max = 0, act_max = 0;
    const size_t N = (size_t)batch_max;
    for (int i = 0; i < m->nlayers && ok; i++) {
        const vgg_arch_layer *A = &a->layers[i];
        const vgg_tensor *t = m->tensors + A->tensor0;
        vgg_layer *L = &m->layers[i];
        L->kind = A->kind;
        L->cin = A->cin;
        L->cout = A->cout;
        L->H = L->W = A->side;
        L->kernel = A->kernel;
        L->bn = A->bn;
        size_t hw = (size_t)L->H * L->W;
        if (L->kind == VGG_LAYER_POOL) {
            size_t n = (size_t)L->cout * N * hw / 4;
            L->out = xcalloc(n, sizeof(float), &total);
            L->arg = xcalloc(n, 1, &total);
            ok = L->out && L->arg;
            continue;
        }
        L->w = m->params + t[0].offset;
        L->b = m->params + t[1].offset;
        L->dw = m->grads + t[0].offset;
        L->db = m->grads + t[1].offset;
        if (L->bn) {
            L->gamma = m->params + t[2].offset;
            L->beta = m->params + t[3].offset;
            L->dgamma = m->grads + t[2].offset;
            L->dbeta = m->grads + t[3].offset;
            L->run_mean = m->state + t[4].offset;
            L->run_var = m->state + t[5].offset;
            L->nbt = m->counters + t[6].offset;
        }
        size_t n = (size_t)L->cout * N * hw;
        size_t scratch = L->kernel == 3
                             ? vgg_conv_scratch(L->cin, L->cout, N, L->H, L->W)
                             : 0;
        if (scratch > col_max) col_max = scratch;
        if (n > act_max) act_max = n;
        if ((size_t)L->cin * N * hw > act_max)
            act_max = (size_t)L->cin * N * hw;
        if (L->bn) {
            L->conv = xcalloc(n, sizeof(float), &total);
            L->mean = xcalloc(L->cout, sizeof(float), &total);
            L->invstd = xcalloc(L->cout, sizeof(float), &total);
            ok = L->conv && L->mean && L->invstd;
        }
        L->out = xcalloc(n, sizeof(float), &total);
        ok = ok && L->out;
    }
    size_t head_max = 0;
    for (int j = 0; j < m->nfc && ok; j++) {
        const vgg_arch_layer *A = &a->layers[m->nlayers + j];
        const vgg_tensor *t = m->tensors + A->tensor0;
        vgg_fc *F = &m->fc[j];
        F->cin = A->cin;
        F->cout = A->cout;
        F->dropout = A->dropout;
        F->w = m->params + t[0].offset;
        F->b = m->params + t[1].offset;
        F->dw = m->grads + t[0].offset;
        F->db = m->grads + t[1].offset;
        if (j + 1 < m->nfc) {
            F->out = xcalloc(N * F->cout, sizeof(float), &total);
            F->keep = xcalloc(N * F->cout, 1, &total);
            ok = F->out && F->keep;
            if ((size_t)F->cout > head_max) head_max = (size_t)F->cout;
        }
    }
    if (ok) {
        m->fc_w = m->fc[0].w;
        m->fc_b = m->fc[0].b;
        m->fc_dw = m->fc[0].dw;
        m->fc_db = m->fc[0].db;
        size_t in_n = 3 * N * cfg->side * cfg->side;
        if (in_n > act_max) act_max = in_n;
        if (N * m->features > act_max) act_max = N * m->features;
        m->input = xcalloc(in_n, sizeof(float), &total);
        m->labels = xcalloc(N, 1, &total);
        m->col = xcalloc(col_max, sizeof(float), &total);
        m->col_n = col_max;
        m->grad_a = xcalloc(act_max, sizeof(float), &total);
        m->grad_b = xcalloc(act_max, sizeof(float), &total);
        m->flat = xcalloc(N * m->features, sizeof(float), &total);
        m->dflat = xcalloc(N * m->features, sizeof(float), &total);
        m->logits = xcalloc(N * cfg->classes, sizeof(float), &total);
        m->dlogits = xcalloc(N * cfg->classes, sizeof(float), &total);
        if (head_max) {
            m->dh_a = xcalloc(N * head_max, sizeof(float), &total);
            m->dh_b = xcalloc(N * head_max, sizeof(float), &total);
            ok = m->dh_a && m->dh_b;
        }
        int cmax = 3;
        for (int i = 0; i < m->nlayers; i++)
            if (m->layers[i].cout > cmax) cmax = m->layers[i].cout;
        m->bn_scratch = xcalloc(3 * (size_t)cmax + 1, sizeof(double), &total);
        ok = ok && m->input && m->labels && m->col && m->grad_a && m->grad_b &&
             m->flat && m->dflat && m->logits && m->dlogits && m->bn_scratch;
    }
    free(a);
    m->workspace_bytes = total;
    if (!ok) {
        vgg_model_free(m);
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "cannot allocate %.1f MB for the model at batch %d",
                        (double)total / 1e6, batch_max);
    }
    *out = m;
    return VGG_OK;
}

/* Normal(0, std) by Box-Muller, one draw per value. */
static float normal(vgg_rng *rng, float std) {
    float u1 = 1.0f - vgg_rng_uniform(rng), u2 = vgg_rng_uniform(rng);
    return std * sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

void vgg_model_init(vgg_model *m, vgg_rng *rng) {
    const int torchvision = m->cfg.no_bn;
    for (int i = 0; i < m->nlayers; i++) {
        vgg_layer *L = &m->layers[i];
        if (L->kind != VGG_LAYER_CONV) continue;
        const int kk = L->kernel * L->kernel;
        size_t nw = (size_t)L->cout * L->cin * kk;
        if (torchvision) {
            float std = sqrtf(2.0f / (float)(L->cout * kk));
            for (size_t j = 0; j < nw; j++) L->w[j] = normal(rng, std);
            memset(L->b, 0, sizeof(float) * (size_t)L->cout);
            continue;
        }
        float bound = 1.0f / sqrtf((float)(L->cin * kk));
        for (size_t j = 0; j < nw; j++)
            L->w[j] = (2.0f * vgg_rng_uniform(rng) - 1.0f) * bound;
        for (int j = 0; j < L->cout; j++)
            L->b[j] = (2.0f * vgg_rng_uniform(rng) - 1.0f) * bound;
        for (int j = 0; j < L->cout; j++) {
            L->gamma[j] = 1.0f;
            L->beta[j] = 0.0f;
            L->run_mean[j] = 0.0f;
            L->run_var[j] = 1.0f;
        }
        *L->nbt = 0;
    }
    for (int j = 0; j < m->nfc; j++) {
        vgg_fc *F = &m->fc[j];
        size_t nw = (size_t)F->cout * F->cin;
        if (torchvision) {
            for (size_t k = 0; k < nw; k++) F->w[k] = normal(rng, 0.01f);
            memset(F->b, 0, sizeof(float) * (size_t)F->cout);
            continue;
        }
        float bound = 1.0f / sqrtf((float)F->cin);
        for (size_t k = 0; k < nw; k++)
            F->w[k] = (2.0f * vgg_rng_uniform(rng) - 1.0f) * bound;
        for (int k = 0; k < F->cout; k++)
            F->b[k] = (2.0f * vgg_rng_uniform(rng) - 1.0f) * bound;
    }
    memset(m->momentum, 0, m->nparams * sizeof(float));
    memset(m->grads, 0, m->nparams * sizeof(float));
}

void vgg_model_zero_grad(vgg_model *m) {
    memset(m->grads, 0, m->nparams * sizeof(float));
}

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

/* Per-layer timing (m->layer_seconds, see model.h); pass 0 forward, 1
 * backward; i == m->nlayers is the classifier. t0 is the layer's start,
 * g0 the profile's GEMM seconds then. */
static void layer_time(vgg_model *m, int pass, int i, double t0, double g0) {
    if (m->layer_seconds) {
        const int nl = m->nlayers + 1;
        m->layer_seconds[pass * nl + i] += vgg_now() - t0;
        m->layer_seconds[(2 + pass) * nl + i] +=
            vgg_prof.seconds[VGG_PROF_GEMM] - g0;
    }
}

/* Records the first failure of a pass (see vgg_model_status). */
static void pass_failed(vgg_model *m, vgg_status st, const char *pass, int i) {
    if (m->error.status) return;
    if (st == VGG_ERR_NOMEM)
        vgg_fail(&m->error, st,
                 "%s of layer %d: the GEMM (%s) cannot allocate its buffers",
                 pass, i, vgg_gemm_name());
    else
        vgg_fail(&m->error, st,
                 "%s of layer %d: the GEMM (%s) needs more scratch than the "
                 "model has (%zu floats): choose the GEMM before creating "
                 "the model",
                 pass, i, vgg_gemm_name(), m->col_n);
}

vgg_status vgg_model_status(vgg_model *m, vgg_error *err) {
    const vgg_status st = m->error.status;
    if (st && err) *err = m->error;
    m->error.status = VGG_OK;
    m->error.msg[0] = '\0';
    return st;
}

static vgg_status conv_forward(vgg_model *m, const vgg_layer *L, float *out,
                               const float *x, const float *b, int n) {
    if (L->kernel == 1)
        return vgg_conv1x1_forward(out, x, L->w, b, L->cin, L->cout,
                                   n * L->H * L->W);
    if (L->algo[VGG_PASS_FWD] != VGG_CONV_DIRECT)
        return vgg_wino_forward(L->algo[VGG_PASS_FWD], out, m->wino, x, L->w, b,
                                L->cin, L->cout, n, L->H, L->W);
    return vgg_conv_forward(out, m->col, m->col_n, x, L->w, b, L->cin, L->cout,
                            n, L->H, L->W);
}

static vgg_status conv_backward(vgg_model *m, vgg_layer *L, float *din,
                                const float *dout, const float *in, int n);

/* A conv layer's gradients: din (NULL: none wanted), dw, and db when not
 * NULL (a conv without batch norm: the sum of dout over positions). */
static vgg_status conv_grads(vgg_model *m, vgg_layer *L, float *din, float *db,
                             const float *g, const float *in, int n) {
    const int M = n * L->H * L->W;
    if (L->kernel == 1)
        return vgg_conv1x1_backward(din, L->dw, db, g, in, L->w, L->cin,
                                    L->cout, M);
    if (db) vgg_bias_backward(db, g, L->cout, M);
    return conv_backward(m, L, din, g, in, n);
}

/* Dropout's keep bit (vgg/model.h): splitmix64's finaliser over the key
 * and the unit's coordinates, top bit. */
static int keep_bit(uint64_t key, int layer, uint64_t image, int unit) {
    uint64_t z = key ^ ((uint64_t)layer << 58) ^ (image << 24) ^ (uint64_t)unit;
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (int)(z >> 63);
}

/* The head, m->flat -> m->logits. In training with dropout_on, each
 * hidden layer's ReLU output is multiplied by 2 or 0 (kept with
 * probability 1/2, PyTorch's Dropout(0.5)). */
static vgg_status head_forward(vgg_model *m, int n, int train) {
    const float *x = m->flat;
    m->dropout_drawn = train && m->dropout_on && m->nfc > 1;
    for (int j = 0; j < m->nfc; j++) {
        vgg_fc *F = &m->fc[j];
        float *y = j + 1 < m->nfc ? F->out : m->logits;
        vgg_status st =
            vgg_linear_forward(y, x, F->w, F->b, n, F->cin, F->cout);
        if (st) return st;
        if (F->dropout) {
            vgg_relu_forward(y, (long)n * F->cout);
            if (m->dropout_drawn) {
                const uint64_t key = m->dropout_key;
                const int W = F->cout, base = m->dropout_base;
#pragma omp parallel for schedule(static)
                for (int i = 0; i < n; i++)
                    for (int u = 0; u < W; u++) {
                        long k = (long)i * W + u;
                        F->keep[k] =
                            (uint8_t)keep_bit(key, j, (uint64_t)(base + i), u);
                        y[k] = F->keep[k] ? 2.0f * y[k] : 0.0f;
                    }
            }
        }
        x = y;
    }
    return VGG_OK;
}

double vgg_model_forward(vgg_model *m, int n, int train, int *correct) {
    const float *x = m->input;
    double t;
    vgg_status st;
    for (int i = 0; i < m->nlayers; i++) {
        vgg_layer *L = &m->layers[i];
        const int hw = L->H * L->W;
        const double tl = vgg_now(), gl = vgg_prof.seconds[VGG_PROF_GEMM];
        if (L->kind == VGG_LAYER_POOL) {
            t = vgg_now();
            vgg_maxpool_forward(L->out, L->arg, x, L->cout * n, L->H, L->W);
            vgg_prof.seconds[VGG_PROF_POOL] += vgg_now() - t;
        } else if (!L->bn) {
            /* conv + bias, then ReLU in place */
            st = conv_forward(m, L, L->out, x, L->b, n);
            if (st) {
                pass_failed(m, st, "forward", i);
                if (correct) *correct = 0;
                return NAN;
            }
            t = vgg_now();
            vgg_relu_forward(L->out, (long)L->cout * n * hw);
            vgg_prof.seconds[VGG_PROF_BN] += vgg_now() - t;
        } else {
            /* no bias: batch norm takes it (see nn.h) */
            st = conv_forward(m, L, L->conv, x, NULL, n);
            if (st) {
                pass_failed(m, st, "forward", i);
                if (correct) *correct = 0;
                return NAN;
            }
            t = vgg_now();
            if (train && m->dist && m->dist->sync_bn) {
                /* statistics of the global batch: add the sums (and the
                 * value count, last) of every process */
                const int C = L->cout;
                double *sums = m->bn_scratch;
                float *shift = (float *)(sums + 2 * C + 1);
                for (int c = 0; c < C; c++) shift[c] = L->run_mean[c] - L->b[c];
                vgg_batchnorm_sums(sums, L->conv, shift, C, n * hw);
                sums[2 * C] = (double)n * hw;
                m->dist->sum_f64(sums, 2 * C + 1, m->dist->ctx);
                vgg_batchnorm_apply_train(
                    L->out, L->mean, L->invstd, L->run_mean, L->run_var, sums,
                    shift, (long)sums[2 * C], L->conv, L->b, L->gamma, L->beta,
                    1, BN_MOMENTUM, BN_EPS, C, n * hw);
                (*L->nbt)++;
            } else if (train) {
                vgg_batchnorm_forward_train(
                    L->out, L->mean, L->invstd, L->run_mean, L->run_var,
                    L->conv, L->b, L->gamma, L->beta, 1, BN_MOMENTUM, BN_EPS,
                    L->cout, n * hw, m->bn_scratch);
                (*L->nbt)++;
            } else {
                vgg_batchnorm_forward_eval(L->out, L->conv, L->b, L->gamma,
                                           L->beta, L->run_mean, L->run_var, 1,
                                           BN_EPS, L->cout, n * hw);
            }
            vgg_prof.seconds[VGG_PROF_BN] += vgg_now() - t;
        }
        layer_time(m, 0, i, tl, gl);
        x = L->out;
    }
    t = vgg_now();
    const double tc = t, gc = vgg_prof.seconds[VGG_PROF_GEMM];
    const vgg_layer *last = &m->layers[m->nlayers - 1];
    int S = m->nlayers ? (last->kind == VGG_LAYER_POOL ? last->H * last->W / 4
                                                       : last->H * last->W)
                       : m->cfg.side * m->cfg.side;
    int C = m->nlayers ? last->cout : 3;
    vgg_flatten_forward(m->flat, x, C, n, S);
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
    st = head_forward(m, n, train);
    if (st) {
        pass_failed(m, st, "forward", m->nlayers);
        if (correct) *correct = 0;
        return NAN;
    }
    t = vgg_now();
    double loss = vgg_softmax_xent(train ? m->dlogits : NULL, correct, NULL,
                                   m->logits, m->labels, n, m->cfg.classes);
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
    layer_time(m, 0, m->nlayers, tc, gc);
    return loss;
}

/* Begins the sum across processes of one layer's gradients: the span of
 * the gradient arena from `first` to the end of `last` (n floats), which
 * holds all of the layer's tensors (the arena keeps a layer's tensors
 * together, in table order). */
static void start_sum(const vgg_dist *d, float *first, float *last, int n) {
    double t = vgg_now();
    d->start_f32(first, (size_t)(last + n - first), d->ctx);
    vgg_prof.seconds[VGG_PROF_COMM] += vgg_now() - t;
}

/* The conv's input gradient din (NULL: none wanted) and weight gradient
 * from dout, each pass by its own algorithm. */
static vgg_status conv_backward(vgg_model *m, vgg_layer *L, float *din,
                                const float *dout, const float *in, int n) {
    const vgg_conv_algo ad = L->algo[VGG_PASS_DATA],
                        aw = L->algo[VGG_PASS_WEIGHTS];
    if (aw == VGG_CONV_DIRECT && (ad == VGG_CONV_DIRECT || !din))
        return vgg_conv_backward(din, L->dw, NULL, m->col, m->col_n, dout, in,
                                 L->w, L->cin, L->cout, n, L->H, L->W);
    vgg_status st =
        aw == VGG_CONV_DIRECT
            ? vgg_conv_backward(NULL, L->dw, NULL, m->col, m->col_n, dout, in,
                                L->w, L->cin, L->cout, n, L->H, L->W)
            : vgg_wino_backward_weights(aw, L->dw, m->wino, dout, in, L->cin,
                                        L->cout, n, L->H, L->W);
    if (st || !din) return st;
    if (ad == VGG_CONV_DIRECT)
        return vgg_conv_backward_data(din, m->col, m->col_n, dout, L->w, L->cin,
                                      L->cout, n, L->H, L->W);
    return vgg_wino_backward_data(ad, din, m->wino, dout, L->w, L->cin, L->cout,
                                  n, L->H, L->W);
}

void vgg_model_backward(vgg_model *m, int n) {
    const vgg_layer *last = &m->layers[m->nlayers - 1];
    int S = last->kind == VGG_LAYER_POOL ? last->H * last->W / 4
                                         : last->H * last->W;
    const double tc = vgg_now(), gc = vgg_prof.seconds[VGG_PROF_GEMM];
    const vgg_dist *d = m->dist && m->dist->start_f32 ? m->dist : NULL;
    /* the head, last layer first: through fc[j-1]'s ReLU and dropout
     * (its output is 2 relu or 0 where drawn: vgg_relu_backward) */
    const float *gh = m->dlogits;
    float *dh = m->dh_a, *dh2 = m->dh_b;
    for (int j = m->nfc - 1; j >= 0; j--) {
        vgg_fc *F = &m->fc[j];
        float *din = j ? dh : m->dflat;
        vgg_status st = vgg_linear_backward(din, F->dw, F->db, gh,
                                            j ? m->fc[j - 1].out : m->flat,
                                            F->w, n, F->cin, F->cout);
        if (st) {
            pass_failed(m, st, "backward", m->nlayers);
            return;
        }
        if (d) start_sum(d, F->dw, F->db, F->cout);
        if (j)
            vgg_relu_backward(din, m->fc[j - 1].out, (long)n * F->cin,
                              m->dropout_drawn ? 2.0f : 1.0f);
        gh = din;
        float *tmp = dh;
        dh = dh2;
        dh2 = tmp;
    }
    double t = vgg_now();
    float *g = m->grad_a, *g2 = m->grad_b;
    vgg_flatten_backward(g, m->dflat, last->cout, n, S);
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
    layer_time(m, 1, m->nlayers, tc, gc);
    for (int i = m->nlayers - 1; i >= 0; i--) {
        vgg_layer *L = &m->layers[i];
        const int hw = L->H * L->W;
        const double tl = vgg_now(), gl = vgg_prof.seconds[VGG_PROF_GEMM];
        const float *in = i > 0 ? m->layers[i - 1].out : m->input;
        float *tmp;
        if (L->kind == VGG_LAYER_POOL) {
            t = vgg_now();
            vgg_maxpool_backward(g2, g, L->arg, L->cout * n, L->H, L->W);
            vgg_prof.seconds[VGG_PROF_POOL] += vgg_now() - t;
        } else if (!L->bn) {
            t = vgg_now();
            vgg_relu_backward(g, L->out, (long)L->cout * n * hw, 1.0f);
            vgg_prof.seconds[VGG_PROF_BN] += vgg_now() - t;
            vgg_status gst =
                conv_grads(m, L, i > 0 ? g2 : NULL, L->db, g, in, n);
            if (gst) {
                pass_failed(m, gst, "backward", i);
                return;
            }
            if (d) start_sum(d, L->dw, L->db, L->cout);
        } else {
            t = vgg_now();
            if (m->dist && m->dist->sync_bn) {
                const int C = L->cout;
                double *sums = m->bn_scratch;
                vgg_batchnorm_backward_sums(sums, L->dgamma, L->dbeta, g,
                                            L->conv, L->gamma, L->beta, L->mean,
                                            L->invstd, 1, C, n * hw);
                sums[2 * C] = (double)n * hw;
                m->dist->sum_f64(sums, 2 * C + 1, m->dist->ctx);
                vgg_batchnorm_backward_apply(g, L->db, sums, (long)sums[2 * C],
                                             g, L->conv, L->gamma, L->beta,
                                             L->mean, L->invstd, 1, C, n * hw);
            } else {
                vgg_batchnorm_backward(g, L->dgamma, L->dbeta, L->db, g,
                                       L->conv, L->gamma, L->beta, L->mean,
                                       L->invstd, 1, L->cout, n * hw,
                                       m->bn_scratch);
            }
            vgg_prof.seconds[VGG_PROF_BN] += vgg_now() - t;
            vgg_status st = conv_grads(m, L, i > 0 ? g2 : NULL, NULL, g, in, n);
            if (st) {
                pass_failed(m, st, "backward", i);
                return;
            }
            if (d) start_sum(d, L->dw, L->dbeta, L->cout);
        }
        layer_time(m, 1, i, tl, gl);
        tmp = g;
        g = g2;
        g2 = tmp;
    }
}
