#include <math.h>
#include <stdlib.h>
#include <string.h>

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

vgg_status vgg_train_epoch(vgg_model *m, const vgg_dataset *ds,
                           int batch_size, const vgg_sgd *opt, vgg_rng *rng,
                           vgg_epoch_stats *stats, vgg_batch_cb cb,
                           void *user, vgg_error *err) {
    memset(stats, 0, sizeof *stats);
    if (batch_size < 1 || batch_size > m->batch_max)
        return vgg_fail(err, VGG_ERR_ARG,
                        "batch size %d: expected 1 to %d (the model's "
                        "workspace)",
                        batch_size, m->batch_max);
    int *order = malloc(sizeof(int) * (size_t)ds->n);
    vgg_augment_choice *ch = malloc(sizeof *ch * (size_t)batch_size);
    if (!order || !ch) {
        free(order);
        free(ch);
        return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate the epoch order");
    }
    for (int i = 0; i < ds->n; i++) order[i] = i;
    vgg_rng_shuffle(rng, order, ds->n);
    const int nb = (ds->n + batch_size - 1) / batch_size;
    double t0 = vgg_now();
    vgg_status st = VGG_OK;
    for (int b = 0; b < nb; b++) {
        int start = b * batch_size;
        int n = ds->n - start < batch_size ? ds->n - start : batch_size;
        double t = vgg_now();
        vgg_augment_draw(ch, n, rng);
        vgg_augment_batch(m->input, m->labels, ds, order + start, n, ch);
        vgg_prof.seconds[VGG_PROF_OTHER] += vgg_now() - t;
        int correct = 0;
        double loss = vgg_model_forward(m, n, 1, &correct);
        if (!isfinite(loss)) {
            st = vgg_fail(err, VGG_ERR_DIVERGED,
                          "loss is %f at batch %d of %d; weights left as "
                          "after batch %d",
                          loss, b + 1, nb, b);
            break;
        }
        vgg_model_zero_grad(m);
        vgg_model_backward(m, n);
        if (!grads_finite(m)) {
            st = vgg_fail(err, VGG_ERR_DIVERGED,
                          "a gradient is not finite at batch %d of %d; "
                          "weights left as after batch %d",
                          b + 1, nb, b);
            break;
        }
        vgg_sgd_step(m, opt);
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
    free(order);
    free(ch);
    return st;
}

vgg_status vgg_evaluate(vgg_model *m, const vgg_dataset *ds, int batch_size,
                        vgg_epoch_stats *stats, int *confusion,
                        float *logits_out, vgg_error *err) {
    memset(stats, 0, sizeof *stats);
    const int K = m->cfg.classes;
    if (batch_size < 1 || batch_size > m->batch_max)
        return vgg_fail(err, VGG_ERR_ARG,
                        "batch size %d: expected 1 to %d (the model's "
                        "workspace)",
                        batch_size, m->batch_max);
    if (confusion) memset(confusion, 0, sizeof(int) * (size_t)K * K);
    int *idx = malloc(sizeof(int) * (size_t)batch_size);
    if (!idx)
        return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate batch indices");
    double t0 = vgg_now();
    for (int start = 0; start < ds->n; start += batch_size) {
        int n = ds->n - start < batch_size ? ds->n - start : batch_size;
        for (int i = 0; i < n; i++) idx[i] = start + i;
        vgg_augment_batch(m->input, m->labels, ds, idx, n, NULL);
        int correct = 0;
        stats->loss_sum += vgg_model_forward(m, n, 0, &correct);
        stats->correct += correct;
        stats->images += n;
        stats->batches++;
        for (int i = 0; i < n; i++) {
            const float *z = m->logits + (size_t)i * K;
            int best = 0;
            for (int k = 1; k < K; k++)
                if (z[k] > z[best]) best = k;
            if (confusion) confusion[m->labels[i] * K + best]++;
            if (logits_out)
                memcpy(logits_out + (size_t)(start + i) * K, z,
                       sizeof(float) * K);
        }
    }
    stats->seconds = vgg_now() - t0;
    free(idx);
    return VGG_OK;
}
