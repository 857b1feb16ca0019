/* Checkpoints: safetensors files (8-byte little-endian header length, a
 * JSON header, then raw little-endian tensor data) that PyTorch loads with
 * safetensors.torch.load_file and the reference VGG class accepts with
 * load_state_dict. Tensors carry the reference notebook's state_dict names;
 * SGD momentum is stored as "optimizer.momentum.<name>"; __metadata__ holds
 * the format name and version, the architecture, class count and names,
 * normalisation constants, the epoch reached, the seed, the random state,
 * the optimiser settings and learning-rate schedule, the per-epoch history
 * and a checksum of the data section. */
#ifndef VGG_CHECKPOINT_H
#define VGG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "vgg/cifar.h"
#include "vgg/model.h"
#include "vgg/rng.h"
#include "vgg/schedule.h"
#include "vgg/status.h"
#include "vgg/train.h"

#define VGG_CKPT_FORMAT "vggtrain-checkpoint"
#define VGG_CKPT_VERSION 1

typedef struct vgg_ckpt_meta {
    vgg_config cfg; /* architecture table, class count, input side */
    char class_names[VGG_MAX_CLASSES][VGG_CLASS_NAME_MAX];
    /* The input normalisation the model was trained with, of v / 255;
     * std[0] == 0 (a zeroed meta) writes CIFAR-10's constants. */
    float mean[3], std[3];
    int epoch; /* epochs completed */
    uint64_t seed;
    vgg_rng rng; /* the state the next epoch starts from */
    vgg_sgd sgd;
    vgg_schedule sched; /* the learning-rate schedule (base rate sgd.lr);
                           constant when the file predates it */
    int batch_size;
    int limit_train, limit_test; /* the --limit-* the run used (0: all) */
    int nhistory; /* entries in history (owned; vgg_ckpt_meta_free) */
    vgg_epoch_record *history;
} vgg_ckpt_meta;

/* Writes m and meta to path through vgg_output (vgg/output.h): atomically
 * (a temporary file in the same folder, flushed and fsync'ed, renamed over
 * path, the folder synced) for a new or regular file or a link's target,
 * in place for a device or FIFO; a folder is refused. On any failure path
 * is untouched and the temporary removed. */
vgg_status vgg_checkpoint_save(const char *path, const vgg_model *m,
                               const vgg_ckpt_meta *meta, vgg_error *err);

/* Reads and validates the header and metadata only (enough to build the
 * model with vgg_model_create(&m, &meta->cfg, ...)). */
vgg_status vgg_checkpoint_read_meta(const char *path, vgg_ckpt_meta *meta,
                                    vgg_error *err);

/* Reads everything into m, which must have been created from the same
 * configuration. Every name, dtype, shape and offset is checked against m
 * and the checksum verified before m is touched: on failure m is unchanged.
 * meta (may be NULL) receives the metadata. */
vgg_status vgg_checkpoint_load(const char *path, vgg_model *m,
                               vgg_ckpt_meta *meta, vgg_error *err);

void vgg_ckpt_meta_free(vgg_ckpt_meta *meta);

/* Appends rec to meta->history (growing it). */
vgg_status vgg_ckpt_meta_add_epoch(vgg_ckpt_meta *meta,
                                   const vgg_epoch_record *rec, vgg_error *err);

/* The largest JSON header a checkpoint may have. */
#define VGG_CKPT_MAX_HEADER (16u << 20)

#endif
