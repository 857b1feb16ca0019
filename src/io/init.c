/* vgg_model_init_features (include/vgg/init.h): takes the tensors it
 * needs by name from a safetensors container (src/io/safetensors.h). */
#include "vgg/init.h"

#include "io/safetensors.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER (16u << 20)

static void shape_str(char *out, size_t n, const int64_t *s, int nd) {
    size_t k = (size_t)snprintf(out, n, "[");
    for (int i = 0; i < nd && k < n; i++)
        k +=
            (size_t)snprintf(out + k, n - k, "%s%" PRId64, i ? ", " : "", s[i]);
    if (k < n) snprintf(out + k, n - k, "]");
}

static int is_feature(const vgg_tensor *t) {
    return strncmp(t->name, "conv", 4) == 0;
}

vgg_status vgg_model_init_features(vgg_model *m, const char *path, int *loaded,
                                   vgg_error *err) {
    if (loaded) *loaded = 0;
    vgg_st_file sf;
    vgg_error oerr = {0};
    if (vgg_st_open(&sf, path, MAX_HEADER, &oerr))
        return vgg_fail(err, oerr.status, "--init %s", oerr.msg);
    FILE *f = sf.f;
    json_t *root = sf.root;
    if (!json_is_object(root)) {
        vgg_st_close(&sf);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "--init %s: the header is not a JSON object; not a "
                        "safetensors file",
                        path);
    }
    const uint64_t data_start = 8 + sf.header_bytes, data_len = sf.data_bytes;
    /* one staging buffer per tensor, so that m changes only at the end */
    void **stage = calloc((size_t)m->ntensors, sizeof *stage);
    vgg_status st =
        stage ? VGG_OK : vgg_fail(err, VGG_ERR_NOMEM, "out of memory");
    int nloaded = 0;
    for (int i = 0; !st && i < m->ntensors; i++) {
        const vgg_tensor *t = &m->tensors[i];
        if (!is_feature(t)) continue;
        const int counter = t->kind == VGG_TENSOR_COUNTER;
        const char *want_dtype = counter ? "I64" : "F32";
        char want_shape[96], got_shape[96];
        shape_str(want_shape, sizeof want_shape, t->shape, t->ndim);
        json_t *v = json_object_get(root, t->name);
        if (!v) {
            if (counter) continue; /* num_batches_tracked: optional */
            st = vgg_fail(err, VGG_ERR_MISMATCH,
                          "--init %s: tensor %s %s is missing from the file "
                          "(a network table with more layers than the "
                          "file's?)",
                          path, t->name, want_shape);
            break;
        }
        const char *dtype = json_string_value(json_object_get(v, "dtype"));
        json_t *shape = json_object_get(v, "shape");
        json_t *offs = json_object_get(v, "data_offsets");
        if (!dtype || !json_is_array(shape) || !json_is_array(offs) ||
            json_array_size(offs) != 2 || json_array_size(shape) > 4) {
            st = vgg_fail(err, VGG_ERR_FORMAT,
                          "--init %s: tensor %s: expected dtype, shape and "
                          "data_offsets",
                          path, t->name);
            break;
        }
        int64_t s[4] = {0};
        int nd = (int)json_array_size(shape);
        for (int d = 0; d < nd; d++)
            s[d] = json_integer_value(json_array_get(shape, (size_t)d));
        shape_str(got_shape, sizeof got_shape, s, nd);
        int same = nd == t->ndim && strcmp(dtype, want_dtype) == 0;
        for (int d = 0; same && d < nd; d++) same = s[d] == t->shape[d];
        if (!same) {
            st = vgg_fail(err, VGG_ERR_MISMATCH,
                          "--init %s: tensor %s is %s %s in the file; this "
                          "model's is %s %s",
                          path, t->name, dtype, got_shape, want_dtype,
                          want_shape);
            break;
        }
        json_int_t b = json_integer_value(json_array_get(offs, 0));
        json_int_t e = json_integer_value(json_array_get(offs, 1));
        const size_t bytes = t->numel * (counter ? 8 : 4);
        if (b < 0 || e < b || (uint64_t)e > data_len ||
            (uint64_t)(e - b) != bytes) {
            st = vgg_fail(err, VGG_ERR_FORMAT,
                          "--init %s: tensor %s: data_offsets [%lld, %lld] "
                          "do not hold its %zu bytes within the %" PRIu64
                          "-byte data section",
                          path, t->name, (long long)b, (long long)e, bytes,
                          data_len);
            break;
        }
        stage[i] = malloc(bytes);
        if (!stage[i] ||
            fseek(f, (long)(data_start + (uint64_t)b), SEEK_SET) != 0 ||
            fread(stage[i], 1, bytes, f) != bytes) {
            st = vgg_fail(err, VGG_ERR_IO, "--init %s: cannot read tensor %s",
                          path, t->name);
            break;
        }
        nloaded++;
    }
    if (!st && nloaded == 0)
        st = vgg_fail(err, VGG_ERR_MISMATCH,
                      "--init %s: no conv tensors to load", path);
    if (!st) {
        /* little-endian files on a little-endian host (x86, arm64) */
        for (int i = 0; i < m->ntensors; i++) {
            const vgg_tensor *t = &m->tensors[i];
            if (!stage || !stage[i]) continue;
            if (t->kind == VGG_TENSOR_COUNTER)
                memcpy(&m->counters[t->offset], stage[i], 8 * t->numel);
            else
                memcpy(vgg_tensor_f32(m, t), stage[i], 4 * t->numel);
        }
        /* num_batches_tracked the file lacks starts at 0 */
        for (int i = 0; i < m->ntensors; i++) {
            const vgg_tensor *t = &m->tensors[i];
            if (is_feature(t) && t->kind == VGG_TENSOR_COUNTER && !stage[i])
                m->counters[t->offset] = 0;
        }
        memset(m->momentum, 0, m->nparams * sizeof *m->momentum);
        if (loaded) *loaded = nloaded;
    }
    for (int i = 0; stage && i < m->ntensors; i++) free(stage[i]);
    free(stage);
    vgg_st_close(&sf);
    return st;
}
