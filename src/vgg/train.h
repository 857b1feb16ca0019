/* Optimiser, training epoch and evaluation. */
#ifndef VGG_TRAIN_H
#define VGG_TRAIN_H

#include <stdint.h>

#include "vgg/cifar.h"
#include "vgg/model.h"
#include "vgg/rng.h"
#include "vgg/status.h"

typedef struct vgg_sgd {
    float lr, momentum, weight_decay;
} vgg_sgd;

/* PyTorch's SGD over the whole parameter arena:
 *   g += wd * w;  v = momentum * v + g;  w -= lr * v
 * (v starts at 0, which equals PyTorch's first-step v = g). */
void vgg_sgd_step(vgg_model *m, const vgg_sgd *opt);

/* One training step on the batch in m->input and m->labels: n images, this
 * process's share of a global batch of nglobal (n == nglobal for one
 * process). Forward, backward, the sums across processes, the check that
 * the loss and every gradient are finite, then the SGD update. *loss_sum
 * and *correct are the global batch's. A non-finite loss or gradient
 * returns VGG_ERR_DIVERGED before any weight is touched. */
vgg_status vgg_train_step(vgg_model *m, int n, int nglobal, const vgg_sgd *opt,
                          double *loss_sum, int *correct, vgg_error *err);

/* One finished epoch, as printed and logged. */
typedef struct vgg_epoch_record {
    int epoch;
    float lr;
    float train_loss, train_acc; /* acc as a fraction */
    float test_loss, test_acc;
    float seconds, images_per_second;
} vgg_epoch_record;

typedef struct vgg_epoch_stats {
    double loss_sum; /* summed per-image loss */
    int correct, images, batches;
    double seconds;
} vgg_epoch_stats;

/* Called after every training batch; return non-zero to stop the epoch
 * (vgg_train_epoch then returns VGG_ERR_INTERRUPTED). */
typedef int (*vgg_batch_cb)(void *user, int batch, int nbatches,
                            const vgg_epoch_stats *so_far);

/* One epoch: shuffle the training set with rng, draw augmentations, and
 * run batches of batch_size (the last one may be smaller). A non-finite
 * loss or gradient stops before any weight is touched: VGG_ERR_DIVERGED. */
vgg_status vgg_train_epoch(vgg_model *m, const vgg_dataset *ds, int batch_size,
                           const vgg_sgd *opt, vgg_rng *rng,
                           vgg_epoch_stats *stats, vgg_batch_cb cb, void *user,
                           vgg_error *err);

/* Scores ds in batches of batch_size with running statistics. confusion,
 * if not NULL, is classes x classes (row: true class, column: predicted),
 * zeroed and filled; logits_out, if not NULL, gets ds->n x classes. */
vgg_status vgg_evaluate(vgg_model *m, const vgg_dataset *ds, int batch_size,
                        vgg_epoch_stats *stats, int *confusion,
                        float *logits_out, vgg_error *err);

#endif
