#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "vgg/augment.h"
#include "vgg/profile.h"
#include "vgg/train.h"

static int grads_finite(const vgg_model *m) {
    const float *g = m->grads;
    const long n = (long)m->nparams;
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
    for (long i = 0; i < n; i++) bad |= !isfinite(g[i]);
    return !bad;
}

/* This process's share [*lo, *hi) of n items split over the ranks. */
static void share(const vgg_model *m, int n, int *lo, int *hi) {
    const vgg_dist *d = m->dist;
    int r = d ? d->rank : 0, p = d ? d->size : 1;
    *lo = (int)((long)n * r / p);
    *hi = (int)((long)n * (r + 1) / p);
}

vgg_status vgg_train_step(vgg_model *m, int n, int nglobal, const vgg_sgd *opt,
                          double *loss_sum, int *correct, vgg_error *err) {
    const vgg_dist *dist = m->dist;
    double loss = vgg_model_forward(m, n, 1, correct);
    vgg_status st = vgg_model_status(m, err);
    if (st) return st; /* a GEMM's failure, named with its layer */
    if (dist) {
        /* the gradient of the global mean: this share weighs n/nglobal */
        const float s = (float)n / (float)nglobal;
        for (long i = 0; i < (long)n * m->cfg.classes; i++) m->dlogits[i] *= s;
        double v[2] = {loss, *correct};
        dist->sum_f64(v, 2, dist->ctx);
        loss = v[0];
        *correct = (int)v[1];
    }
    *loss_sum = loss;
    if (!isfinite(loss))
        return vgg_fail(err, VGG_ERR_DIVERGED, "loss is %f", loss);
    vgg_model_zero_grad(m);
    vgg_model_backward(m, n);
    if ((st = vgg_model_status(m, err))) return st;
    if (dist) {
        double t = vgg_now();
        if (dist->start_f32)
            dist->finish(dist->ctx); /* begun layer by layer */
        else
            dist->sum_f32(m->grads, m->nparams, dist->ctx);
        if (!dist->sync_bn) {
            /* local statistics differ: keep the running ones equal by
             * averaging them, as DistributedDataParallel's broadcast
             * keeps them equal */
            dist->sum_f32(m->state, m->nstate, dist->ctx);
            for (size_t i = 0; i < m->nstate; i++)
                m->state[i] /= (float)dist->size;
        }
        vgg_prof.seconds[VGG_PROF_COMM] += vgg_now() - t;
    }
    double t = vgg_now();
    int ok = grads_finite(m);
    vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
    if (!ok) return vgg_fail(err, VGG_ERR_DIVERGED, "a gradient is not finite");
    vgg_sgd_step(m, opt);
    return VGG_OK;
}

vgg_status vgg_train_epoch(vgg_model *m, const vgg_dataset *ds, int batch_size,
                           const vgg_sgd *opt, vgg_rng *rng,
                           vgg_epoch_stats *stats, vgg_batch_cb cb, void *user,
                           vgg_error *err) {
    memset(stats, 0, sizeof *stats);
    const vgg_dist *dist = m->dist;
    if (batch_size < 1 || batch_size > m->batch_max)
        return vgg_fail(err, VGG_ERR_ARG,
                        "batch size %d: expected 1 to %d (the model's "
                        "workspace)",
                        batch_size, m->batch_max);
    if (dist && batch_size < dist->size)
        return vgg_fail(err, VGG_ERR_ARG,
                        "batch size %d: smaller than the %d processes it is "
                        "split over",
                        batch_size, dist->size);
    int *order = vgg_malloc(sizeof(int) * (size_t)ds->n);
    vgg_augment_choice *ch = vgg_malloc(sizeof *ch * (size_t)batch_size);
    if (!order || !ch) {
        free(order);
        free(ch);
        return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate the epoch order");
    }
    /* Every process shuffles and draws the same numbers for the whole
     * global batch, then takes its share: the global batch is the same
     * images, augmented the same way, as in a single process. */
    for (int i = 0; i < ds->n; i++) order[i] = i;
    vgg_rng_shuffle(rng, order, ds->n);
    const int nb = (ds->n + batch_size - 1) / batch_size;
    double t0 = vgg_now();
    vgg_status st = VGG_OK;
    for (int b = 0; b < nb; b++) {
        int start = b * batch_size;
        int n = ds->n - start < batch_size ? ds->n - start : batch_size;
        double t = vgg_now();
        vgg_augment_draw_side(ch, n, vgg_dataset_side(ds), rng);
        if (dist && n < dist->size) break; /* a last batch too small to split */
        int lo, hi;
        share(m, n, &lo, &hi);
        const int nl = hi - lo;
        if (m->nfc > 1) { /* dropout's key: drawn only when there is one */
            m->dropout_key = (uint64_t)vgg_rng_u32(rng) << 32;
            m->dropout_key |= vgg_rng_u32(rng);
            m->dropout_base = lo;
            m->dropout_on = 1;
        }
        vgg_augment_batch(m->input, m->labels, ds, order + start + lo, nl,
                          ch + lo);
        vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
        int correct = 0;
        double loss = 0.0;
        vgg_error why = {0};
        st = vgg_train_step(m, nl, n, opt, &loss, &correct, &why);
        if (st) {
            st = vgg_fail(err, st,
                          "%s at batch %d of %d; weights left as "
                          "after batch %d",
                          why.msg, b + 1, nb, b);
            break;
        }
        stats->loss_sum += loss;
        stats->correct += correct;
        stats->images += n;
        stats->batches++;
        stats->seconds = vgg_now() - t0;
        if (cb && cb(user, b + 1, nb, stats)) {
            if (b + 1 < nb)
                st = vgg_fail(err, VGG_ERR_INTERRUPTED,
                              "stopped after batch %d of %d", b + 1, nb);
            break;
        }
    }
    stats->seconds = vgg_now() - t0;
    m->dropout_on = 0;
    free(order);
    free(ch);
    return st;
}

vgg_status vgg_evaluate(vgg_model *m, const vgg_dataset *ds, int batch_size,
                        vgg_epoch_stats *stats, int *confusion,
                        float *logits_out, vgg_error *err) {
    memset(stats, 0, sizeof *stats);
    const int K = m->cfg.classes;
    const vgg_dist *dist = m->dist;
    if (batch_size < 1 || batch_size > m->batch_max)
        return vgg_fail(err, VGG_ERR_ARG,
                        "batch size %d: expected 1 to %d (the model's "
                        "workspace)",
                        batch_size, m->batch_max);
    if (dist && logits_out)
        return vgg_fail(err, VGG_ERR_ARG,
                        "logits are not gathered across processes");
    int *conf = vgg_calloc((size_t)K * K, sizeof(int));
    int *idx = vgg_malloc(sizeof(int) * (size_t)batch_size);
    if (!idx || !conf) {
        free(idx);
        free(conf);
        return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate batch indices");
    }
    /* each process scores a contiguous share of the test set */
    int lo, hi;
    share(m, ds->n, &lo, &hi);
    double t0 = vgg_now();
    for (int start = lo; start < hi; start += batch_size) {
        int n = hi - start < batch_size ? hi - start : batch_size;
        for (int i = 0; i < n; i++) idx[i] = start + i;
        vgg_augment_batch(m->input, m->labels, ds, idx, n, NULL);
        int correct = 0;
        stats->loss_sum += vgg_model_forward(m, n, 0, &correct);
        vgg_status st = vgg_model_status(m, err);
        if (st) {
            free(idx);
            free(conf);
            return st;
        }
        stats->correct += correct;
        stats->images += n;
        stats->batches++;
        for (int i = 0; i < n; i++) {
            const float *z = m->logits + (size_t)i * K;
            int best = 0;
            for (int k = 1; k < K; k++)
                if (z[k] > z[best]) best = k;
            conf[m->labels[i] * K + best]++;
            if (logits_out)
                memcpy(logits_out + (size_t)(start + i) * K, z,
                       sizeof(float) * K);
        }
    }
    if (dist) {
        size_t nv = 3 + (size_t)K * K;
        double *v = vgg_malloc(sizeof(double) * nv);
        if (!v) {
            free(idx);
            free(conf);
            return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate sums");
        }
        v[0] = stats->loss_sum;
        v[1] = stats->correct;
        v[2] = stats->images;
        for (int i = 0; i < K * K; i++) v[3 + i] = conf[i];
        dist->sum_f64(v, (int)nv, dist->ctx);
        stats->loss_sum = v[0];
        stats->correct = (int)v[1];
        stats->images = (int)v[2];
        for (int i = 0; i < K * K; i++) conf[i] = (int)v[3 + i];
        free(v);
    }
    if (confusion) memcpy(confusion, conf, sizeof(int) * (size_t)K * K);
    stats->seconds = vgg_now() - t0;
    free(idx);
    free(conf);
    return VGG_OK;
}
