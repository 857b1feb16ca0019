/* The network's configuration: the paper's tables by name, the table
 * syntax, and the one walk over a table that gives every layer's shapes,
 * tensor names and sizes (vgg/model.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgg/model.h"

/* The configurations of Simonyan & Zisserman (2015), table 1; "W:1" is a
 * 1x1 convolution (configuration C). */
static const struct {
    const char *name, *table;
} named[] = {
    {"vgg11", "64 M 128 M 256 256 M 512 512 M 512 512 M"},
    {"vgg13", "64 64 M 128 128 M 256 256 M 512 512 M 512 512 M"},
    {"vgg16c", "64 64 M 128 128 M 256 256 256:1 M 512 512 512:1 M "
               "512 512 512:1 M"},
    {"vgg16", "64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M"},
    {"vgg19", "64 64 M 128 128 M 256 256 256 256 M 512 512 512 512 M "
              "512 512 512 512 M"},
};
#define NNAMED (int)(sizeof named / sizeof named[0])

const char *vgg_config_names(void) { return "vgg11 vgg13 vgg16 vgg16c vgg19"; }

static vgg_status parse_table(vgg_config *cfg, const char *spec,
                              vgg_error *err) {
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
            if (*p && *p != ' ' && *p != ',')
                return vgg_fail(err, VGG_ERR_ARG,
                                "network table '%s': bad entry at '%s'; "
                                "expected M, W or W:1",
                                spec, p - 1);
            continue;
        }
        char *end;
        long v = strtol(p, &end, 10), k = 3;
        int bad = end == p || v < 1 || v > 4096;
        if (!bad && *end == ':') {
            char *e2;
            k = strtol(end + 1, &e2, 10);
            bad = e2 == end + 1 || (k != 1 && k != 3);
            end = e2;
        }
        if (bad || (*end && *end != ' ' && *end != ','))
            return vgg_fail(err, VGG_ERR_ARG,
                            "network table '%s': bad entry at '%s'; expected "
                            "a width from 1 to 4096 (a 3x3 convolution), "
                            "W:1 (1x1) or M",
                            spec, p);
        cfg->kernel[cfg->nlayers] = (unsigned char)k;
        cfg->layers[cfg->nlayers++] = (int)v;
        p = end;
    }
    /* A checkpoint of an empty table would not load (checkpoint.c). */
    if (cfg->nlayers == 0)
        return vgg_fail(err, VGG_ERR_ARG,
                        "network table '%s' is empty; expected widths and M "
                        "such as '64 64 M 128 M', or a name (%s, with "
                        "-nobn for no batch norm)",
                        spec, vgg_config_names());
    return VGG_OK;
}

vgg_status vgg_config_parse(vgg_config *cfg, const char *spec, int classes,
                            vgg_error *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->classes = classes;
    cfg->side = 32;
    for (int i = 0; i < NNAMED; i++) {
        size_t n = strlen(named[i].name);
        if (strncmp(spec, named[i].name, n)) continue;
        const char *rest = spec + n;
        int no_bn = !strncmp(rest, "-nobn", 5);
        if (no_bn) rest += 5;
        long div = 1;
        if (*rest == '/') { /* NAME/D: every width divided by D */
            char *end;
            div = strtol(rest + 1, &end, 10);
            if (end == rest + 1 || *end || div < 1 || div > 64) break;
            rest = end;
        }
        if (*rest) continue;
        cfg->no_bn = no_bn;
        vgg_status st = parse_table(cfg, named[i].table, err);
        for (int j = 0; j < cfg->nlayers; j++)
            if (cfg->layers[j] != VGG_POOL)
                cfg->layers[j] = cfg->layers[j] / (int)div > 0
                                     ? cfg->layers[j] / (int)div
                                     : 1;
        return st;
    }
    if (!strncmp(spec, "vgg", 3))
        return vgg_fail(err, VGG_ERR_ARG,
                        "network '%s': expected one of %s, each optionally "
                        "with -nobn (e.g. vgg16-nobn) and /D to divide the "
                        "widths by D from 1 to 64 (vgg16/8), or a table "
                        "such as '64 64 M 128 M'",
                        spec, vgg_config_names());
    return parse_table(cfg, spec, err);
}

vgg_config vgg_config_vgg16(int classes) {
    vgg_config c;
    vgg_config_parse(&c, "vgg16", classes, NULL);
    return c;
}

vgg_status vgg_config_set_head(vgg_config *cfg, const char *spec,
                               vgg_error *err) {
    if (!strcmp(spec, "linear")) {
        cfg->head_width = 0;
        return VGG_OK;
    }
    if (!strncmp(spec, "fc:", 3)) {
        char *end;
        long w = strtol(spec + 3, &end, 10);
        if (end != spec + 3 && !*end && w >= 1 && w <= VGG_MAX_HEAD_WIDTH) {
            cfg->head_width = (int)w;
            return VGG_OK;
        }
    }
    return vgg_fail(err, VGG_ERR_ARG,
                    "head '%s': expected linear or fc:W with W from 1 to %d "
                    "(the paper's is fc:4096)",
                    spec, VGG_MAX_HEAD_WIDTH);
}

void vgg_config_format(char *buf, size_t cap, const vgg_config *cfg) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < cfg->nlayers && k < cap; i++) {
        const char *sep = i ? " " : "";
        if (cfg->layers[i] == VGG_POOL)
            k += (size_t)snprintf(buf + k, cap - k, "%sM", sep);
        else if (cfg->kernel[i] == 1)
            k += (size_t)snprintf(buf + k, cap - k, "%s%d:1", sep,
                                  cfg->layers[i]);
        else
            k +=
                (size_t)snprintf(buf + k, cap - k, "%s%d", sep, cfg->layers[i]);
    }
}

void vgg_config_format_head(char *buf, size_t cap, const vgg_config *cfg) {
    if (cfg->head_width)
        snprintf(buf, cap, "fc:%d", cfg->head_width);
    else
        snprintf(buf, cap, "linear");
}

static int same_table(const vgg_config *a, const vgg_config *b) {
    if (a->nlayers != b->nlayers) return 0;
    for (int i = 0; i < a->nlayers; i++) {
        if (a->layers[i] != b->layers[i]) return 0;
        int ka = a->kernel[i] == 1 ? 1 : 3, kb = b->kernel[i] == 1 ? 1 : 3;
        if (a->layers[i] != VGG_POOL && ka != kb) return 0;
    }
    return 1;
}

int vgg_config_equal(const vgg_config *a, const vgg_config *b) {
    return same_table(a, b) && a->classes == b->classes && a->side == b->side &&
           !a->no_bn == !b->no_bn && a->head_width == b->head_width;
}

const char *vgg_config_name(const vgg_config *cfg) {
    static char buf[32];
    for (int i = 0; i < NNAMED; i++) {
        vgg_config c;
        memset(&c, 0, sizeof c);
        c.side = cfg->side;
        if (!parse_table(&c, named[i].table, NULL) && same_table(&c, cfg)) {
            snprintf(buf, sizeof buf, "%s%s", named[i].name,
                     cfg->no_bn ? "-nobn" : "");
            return buf;
        }
    }
    return NULL;
}

/* ---- the walk ---------------------------------------------------------- */

static void add(vgg_arch *a, const char *name, vgg_tensor_kind kind, int ndim,
                const int64_t *shape) {
    vgg_tensor *t = &a->tensors[a->ntensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kind = kind;
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->numel *= (size_t)shape[i];
    }
    size_t *cursor = kind == VGG_TENSOR_PARAM    ? &a->nparams
                     : kind == VGG_TENSOR_BUFFER ? &a->nstate
                                                 : &a->ncounters;
    t->offset = *cursor;
    *cursor += t->numel;
}

/* Tensor names, PyTorch's state_dict of the reference VGG class extended:
 * block b (1-based, ended by each M) is an nn.Sequential whose entries are
 * numbered p = 0, 1, ...: a conv with batch norm takes three (Conv2d at p,
 * BatchNorm2d at p+1, ReLU), one without takes two (Conv2d, ReLU); the
 * head's linear layers are fc1 (fc1 .. fc3 for fc:W). */
vgg_status vgg_arch_walk(vgg_arch *a, const vgg_config *cfg, vgg_error *err) {
    memset(a, 0, sizeof *a);
    if (cfg->classes < 2 || cfg->classes > 1000)
        return vgg_fail(err, VGG_ERR_ARG, "class count %d: expected 2 to 1000",
                        cfg->classes);
    if (cfg->nlayers < 1 || cfg->nlayers > VGG_MAX_LAYERS)
        return vgg_fail(err, VGG_ERR_ARG,
                        "network table of %d entries: expected 1 to %d",
                        cfg->nlayers, VGG_MAX_LAYERS);
    if (cfg->head_width < 0 || cfg->head_width > VGG_MAX_HEAD_WIDTH)
        return vgg_fail(err, VGG_ERR_ARG, "head width %d: expected 0 to %d",
                        cfg->head_width, VGG_MAX_HEAD_WIDTH);
    int c = 3, side = cfg->side, block = 1, pos = 0;
    char name[48];
    for (int i = 0; i < cfg->nlayers; i++) {
        vgg_arch_layer *L = &a->layers[a->nlayers++];
        L->cin = c;
        L->side = side;
        L->tensor0 = a->ntensors;
        if (cfg->layers[i] == VGG_POOL) {
            if (side < 2 || side % 2)
                return vgg_fail(err, VGG_ERR_ARG,
                                "network table: pool on a %dx%d map", side,
                                side);
            L->kind = VGG_LAYER_POOL;
            L->cout = c;
            side /= 2;
            block++;
            pos = 0;
            continue;
        }
        if (cfg->layers[i] < 1 || cfg->layers[i] > 4096)
            return vgg_fail(err, VGG_ERR_ARG,
                            "network table: width %d; expected 1 to 4096",
                            cfg->layers[i]);
        L->kind = VGG_LAYER_CONV;
        L->cout = cfg->layers[i];
        L->kernel = cfg->kernel[i] == 1 ? 1 : 3;
        L->bn = !cfg->no_bn;
        L->macs = (double)L->cout * c * L->kernel * L->kernel * side * side;
        int64_t wshape[4] = {L->cout, c, L->kernel, L->kernel};
        int64_t vshape[1] = {L->cout};
        snprintf(name, sizeof name, "conv%d.%d.weight", block, pos);
        add(a, name, VGG_TENSOR_PARAM, 4, wshape);
        snprintf(name, sizeof name, "conv%d.%d.bias", block, pos);
        add(a, name, VGG_TENSOR_PARAM, 1, vshape);
        if (L->bn) {
            static const char *const leaf[5] = {"weight", "bias",
                                                "running_mean", "running_var",
                                                "num_batches_tracked"};
            static const vgg_tensor_kind kind[5] = {
                VGG_TENSOR_PARAM, VGG_TENSOR_PARAM, VGG_TENSOR_BUFFER,
                VGG_TENSOR_BUFFER, VGG_TENSOR_COUNTER};
            for (int j = 0; j < 5; j++) {
                snprintf(name, sizeof name, "conv%d.%d.%s", block, pos + 1,
                         leaf[j]);
                add(a, name, kind[j], j == 4 ? 0 : 1, vshape);
            }
        }
        L->ntensors = a->ntensors - L->tensor0;
        pos += L->bn ? 3 : 2;
        c = L->cout;
    }
    a->features = c * side * side;
    a->nfc = cfg->head_width ? 3 : 1;
    int in = a->features;
    for (int j = 0; j < a->nfc; j++) {
        vgg_arch_layer *L = &a->layers[a->nlayers++];
        L->kind = VGG_LAYER_LINEAR;
        L->cin = in;
        L->cout = j + 1 < a->nfc ? cfg->head_width : cfg->classes;
        L->side = 1;
        L->dropout = j + 1 < a->nfc;
        L->macs = (double)L->cin * L->cout;
        L->tensor0 = a->ntensors;
        int64_t w[2] = {L->cout, L->cin}, b[1] = {L->cout};
        snprintf(name, sizeof name, "fc%d.weight", j + 1);
        add(a, name, VGG_TENSOR_PARAM, 2, w);
        snprintf(name, sizeof name, "fc%d.bias", j + 1);
        add(a, name, VGG_TENSOR_PARAM, 1, b);
        L->ntensors = 2;
        in = L->cout;
    }
    for (int i = 0; i < a->nlayers; i++) a->macs += a->layers[i].macs;
    a->data_bytes =
        4 * (2 * (uint64_t)a->nparams + a->nstate) + 8 * (uint64_t)a->ncounters;
    return VGG_OK;
}
