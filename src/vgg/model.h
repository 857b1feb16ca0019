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

#define VGG_POOL (-1) /* the table's 'M' */
#define VGG_MAX_LAYERS 40
#define VGG_MAX_FC 3 /* linear layers of the classifier head */
#define VGG_MAX_TENSORS (VGG_MAX_LAYERS * 7 + 2 * VGG_MAX_FC)
#define VGG_MAX_HEAD_WIDTH 16384

/* The network. The feature table is convolutions (width, kernel 3 or 1)
 * and max-pools; every convolution is followed by batch norm and ReLU, or,
 * with no_bn, by ReLU alone (and keeps its bias). The head is one
 * Linear(features, classes) (head_width 0, "--head linear") or, with
 * head_width W ("--head fc:W"), Linear(features, W) -> ReLU -> Dropout(0.5)
 * -> Linear(W, W) -> ReLU -> Dropout(0.5) -> Linear(W, classes). A zeroed
 * config's defaults are today's VGG16-BN: batch norm, 3x3, linear head. */
typedef struct vgg_config {
    int nlayers;
    int layers[VGG_MAX_LAYERS];           /* conv width, or VGG_POOL */
    unsigned char kernel[VGG_MAX_LAYERS]; /* conv: 3 or 1 (0 reads as 3) */
    int classes;
    int side;       /* input images are side x side x 3 */
    int no_bn;      /* 1: no batch norm, conv biases kept */
    int head_width; /* 0: linear head; W: fc:W */
} vgg_config;

/* VGG16 for the given class count. */
vgg_config vgg_config_vgg16(int classes);
/* Parses a network table, "64 64 M 128 M" (spaces or commas; a width W is
 * a 3x3 convolution, W:1 a 1x1 one, W:3 the same as W), or one of the
 * paper's configurations by name (vgg_config_names): vgg11, vgg13, vgg16,
 * vgg19 (A, B, D, E), vgg16c (C: the third convolution of blocks 3-5 is
 * 1x1), each with batch norm, or with "-nobn" appended without, and
 * optionally "/D" after that: every width divided by D (1 to 64; at least
 * 1), e.g. "vgg16c-nobn/8", a narrow network for tests. The head
 * is the linear one (vgg_config_set_head changes it). */
vgg_status vgg_config_parse(vgg_config *cfg, const char *spec, int classes,
                            vgg_error *err);
/* "linear" or "fc:W" (W from 1 to VGG_MAX_HEAD_WIDTH). */
vgg_status vgg_config_set_head(vgg_config *cfg, const char *spec,
                               vgg_error *err);
/* The table as vgg_config_parse reads it ("64 64 M 256:1 M"; 3x3 widths
 * without suffix), the head as vgg_config_set_head reads it. */
void vgg_config_format(char *buf, size_t cap, const vgg_config *cfg);
void vgg_config_format_head(char *buf, size_t cap, const vgg_config *cfg);
/* The name vgg_config_parse knows cfg's table by ("vgg16", "vgg11-nobn"),
 * or NULL for a custom table. */
const char *vgg_config_name(const vgg_config *cfg);
/* "vgg11 vgg13 vgg16 vgg16c vgg19", for messages and --help. */
const char *vgg_config_names(void);
/* 1 when a and b build the same network (classes included). */
int vgg_config_equal(const vgg_config *a, const vgg_config *b);

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

typedef enum vgg_layer_kind {
    VGG_LAYER_CONV,
    VGG_LAYER_POOL,
    VGG_LAYER_LINEAR, /* the head's; in vgg_arch only (the model: m->fc) */
} vgg_layer_kind;

/* One layer of the walk over a configuration (vgg_arch_walk). */
typedef struct vgg_arch_layer {
    vgg_layer_kind kind;
    int cin, cout; /* channels; linear: input and output features */
    int side;      /* input side (conv, pool); 1 for linear */
    int kernel;    /* conv: 3 or 1 */
    int bn;        /* conv: batch norm follows (else its bias is used) */
    int dropout;   /* linear: ReLU and Dropout(0.5) follow */
    int tensor0, ntensors; /* its tensors: tensors[tensor0 ...] */
    double macs;           /* multiply-adds of its forward pass, per image */
} vgg_arch_layer;

/* Everything the configuration implies, computed without allocating: the
 * one walk over the table that the model, the checkpoint (names, shapes,
 * sizes), the benchmark (FLOPs) and the ONNX export use. */
typedef struct vgg_arch {
    int nlayers; /* cfg->nlayers feature layers, then nfc linear ones */
    vgg_arch_layer layers[VGG_MAX_LAYERS + VGG_MAX_FC];
    int nfc;
    int ntensors; /* in checkpoint order, with arena offsets */
    vgg_tensor tensors[VGG_MAX_TENSORS];
    size_t nparams, nstate, ncounters; /* arena sizes in elements */
    int features;        /* the flattened feature map: C * side * side */
    uint64_t data_bytes; /* a checkpoint's tensor data: parameters, their
                            momentum and the float state at 4 bytes, the
                            counters at 8 */
    double macs;         /* forward multiply-adds per image */
} vgg_arch;

/* Walks cfg. A table the network cannot be built from (a pool on an odd
 * or unit map, an empty table, widths out of range, a class count out of
 * 2..1000) is VGG_ERR_ARG with the reason. */
vgg_status vgg_arch_walk(vgg_arch *a, const vgg_config *cfg, vgg_error *err);

typedef struct vgg_layer {
    vgg_layer_kind kind;
    int cin, cout, H, W; /* input channels, output channels, input H, W */
    int kernel;          /* conv: 3 (pad 1) or 1 */
    int bn;              /* conv: batch norm follows */
    /* conv: views into the arenas (gamma ... nbt NULL without bn) */
    float *w, *b, *gamma, *beta;
    float *dw, *db, *dgamma, *dbeta;
    float *run_mean, *run_var;
    int64_t *nbt;
    /* activations for batch_max images, CNHW */
    float *conv;          /* conv with bn: output without bias [cout][N*H*W] (BN
                             takes the bias, see vgg_batchnorm_forward_train);
                             NULL without bn */
    float *out;           /* conv: after BN+ReLU (without bn: conv + bias, then
                             ReLU); pool: pooled */
    float *mean, *invstd; /* conv: batch statistics of `conv`, [cout] */
    uint8_t *arg;         /* pool: winner of each window */
    /* conv: how each pass is computed, [VGG_PASS_FWD .. _WEIGHTS]
     * (vgg/conv_choice.h; all direct after vgg_model_create) */
    vgg_conv_algo algo[VGG_PASS_COUNT];
} vgg_layer;

/* A linear layer of the head: out[N][cout] = in[N][cin] x w^T + b, then,
 * with dropout, ReLU and Dropout(0.5) in place. */
typedef struct vgg_fc {
    int cin, cout, dropout;
    float *w, *b, *dw, *db; /* views into the arenas */
    float *out;             /* [batch_max][cout]; the last writes logits */
    uint8_t *keep;          /* dropout: the last training mask, 1 = kept */
} vgg_fc;

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
    int features; /* flatten size: C * S * S */
    int nfc;      /* the head: 1 linear layer, or 3 (fc:W) */
    vgg_fc fc[VGG_MAX_FC];
    float *fc_w, *fc_b, *fc_dw, *fc_db; /* fc[0]'s views */
    /* Dropout in training forwards of an fc:W head, when dropout_on: the
     * mask of unit u of image i in hidden layer j is one bit of a hash of
     * (dropout_key, j, dropout_base + i, u), so it does not depend on the
     * thread count, and a process of a data-parallel run that holds images
     * dropout_base.. of the global batch draws what a single process
     * would. vgg_train_epoch draws the key from the run's random state
     * once a batch (so a run is reproducible and a resume exact). */
    int dropout_on;
    uint64_t dropout_key;
    int dropout_base;
    int dropout_drawn; /* the last forward applied dropout masks */

    size_t nparams, nstate;
    float *params, *grads, *momentum, *state;
    int64_t *counters;
    int ntensors;
    vgg_tensor tensors[VGG_MAX_TENSORS];

    /* workspace, sized once for batch_max images */
    int batch_max;
    float *input;            /* [3][N][side][side] */
    uint8_t *labels;         /* [N] */
    float *col;              /* im2col scratch, largest layer */
    float *wino;             /* Winograd scratch for the layers' algo */
    size_t wino_floats;      /* its size (0: every pass is direct) */
    float *grad_a, *grad_b;  /* activation gradients, ping-pong */
    float *flat, *dflat;     /* [N][features] */
    float *dh_a, *dh_b;      /* head gradients, [N][head width] (fc:W) */
    float *logits, *dlogits; /* [N][classes] */
    double *bn_scratch;      /* 3 * widest layer + 1 */
    const vgg_dist *dist;    /* NULL: one process */
    size_t workspace_bytes;
    size_t col_n; /* floats in col */
    /* The first failure of a forward or backward pass (a GEMM that could
     * not allocate its buffers) since vgg_model_status last took it:
     * status VGG_OK when there was none. */
    vgg_error error;

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

/* With batch norm, PyTorch's default initialisation: weights and biases of
 * conv and linear uniform in +-1/sqrt(fan_in) (kaiming-uniform with a =
 * sqrt(5)), batch norm weight 1, bias 0, running mean 0, var 1, counters
 * 0. Without (no_bn), torchvision's VGG initialisation: conv weights
 * normal with std sqrt(2 / (cout * k * k)) (kaiming-normal, fan_out,
 * ReLU), conv biases 0, linear weights normal(0, 0.01), biases 0.
 * Momentum 0. */
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
/* The first failure of the passes since the last call (see m->error), into
 * err, and clears it: VGG_OK when they all ran. A failed forward returns
 * NaN and a failed pass leaves its outputs incomplete: check this after
 * each pass before using them. */
vgg_status vgg_model_status(vgg_model *m, vgg_error *err);
void vgg_model_zero_grad(vgg_model *m);

#endif
