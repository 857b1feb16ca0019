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

void vgg_config_format(char *buf, size_t cap, const vgg_config *cfg) {
    size_t k = 0;
    if (cap) buf[0] = 0;
    for (int i = 0; i < cfg->nlayers && k < cap; i++) {
        if (cfg->layers[i] == VGG_POOL)
            k += (size_t)snprintf(buf + k, cap - k, "%sM", i ? " " : "");
        else
            k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? " " : "",
                                  cfg->layers[i]);
    }
}

vgg_config vgg_config_vgg16(int classes) {
    static const int table[] = {64,  64,  VGG_POOL, 128, 128, VGG_POOL,
                                256, 256, 256,      VGG_POOL, 512, 512,
                                512, VGG_POOL, 512, 512, 512, VGG_POOL};
    vgg_config c;
    memset(&c, 0, sizeof c);
    c.nlayers = (int)(sizeof table / sizeof table[0]);
    memcpy(c.layers, table, sizeof table);
    c.classes = classes;
    c.side = 32;
    return c;
}

vgg_status vgg_config_parse(vgg_config *cfg, const char *spec, int classes,
                            vgg_error *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->classes = classes;
    cfg->side = 32;
    int side = cfg->side, pools = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        if (cfg->nlayers == VGG_MAX_LAYERS)
            return vgg_fail(err, VGG_ERR_ARG,
                            "network table '%s': more than %d entries", spec,
                            VGG_MAX_LAYERS);
        if (*p == 'M') {
            /* Refused here, not at vgg_model_create, so that --arch and a
             * checkpoint's arch are checked where they are parsed. */
            if (side < 2 || side % 2)
                return vgg_fail(err, VGG_ERR_ARG,
                                "network table '%s': pool %d "
                                "would halve a %dx%d map; drop a pool",
                                spec, pools + 1, side, side);
            side /= 2;
            pools++;
            cfg->layers[cfg->nlayers++] = VGG_POOL;
            p++;
            continue;
        }
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096 || (*end && *end != ' ' && *end != ','))
            return vgg_fail(err, VGG_ERR_ARG,
                            "network table '%s': bad entry at '%s'; expected "
                            "a width from 1 to 4096 or M",
                            spec, p);
        cfg->layers[cfg->nlayers++] = (int)v;
        p = end;
    }
    /* A checkpoint of an empty table would not load (checkpoint.c). */
    if (cfg->nlayers == 0)
        return vgg_fail(err, VGG_ERR_ARG,
                        "network table '%s' is empty; expected widths and M "
                        "such as '64 64 M 128 M'",
                        spec);
    return VGG_OK;
}

static void add_tensor(vgg_model *m, const char *name, vgg_tensor_kind kind,
                       int ndim, const int64_t *shape, size_t *cursor) {
    vgg_tensor *t = &m->tensors[m->ntensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kind = kind;
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->numel *= (size_t)shape[i];
    }
    t->offset = *cursor;
    *cursor += t->numel;
}

float *vgg_tensor_f32(const vgg_model *m, const vgg_tensor *t) {
    switch (t->kind) {
    case VGG_TENSOR_PARAM: return m->params + t->offset;
    case VGG_TENSOR_BUFFER: return m->state + t->offset;
    default: return NULL;
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
    free(m);
}

static void *xcalloc(size_t n, size_t size, size_t *total) {
    *total += n * size;
    return vgg_calloc(n ? n : 1, size);
}

vgg_status vgg_model_create(vgg_model **out, const vgg_config *cfg,
                            int batch_max, vgg_error *err) {
    *out = NULL;
    if (cfg->classes < 2 || cfg->classes > 1000)
        return vgg_fail(err, VGG_ERR_ARG, "class count %d: expected 2 to 1000",
                        cfg->classes);
    if (batch_max < 1)
        return vgg_fail(err, VGG_ERR_ARG, "batch size %d: expected >= 1",
                        batch_max);
    vgg_model *m = vgg_calloc(1, sizeof *m);
    if (!m) return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate the model");
    m->cfg = *cfg;
    m->batch_max = batch_max;

    /* Walk the table: shapes, tensor names, arena offsets. */
    size_t np = 0, ns = 0, nc = 0;
    int c = 3, side = cfg->side, block = 1, pos = 0;
    char name[48];
    for (int i = 0; i < cfg->nlayers; i++) {
        vgg_layer *L = &m->layers[m->nlayers++];
        L->cin = c;
        L->H = L->W = side;
        if (cfg->layers[i] == VGG_POOL) {
            if (side < 2 || side % 2) {
                vgg_model_free(m);
                return vgg_fail(err, VGG_ERR_ARG,
                                "network table: pool on a %dx%d map", side,
                                side);
            }
            L->kind = VGG_LAYER_POOL;
            L->cout = c;
            side /= 2;
            block++;
            pos = 0;
            continue;
        }
        L->kind = VGG_LAYER_CONV;
        L->cout = cfg->layers[i];
        int64_t wshape[4] = {L->cout, c, 3, 3}, vshape[1] = {L->cout};
        snprintf(name, sizeof name, "conv%d.%d.weight", block, pos);
        add_tensor(m, name, VGG_TENSOR_PARAM, 4, wshape, &np);
        snprintf(name, sizeof name, "conv%d.%d.bias", block, pos);
        add_tensor(m, name, VGG_TENSOR_PARAM, 1, vshape, &np);
        snprintf(name, sizeof name, "conv%d.%d.weight", block, pos + 1);
        add_tensor(m, name, VGG_TENSOR_PARAM, 1, vshape, &np);
        snprintf(name, sizeof name, "conv%d.%d.bias", block, pos + 1);
        add_tensor(m, name, VGG_TENSOR_PARAM, 1, vshape, &np);
        snprintf(name, sizeof name, "conv%d.%d.running_mean", block, pos + 1);
        add_tensor(m, name, VGG_TENSOR_BUFFER, 1, vshape, &ns);
        snprintf(name, sizeof name, "conv%d.%d.running_var", block, pos + 1);
        add_tensor(m, name, VGG_TENSOR_BUFFER, 1, vshape, &ns);
        snprintf(name, sizeof name, "conv%d.%d.num_batches_tracked", block,
                 pos + 1);
        add_tensor(m, name, VGG_TENSOR_COUNTER, 0, NULL, &nc);
        pos += 3;
        c = L->cout;
    }
    m->features = c * side * side;
    int64_t fw[2] = {cfg->classes, m->features}, fb[1] = {cfg->classes};
    add_tensor(m, "fc1.weight", VGG_TENSOR_PARAM, 2, fw, &np);
    add_tensor(m, "fc1.bias", VGG_TENSOR_PARAM, 1, fb, &np);
    m->nparams = np;
    m->nstate = ns;

    size_t total = 0;
    m->params = xcalloc(np, sizeof(float), &total);
    m->grads = xcalloc(np, sizeof(float), &total);
    m->momentum = xcalloc(np, sizeof(float), &total);
    m->state = xcalloc(ns, sizeof(float), &total);
    m->counters = xcalloc(nc, sizeof(int64_t), &total);
    int ok = m->params && m->grads && m->momentum && m->state && m->counters;

    /* Named views, in table order (the tensor table has 7 entries a conv). */
    const vgg_tensor *t = m->tensors;
    size_t col_max = 0, act_max = 0;
    const size_t N = (size_t)batch_max;
    for (int i = 0; i < m->nlayers && ok; i++) {
        vgg_layer *L = &m->layers[i];
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
        L->gamma = m->params + t[2].offset;
        L->beta = m->params + t[3].offset;
        L->dw = m->grads + t[0].offset;
        L->db = m->grads + t[1].offset;
        L->dgamma = m->grads + t[2].offset;
        L->dbeta = m->grads + t[3].offset;
        L->run_mean = m->state + t[4].offset;
        L->run_var = m->state + t[5].offset;
        L->nbt = m->counters + t[6].offset;
        t += 7;
        size_t n = (size_t)L->cout * N * hw;
        size_t scratch = vgg_conv_scratch(L->cin, L->cout, N, L->H, L->W);
        if (scratch > col_max) col_max = scratch;
        if (n > act_max) act_max = n;
        if ((size_t)L->cin * N * hw > act_max) act_max = (size_t)L->cin * N * hw;
        L->conv = xcalloc(n, sizeof(float), &total);
        L->out = xcalloc(n, sizeof(float), &total);
        L->mean = xcalloc(L->cout, sizeof(float), &total);
        L->invstd = xcalloc(L->cout, sizeof(float), &total);
        ok = L->conv && L->out && L->mean && L->invstd;
    }
    if (ok) {
        m->fc_w = m->params + t[0].offset;
        m->fc_b = m->params + t[1].offset;
        m->fc_dw = m->grads + t[0].offset;
        m->fc_db = m->grads + t[1].offset;
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
        int cmax = 3;
        for (int i = 0; i < m->nlayers; i++)
            if (m->layers[i].cout > cmax) cmax = m->layers[i].cout;
        m->bn_scratch = xcalloc(3 * (size_t)cmax + 1, sizeof(double), &total);
        ok = m->input && m->labels && m->col && m->grad_a && m->grad_b &&
             m->flat && m->dflat && m->logits && m->dlogits && m->bn_scratch;
    }
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

void vgg_model_init(vgg_model *m, vgg_rng *rng) {
    for (int i = 0; i < m->nlayers; i++) {
        vgg_layer *L = &m->layers[i];
        if (L->kind != VGG_LAYER_CONV) continue;
        float bound = 1.0f / sqrtf((float)(L->cin * 9));
        size_t nw = (size_t)L->cout * L->cin * 9;
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
    float bound = 1.0f / sqrtf((float)m->features);
    for (size_t j = 0; j < (size_t)m->cfg.classes * m->features; j++)
        m->fc_w[j] = (2.0f * vgg_rng_uniform(rng) - 1.0f) * bound;
    for (int j = 0; j < m->cfg.classes; j++)
        m->fc_b[j] = (2.0f * vgg_rng_uniform(rng) - 1.0f) * bound;
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
        } else {
            /* no bias: batch norm takes it (see nn.h) */
            if (L->algo[VGG_PASS_FWD] != VGG_CONV_DIRECT)
                st = vgg_wino_forward(L->algo[VGG_PASS_FWD], L->conv, m->wino,
                                      x, L->w, NULL, L->cin, L->cout, n, L->H,
                                      L->W);
            else
                st = vgg_conv_forward(L->conv, m->col, m->col_n, x, L->w, NULL,
                                      L->cin, L->cout, n, L->H, L->W);
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
    st = vgg_linear_forward(m->logits, m->flat, m->fc_w, m->fc_b, n,
                            m->features, m->cfg.classes);
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
        return vgg_conv_backward_data(din, m->col, m->col_n, dout, L->w,
                                      L->cin, L->cout, n, L->H, L->W);
    return vgg_wino_backward_data(ad, din, m->wino, dout, L->w, L->cin,
                                  L->cout, n, L->H, L->W);
}

void vgg_model_backward(vgg_model *m, int n) {
    const vgg_layer *last = &m->layers[m->nlayers - 1];
    int S = last->kind == VGG_LAYER_POOL ? last->H * last->W / 4
                                         : last->H * last->W;
    const double tc = vgg_now(), gc = vgg_prof.seconds[VGG_PROF_GEMM];
    vgg_status st = vgg_linear_backward(m->dflat, m->fc_dw, m->fc_db,
                                        m->dlogits, m->flat, m->fc_w, n,
                                        m->features, m->cfg.classes);
    if (st) {
        pass_failed(m, st, "backward", m->nlayers);
        return;
    }
    double t = vgg_now();
    float *g = m->grad_a, *g2 = m->grad_b;
    vgg_flatten_backward(g, m->dflat, last->cout, n, S);
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
    layer_time(m, 1, m->nlayers, tc, gc);
    const vgg_dist *d = m->dist && m->dist->start_f32 ? m->dist : NULL;
    if (d) start_sum(d, m->fc_dw, m->fc_db, m->cfg.classes);
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
        } else {
            t = vgg_now();
            if (m->dist && m->dist->sync_bn) {
                const int C = L->cout;
                double *sums = m->bn_scratch;
                vgg_batchnorm_backward_sums(sums, L->dgamma, L->dbeta, g,
                                            L->conv, L->gamma, L->beta,
                                            L->mean, L->invstd, 1, C, n * hw);
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
            st = conv_backward(m, L, i > 0 ? g2 : NULL, g, in, n);
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
