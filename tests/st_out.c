#include "st_out.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgg/model.h"

typedef struct out_tensor {
    char name[80];
    int ndim;
    int64_t shape[5];
    float *data; /* owned */
    size_t n;
} out_tensor;

static out_tensor outs[2 * VGG_MAX_TENSORS + VGG_MAX_LAYERS + 16];
static int nouts;

float *st_add(const char *name, int ndim, const int64_t *shape) {
    if (nouts == (int)(sizeof outs / sizeof outs[0]) || ndim > 5) {
        fprintf(stderr, "st_add: %s: too many tensors or dimensions\n", name);
        exit(1);
    }
    out_tensor *t = &outs[nouts++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->n = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->n *= (size_t)shape[i];
    }
    t->data = calloc(t->n ? t->n : 1, sizeof(float));
    if (!t->data) {
        fprintf(stderr, "st_add: %s: out of memory\n", name);
        exit(1);
    }
    return t->data;
}

void st_cnhw_to_nchw(float *dst, const float *src, int C, int N, int S) {
    for (int c = 0; c < C; c++)
        for (int n = 0; n < N; n++)
            memcpy(dst + ((size_t)n * C + c) * S, src + ((size_t)c * N + n) * S,
                   sizeof(float) * (size_t)S);
}

int st_write(const char *path) {
    json_t *root = json_object();
    size_t off = 0;
    for (int i = 0; i < nouts; i++) {
        json_t *shape = json_array();
        for (int d = 0; d < outs[i].ndim; d++)
            json_array_append_new(shape, json_integer(outs[i].shape[d]));
        json_object_set_new(root, outs[i].name,
                            json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32",
                                      "shape", shape, "data_offsets",
                                      (json_int_t)off,
                                      (json_int_t)(off + 4 * outs[i].n)));
        off += 4 * outs[i].n;
    }
    char *h = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    size_t hl = strlen(h), padded = (hl + 7) & ~(size_t)7;
    FILE *f = fopen(path, "wb");
    int bad = !f;
    if (f) {
        uint8_t len8[8];
        for (int i = 0; i < 8; i++)
            len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
        bad = fwrite(len8, 1, 8, f) != 8 || fwrite(h, 1, hl, f) != hl;
        for (size_t i = hl; i < padded && !bad; i++) bad = fputc(' ', f) == EOF;
        for (int i = 0; i < nouts && !bad; i++)
            bad = fwrite(outs[i].data, 4, outs[i].n, f) != outs[i].n;
        bad |= fclose(f) != 0;
    }
    free(h);
    if (bad) fprintf(stderr, "%s: cannot write the safetensors file\n", path);
    for (int i = 0; i < nouts; i++) free(outs[i].data);
    nouts = 0;
    return bad ? -1 : 0;
}
