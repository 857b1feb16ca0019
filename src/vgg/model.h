/* The network: a table of conv widths and pools (VGG16: 64 64 M 128 128 M
 * 256 256 256 M 512 512 512 M 512 512 512 M), each conv followed by batch
 * norm and ReLU, then flatten and one linear layer to the classes.
 *
 * Memory: parameters, their gradients and their momentum each live in one
 * arena (params, grads, momentum: nparams floats each, same layout), so SGD
 * is one loop and zeroing gradients one memset. Batch-norm running
 * statistics are state, not parameters (no gradient, no decay): they live in
 * a second arena, and num_batches_tracked in an int64 array. The tensor
 * table names every piece as PyTorch's state_dict of the reference VGG class
 * does (conv1.0.weight, conv1.1.running_mean, ..., fc1.bias). */
#ifndef VGG_MODEL_H
#define VGG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "vgg/rng.h"
#include "vgg/status.h"
#include "vgg/winograd.h"

#define VGG_POOL (-1)          /* the table's 'M' */
#define VGG_MAX_LAYERS 40
#define VGG_MAX_TENSORS (VGG_MAX_LAYERS * 7 + 2)

typedef struct vgg_config {
    int nlayers;
    int layers[VGG_MAX_LAYERS]; /* conv width, or VGG_POOL */
    int classes;
    int side;                   /* input images are side x side x 3 */
} vgg_config;

/* VGG16 for the given class count. */
vgg_config vgg_config_vgg16(int classes);
/* Parses "64 64 M 128 M" (spaces or commas). */
vgg_status vgg_config_parse(vgg_config *cfg, const char *spec, int classes,
                            vgg_error *err);
/* The table as vgg_config_parse reads it, "64 64 M 128 M", in buf (cut
 * short if cap is too small; VGG_MAX_LAYERS * 6 + 1 always holds it). */
void vgg_config_format(char *buf, size_t cap, const vgg_config *cfg);

typedef enum vgg_tensor_kind {
    VGG_TENSOR_PARAM,   /* float, in params/grads/momentum */
    VGG_TENSOR_BUFFER,  /* float, in state (running mean / var) */
    VGG_TENSOR_COUNTER, /* int64 scalar, in counters */
} vgg_tensor_kind;

typedef struct vgg_tensor {
    char name[48];
    vgg_tensor_kind kind;
    int ndim;
    int64_t shape[4];
    size_t numel;
    size_t offset; /* into the arena its kind names */
} vgg_tensor;

typedef enum vgg_layer_kind { VGG_LAYER_CONV, VGG_LAYER_POOL } vgg_layer_kind;

typedef struct vgg_layer {
    vgg_layer_kind kind;
    int cin, cout, H, W; /* input channels, output channels, input H, W */
    /* conv: views into the arenas */
    float *w, *b, *gamma, *beta;
    float *dw, *db, *dgamma, *dbeta;
    float *run_mean, *run_var;
    int64_t *nbt;
    /* activations for batch_max images, CNHW */
    float *conv;   /* conv: output without bias [cout][N*H*W] (BN takes
                      the bias, see vgg_batchnorm_forward_train) */
    float *out;    /* conv: after BN+ReLU; pool: pooled */
    float *mean, *invstd; /* conv: batch statistics of `conv`, [cout] */
    uint8_t *arg;  /* pool: winner of each window */
    /* conv: how each pass is computed, [VGG_PASS_FWD .. _WEIGHTS]
     * (vgg/conv_choice.h; all direct after vgg_model_create) */
    vgg_conv_algo algo[VGG_PASS_COUNT];
} vgg_layer;

/* Data-parallel hooks; a model without them (dist NULL) is one process.
 * sum_f64 / sum_f32 add n values across all processes, in place (an
 * allreduce). start_f32 (optional) begins such a sum without waiting for
 * it, and finish waits for every sum begun: with them, the backward pass
 * hands each layer's gradients over as soon as they are complete, so that
 * communication overlaps the layers still computing. */
typedef struct vgg_dist {
    int rank, size;
    int sync_bn; /* batch-norm statistics over the global batch */
    void (*sum_f64)(double *buf, int n, void *ctx);
    void (*sum_f32)(float *buf, size_t n, void *ctx);
    void (*start_f32)(float *buf, size_t n, void *ctx);
    void (*finish)(void *ctx);
    void *ctx;
} vgg_dist;

typedef struct vgg_model {
    vgg_config cfg;
    int nlayers;
    vgg_layer layers[VGG_MAX_LAYERS];
    int features;          /* flatten size: C * S * S */
    float *fc_w, *fc_b, *fc_dw, *fc_db;

    size_t nparams, nstate;
    float *params, *grads, *momentum, *state;
    int64_t *counters;
    int ntensors;
    vgg_tensor tensors[VGG_MAX_TENSORS];

    /* workspace, sized once for batch_max images */
    int batch_max;
    float *input;          /* [3][N][side][side] */
    uint8_t *labels;       /* [N] */
    float *col;            /* im2col scratch, largest layer */
    float *wino;           /* Winograd scratch for the layers' algo */
    size_t wino_floats;    /* its size (0: every pass is direct) */
    float *grad_a, *grad_b;/* activation gradients, ping-pong */
    float *flat, *dflat;   /* [N][features] */
    float *logits, *dlogits; /* [N][classes] */
    double *bn_scratch;    /* 3 * widest layer + 1 */
    const vgg_dist *dist;  /* NULL: one process */
    size_t workspace_bytes;

    /* Optional per-layer timing for the benchmark, owned by the caller
     * (NULL: off). When set, forward and backward ADD each layer's
     * wall-clock seconds to it, laid out [4][nlayers + 1]: row 0 forward,
     * row 1 backward, rows 2 and 3 the seconds of those spent in GEMM
     * calls (vgg_prof's count); entry i is layers[i], entry nlayers the
     * classifier (flatten, linear, loss). */
    double *layer_seconds;
} vgg_model;

vgg_status vgg_model_create(vgg_model **out, const vgg_config *cfg,
                            int batch_max, vgg_error *err);
void vgg_model_free(vgg_model *m);

/* PyTorch's default initialisation: weights and biases of conv and linear
 * uniform in +-1/sqrt(fan_in) (kaiming-uniform with a = sqrt(5)), batch
 * norm weight 1, bias 0, running mean 0, var 1, counters 0; momentum 0. */
void vgg_model_init(vgg_model *m, vgg_rng *rng);

float *vgg_tensor_f32(const vgg_model *m, const vgg_tensor *t);
const vgg_tensor *vgg_model_find_tensor(const vgg_model *m, const char *name);

/* Forward over m->input / m->labels for n images (n <= batch_max).
 * train: batch statistics, running-stat update, keeps what backward needs,
 * and fills m->dlogits. Returns the summed loss; *correct gets the hits. */
double vgg_model_forward(vgg_model *m, int n, int train, int *correct);
/* Adds the gradients of the mean loss of the last training forward to
 * m->grads (zero them first with vgg_model_zero_grad). */
void vgg_model_backward(vgg_model *m, int n);
void vgg_model_zero_grad(vgg_model *m);

#endif
