/* The public API (include/vgg/vgg.h) over the internal model and
 * checkpoint reader. */
#include <stdlib.h>
#include <string.h>

#include "vgg/augment.h"
#include "vgg/checkpoint.h"
#include "vgg/gemm.h"
#include "vgg/image.h"
#include "vgg/model.h"
#include "vgg/vgg.h"

struct vgg_classifier {
    vgg_model *model;
    vgg_ckpt_meta meta;
};

vgg_status vgg_classifier_open(vgg_classifier **out, const char *path,
                               int batch_max, vgg_error *err) {
    *out = NULL;
    if (batch_max < 1)
        return vgg_fail(err, VGG_ERR_ARG, "batch size %d: expected >= 1",
                        batch_max);
    vgg_classifier *c = calloc(1, sizeof *c);
    if (!c) return vgg_fail(err, VGG_ERR_NOMEM, "cannot allocate a classifier");
    vgg_status st = vgg_checkpoint_read_meta(path, &c->meta, err);
    if (st) {
        free(c);
        return st;
    }
    if ((st = vgg_model_create(&c->model, &c->meta.cfg, batch_max, err)) ||
        (st = vgg_checkpoint_load(path, c->model, NULL, err))) {
        vgg_classifier_close(c);
        return st;
    }
    *out = c;
    return VGG_OK;
}

void vgg_classifier_close(vgg_classifier *c) {
    if (!c) return;
    vgg_model_free(c->model);
    vgg_ckpt_meta_free(&c->meta);
    free(c);
}

int vgg_classifier_classes(const vgg_classifier *c) {
    return c->meta.cfg.classes;
}

const char *vgg_classifier_class_name(const vgg_classifier *c, int label) {
    if (label < 0 || label >= c->meta.cfg.classes) return NULL;
    return c->meta.class_names[label];
}

int vgg_classifier_side(const vgg_classifier *c) { return c->meta.cfg.side; }

int vgg_classifier_batch_max(const vgg_classifier *c) {
    return c->model->batch_max;
}

/* Runs the network on m->input (already normalised, CNHW) and copies the
 * logits out. */
static void run(vgg_model *m, int n, float *logits) {
    memset(m->labels, 0, (size_t)n);
    int correct;
    vgg_model_forward(m, n, 0, &correct);
    memcpy(logits, m->logits, sizeof(float) * (size_t)n * m->cfg.classes);
}

vgg_status vgg_classifier_logits(vgg_classifier *c, const float *rgb, int n,
                                 float *logits, vgg_error *err) {
    vgg_model *m = c->model;
    if (n < 1 || n > m->batch_max)
        return vgg_fail(err, VGG_ERR_ARG,
                        "%d images: expected 1 to %d (the classifier's batch)",
                        n, m->batch_max);
    const size_t hw = (size_t)m->cfg.side * m->cfg.side;
    /* NCHW in [0, 1] -> the network's CNHW, (v - mean) / std */
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < 3; ch++) {
            const float *src = rgb + ((size_t)i * 3 + ch) * hw;
            float *dst = m->input + ((size_t)ch * n + i) * hw;
            for (size_t j = 0; j < hw; j++)
                dst[j] = (src[j] - vgg_cifar_mean[ch]) / vgg_cifar_std[ch];
        }
    run(m, n, logits);
    return VGG_OK;
}

vgg_status vgg_classifier_png(vgg_classifier *c, const char *path,
                              float *logits, vgg_error *err) {
    vgg_model *m = c->model;
    uint8_t px[VGG_CIFAR_PIXELS], label = 0;
    vgg_status st = vgg_png_read_cifar(path, px, NULL, NULL, err);
    if (st) return st;
    /* the same normalisation as vggeval and the test set */
    vgg_dataset one;
    memset(&one, 0, sizeof one);
    one.n = 1;
    one.pixels = px;
    one.labels = &label;
    int idx = 0;
    vgg_augment_batch(m->input, m->labels, &one, &idx, 1, NULL);
    run(m, 1, logits);
    return VGG_OK;
}

void vgg_set_thread_count(int n) {
    if (n >= 1) vgg_set_threads(n);
}

const char *vgg_version(void) { return VGG_VERSION_STRING; }
