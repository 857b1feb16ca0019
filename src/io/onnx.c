/* ONNX export: the protobuf messages of onnx.proto (field numbers from
 * onnx 1.12's onnx.proto) written with vgg/protobuf.h. See vgg/onnx.h. */
#include "vgg/onnx.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgg/augment.h"
#include "vgg/output.h"

/* onnx.proto field numbers */
enum {
    MODEL_IR_VERSION = 1,
    MODEL_PRODUCER_NAME = 2,
    MODEL_PRODUCER_VERSION = 3,
    MODEL_DOC = 6,
    MODEL_GRAPH = 7,
    MODEL_OPSET = 8,
    MODEL_METADATA = 14,
    OPSET_DOMAIN = 1,
    OPSET_VERSION = 2,
    ENTRY_KEY = 1,
    ENTRY_VALUE = 2,
    GRAPH_NODE = 1,
    GRAPH_NAME = 2,
    GRAPH_INITIALIZER = 5,
    GRAPH_DOC = 10,
    GRAPH_INPUT = 11,
    GRAPH_OUTPUT = 12,
    NODE_INPUT = 1,
    NODE_OUTPUT = 2,
    NODE_NAME = 3,
    NODE_OP = 4,
    NODE_ATTR = 5,
    ATTR_NAME = 1,
    ATTR_F = 2,
    ATTR_I = 3,
    ATTR_INTS = 8,
    ATTR_TYPE = 20,
    TENSOR_DIMS = 1,
    TENSOR_TYPE = 2,
    TENSOR_NAME = 8,
    TENSOR_RAW = 9,
    TENSOR_DOC = 12,
    VALUE_NAME = 1,
    VALUE_TYPE = 2,
    TYPE_TENSOR = 1,
    TTENSOR_ELEM = 1,
    TTENSOR_SHAPE = 2,
    SHAPE_DIM = 1,
    DIM_VALUE = 1,
    DIM_PARAM = 2,
};
enum { ATTR_TYPE_FLOAT = 1, ATTR_TYPE_INT = 2, ATTR_TYPE_INTS = 7 };
enum { ONNX_FLOAT = 1 };

#define IR_VERSION 8
#define OPSET 13
#define BN_EPS 1e-5 /* as the model's (src/model/vgg.c) */

static void entry(vgg_pb *b, int field, const char *key, const char *value) {
    size_t e = vgg_pb_begin(b, field);
    vgg_pb_string(b, ENTRY_KEY, key);
    vgg_pb_string(b, ENTRY_VALUE, value);
    vgg_pb_end(b, e);
}

/* A float32 tensor, little-endian raw data (the x86 and ARM byte order,
 * which is what raw_data specifies). */
static void tensor(vgg_pb *b, const char *name, const char *doc, int ndim,
                   const int64_t *dims, const float *data) {
    size_t t = vgg_pb_begin(b, GRAPH_INITIALIZER);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)dims[i];
    vgg_pb_packed_int64(b, TENSOR_DIMS, dims, (size_t)ndim);
    vgg_pb_int64(b, TENSOR_TYPE, ONNX_FLOAT);
    vgg_pb_string(b, TENSOR_NAME, name);
    if (doc) vgg_pb_string(b, TENSOR_DOC, doc);
    vgg_pb_bytes(b, TENSOR_RAW, data, n * sizeof(float));
    vgg_pb_end(b, t);
}

static void attr_ints(vgg_pb *b, const char *name, const int64_t *v, int n) {
    size_t a = vgg_pb_begin(b, NODE_ATTR);
    vgg_pb_string(b, ATTR_NAME, name);
    vgg_pb_int64(b, ATTR_TYPE, ATTR_TYPE_INTS);
    vgg_pb_packed_int64(b, ATTR_INTS, v, (size_t)n);
    vgg_pb_end(b, a);
}

static void attr_int(vgg_pb *b, const char *name, int64_t v) {
    size_t a = vgg_pb_begin(b, NODE_ATTR);
    vgg_pb_string(b, ATTR_NAME, name);
    vgg_pb_int64(b, ATTR_TYPE, ATTR_TYPE_INT);
    vgg_pb_int64(b, ATTR_I, v);
    vgg_pb_end(b, a);
}

/* Starts a node (end it with vgg_pb_end after its attributes). ins is a
 * NULL-terminated list. */
static size_t node(vgg_pb *b, const char *op, const char *name,
                   const char *const *ins, const char *out) {
    size_t nd = vgg_pb_begin(b, GRAPH_NODE);
    for (int i = 0; ins[i]; i++) vgg_pb_string(b, NODE_INPUT, ins[i]);
    vgg_pb_string(b, NODE_OUTPUT, out);
    vgg_pb_string(b, NODE_NAME, name);
    vgg_pb_string(b, NODE_OP, op);
    return nd;
}

/* A graph input or output: float32 with dims (dim_param "N" where < 0). */
static void value_info(vgg_pb *b, int field, const char *name, int ndim,
                       const int64_t *dims) {
    size_t v = vgg_pb_begin(b, field);
    vgg_pb_string(b, VALUE_NAME, name);
    size_t ty = vgg_pb_begin(b, VALUE_TYPE);
    size_t tt = vgg_pb_begin(b, TYPE_TENSOR);
    vgg_pb_int64(b, TTENSOR_ELEM, ONNX_FLOAT);
    size_t sh = vgg_pb_begin(b, TTENSOR_SHAPE);
    for (int i = 0; i < ndim; i++) {
        size_t d = vgg_pb_begin(b, SHAPE_DIM);
        if (dims[i] < 0)
            vgg_pb_string(b, DIM_PARAM, "N");
        else
            vgg_pb_int64(b, DIM_VALUE, dims[i]);
        vgg_pb_end(b, d);
    }
    vgg_pb_end(b, sh);
    vgg_pb_end(b, tt);
    vgg_pb_end(b, ty);
    vgg_pb_end(b, v);
}

static char *json_names(const vgg_ckpt_meta *meta) {
    json_t *a = json_array();
    for (int i = 0; a && i < meta->cfg.classes; i++)
        json_array_append_new(a, json_string(meta->class_names[i]));
    char *s = a ? json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(a);
    return s;
}

/* The graph's nodes and initialisers; returns VGG_OK or a failure (an
 * unsupported layer, or memory). Names come from the configuration's walk,
 * the values from m. */
static vgg_status graph(vgg_pb *b, const vgg_model *m, const vgg_arch *a,
                        const char *source, vgg_error *err) {
    char x[48], y[48], z[64], name[64], doc[96];
    const int S = m->cfg.side;
    vgg_pb_string(b, GRAPH_NAME, "vgg");
    vgg_pb_string(b, GRAPH_DOC,
                  m->cfg.no_bn ? "evaluation mode"
                               : "evaluation mode; batch norm folded into "
                                 "the convolutions");

    /* normalisation: (input - mean) / std, broadcast over [1,3,1,1] */
    const int64_t c3[4] = {1, 3, 1, 1};
    tensor(b, "normalize.mean", "per-channel mean of the RGB input in [0,1]", 4,
           c3, vgg_cifar_mean);
    tensor(b, "normalize.std", "per-channel standard deviation", 4, c3,
           vgg_cifar_std);
    vgg_pb_end(b, node(b, "Sub", "normalize.sub",
                       (const char *[]){"input", "normalize.mean", NULL},
                       "centred"));
    vgg_pb_end(b,
               node(b, "Div", "normalize.div",
                    (const char *[]){"centred", "normalize.std", NULL}, "x0"));
    snprintf(x, sizeof x, "x0");

    for (int i = 0; i < m->nlayers; i++) {
        const vgg_layer *L = &m->layers[i];
        const vgg_tensor *t = a->tensors + a->layers[i].tensor0;
        snprintf(y, sizeof y, "x%d", i + 1);
        if (L->kind == VGG_LAYER_POOL) {
            snprintf(name, sizeof name, "pool%d", i);
            size_t nd = node(b, "MaxPool", name, (const char *[]){x, NULL}, y);
            const int64_t k[2] = {2, 2};
            attr_ints(b, "kernel_shape", k, 2);
            attr_ints(b, "strides", k, 2);
            vgg_pb_end(b, nd);
        } else if (L->kind == VGG_LAYER_CONV &&
                   (L->kernel == 3 || L->kernel == 1)) {
            const size_t kk = (size_t)L->cin * L->kernel * L->kernel;
            float *fw = malloc(sizeof(float) * (size_t)L->cout * kk);
            float *fb = malloc(sizeof(float) * (size_t)L->cout);
            if (!fw || !fb) {
                free(fw);
                free(fb);
                return vgg_fail(err, VGG_ERR_NOMEM,
                                "%s: cannot allocate layer %d's weights",
                                source, i);
            }
            /* with batch norm: folded in, as vgg_batchnorm_forward_eval
             * computes it; without, the weights and bias as they are */
            for (int c = 0; c < L->cout; c++) {
                double g =
                    L->bn ? L->gamma[c] / sqrt((double)L->run_var[c] + BN_EPS)
                          : 1.0;
                for (size_t j = 0; j < kk; j++)
                    fw[c * kk + j] = (float)(L->w[c * kk + j] * g);
                fb[c] = L->bn ? (float)(L->beta[c] +
                                        ((double)L->b[c] - L->run_mean[c]) * g)
                              : L->b[c];
            }
            doc[0] = 0;
            if (L->bn) /* the batch norm's name: conv<b>.<p+1> */
                snprintf(doc, sizeof doc, "batch norm %.*s folded in",
                         (int)(strlen(t[2].name) - strlen(".weight")),
                         t[2].name);
            const int64_t wd[4] = {L->cout, L->cin, L->kernel, L->kernel},
                          bd[1] = {L->cout};
            tensor(b, t[0].name, doc[0] ? doc : NULL, 4, wd, fw);
            tensor(b, t[1].name, doc[0] ? doc : NULL, 1, bd, fb);
            free(fw);
            free(fb);
            snprintf(name, sizeof name, "conv%d", i);
            snprintf(z, sizeof z, "%s.conv", y);
            size_t nd =
                node(b, "Conv", name,
                     (const char *[]){x, t[0].name, t[1].name, NULL}, z);
            const int64_t k[2] = {L->kernel, L->kernel};
            const int64_t p = L->kernel / 2, pads[4] = {p, p, p, p};
            attr_ints(b, "kernel_shape", k, 2);
            attr_ints(b, "pads", pads, 4);
            vgg_pb_end(b, nd);
            snprintf(name, sizeof name, "relu%d", i);
            vgg_pb_end(b, node(b, "Relu", name, (const char *[]){z, NULL}, y));
        } else {
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: layer %d (kind %d, kernel %d) has no ONNX "
                            "export; expected 3x3 or 1x1 convolutions and "
                            "max-pools",
                            source, i, (int)L->kind, L->kernel);
        }
        snprintf(x, sizeof x, "%s", y);
    }
    /* the head: Flatten, then Gemm(x, W^T) + b for each linear layer, with
     * ReLU after the hidden ones (their dropout is the identity here) */
    vgg_pb_end(b, node(b, "Flatten", "flatten", (const char *[]){x, NULL},
                       "features"));
    snprintf(x, sizeof x, "features");
    for (int j = 0; j < m->nfc; j++) {
        const vgg_fc *F = &m->fc[j];
        const vgg_tensor *t = a->tensors + a->layers[m->nlayers + j].tensor0;
        const int64_t wd[2] = {F->cout, F->cin}, bd[1] = {F->cout};
        tensor(b, t[0].name, NULL, 2, wd, F->w);
        tensor(b, t[1].name, NULL, 1, bd, F->b);
        const int last = j + 1 == m->nfc;
        snprintf(name, sizeof name, "fc%d", j + 1);
        snprintf(y, sizeof y, last ? "logits" : "h%d", j + 1);
        snprintf(z, sizeof z, "%s.linear", y);
        size_t nd =
            node(b, "Gemm", name,
                 (const char *[]){x, t[0].name, t[1].name, NULL}, last ? y : z);
        attr_int(b, "transB", 1);
        vgg_pb_end(b, nd);
        if (!last) {
            snprintf(name, sizeof name, "fc%d.relu", j + 1);
            vgg_pb_end(b, node(b, "Relu", name, (const char *[]){z, NULL}, y));
        }
        snprintf(x, sizeof x, "%s", y);
    }

    const int64_t in[4] = {-1, 3, S, S}, out[2] = {-1, m->cfg.classes};
    value_info(b, GRAPH_INPUT, "input", 4, in);
    value_info(b, GRAPH_OUTPUT, "logits", 2, out);
    return VGG_OK;
}

vgg_status vgg_onnx_encode(vgg_pb *out, const vgg_model *m,
                           const vgg_ckpt_meta *meta, const char *source,
                           vgg_error *err) {
    memset(out, 0, sizeof *out);
    vgg_pb *b = out;
    vgg_pb_int64(b, MODEL_IR_VERSION, IR_VERSION);
    size_t op = vgg_pb_begin(b, MODEL_OPSET);
    vgg_pb_string(b, OPSET_DOMAIN, "");
    vgg_pb_int64(b, OPSET_VERSION, OPSET);
    vgg_pb_end(b, op);
    vgg_pb_string(b, MODEL_PRODUCER_NAME, "vggexport");
    vgg_pb_string(b, MODEL_PRODUCER_VERSION, VGG_VERSION_STRING);
    vgg_pb_string(b, MODEL_DOC,
                  "VGG-style CNN trained by vggtrain. Input: float32 "
                  "[N,3,S,S] RGB in [0,1]; output: logits [N,classes] "
                  "(softmax for probabilities), classes in the metadata "
                  "'class_names'.");
    vgg_arch *a = malloc(sizeof *a);
    if (!a) return vgg_fail(err, VGG_ERR_NOMEM, "%s: out of memory", source);
    vgg_status st = vgg_arch_walk(a, &m->cfg, err);
    if (!st) {
        size_t g = vgg_pb_begin(b, MODEL_GRAPH);
        st = graph(b, m, a, source, err);
        vgg_pb_end(b, g);
    }
    free(a);

    char *names = st ? NULL : json_names(meta);
    char buf[128];
    if (!st && names) {
        entry(b, MODEL_METADATA, "class_names", names);
        snprintf(buf, sizeof buf, "%d", meta->cfg.classes);
        entry(b, MODEL_METADATA, "classes", buf);
        snprintf(buf, sizeof buf, "%.9g,%.9g,%.9g", vgg_cifar_mean[0],
                 vgg_cifar_mean[1], vgg_cifar_mean[2]);
        entry(b, MODEL_METADATA, "mean", buf);
        snprintf(buf, sizeof buf, "%.9g,%.9g,%.9g", vgg_cifar_std[0],
                 vgg_cifar_std[1], vgg_cifar_std[2]);
        entry(b, MODEL_METADATA, "std", buf);
        snprintf(buf, sizeof buf, "%d", meta->epoch);
        entry(b, MODEL_METADATA, "epoch", buf);
        entry(b, MODEL_METADATA, "source", source);
        entry(b, MODEL_METADATA, "batch_norm",
              m->cfg.no_bn ? "none" : "folded into Conv");
        char arch[VGG_MAX_LAYERS * 8 + 1];
        vgg_config_format(arch, sizeof arch, &m->cfg);
        entry(b, MODEL_METADATA, "arch", arch);
        vgg_config_format_head(buf, sizeof buf, &m->cfg);
        entry(b, MODEL_METADATA, "head", buf);
    }
    if (!st && !names) st = VGG_ERR_NOMEM;
    free(names);
    if (!st && b->failed) st = VGG_ERR_NOMEM;
    if (st == VGG_ERR_NOMEM)
        vgg_fail(err, st, "%s: out of memory while encoding the ONNX model",
                 source);
    else if (!st && b->len > ((size_t)2 << 30) - 1)
        st = vgg_fail(err, VGG_ERR_ARG,
                      "%s: the ONNX model would be %zu bytes; protobuf "
                      "files are limited to 2 GiB",
                      source, b->len);
    if (st) vgg_pb_free(b);
    return st;
}

vgg_status vgg_onnx_save(const char *path, const vgg_model *m,
                         const vgg_ckpt_meta *meta, const char *source,
                         vgg_error *err) {
    vgg_pb b;
    vgg_status st = vgg_onnx_encode(&b, m, meta, source, err);
    if (st) return st;
    st = vgg_output_save(path, b.data, b.len, "ONNX model", err);
    vgg_pb_free(&b);
    return st;
}
