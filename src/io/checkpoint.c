/* Checkpoints as safetensors files.
 *
 * Layout (docs/checkpoint-format.md has the whole story):
 *   u64 little-endian N | N bytes of JSON, space-padded so 8 + N is a
 *   multiple of 8 | data section.
 * The data section holds, back to back and in this order: the int64
 * num_batches_tracked counters (first, so that every tensor is naturally
 * aligned), the float32 model tensors in the model's table order, then
 * optimizer.momentum.<name> for every parameter. The reader does not rely
 * on that order: it checks every tensor by name against the model, then
 * checks that the offsets tile the data section exactly.
 *
 * The checksum is CRC-32 (zlib's) of the whole data section, stored as
 * __metadata__.checksum = "crc32:xxxxxxxx".
 *
 * This file maps a model to its tensors; the container is safetensors.c,
 * the metadata checkpoint_meta.c. */
#include "vgg/checkpoint.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_meta.h"
#include "safetensors.h"
#include "vgg/crc32.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c writes the model's memory as is: little-endian hosts only"
#endif

/* ---- the tensors a model stores -------------------------------------- */

#define MOMENTUM_PREFIX "optimizer.momentum."
#define MAX_ENTRIES (2 * VGG_MAX_TENSORS)

typedef struct entry {
    const vgg_tensor *t;
    int momentum; /* optimizer.momentum.<t->name> */
    char name[80];
    size_t bytes;
    uint64_t begin, end; /* data_offsets in the file */
    int seen;
} entry;

/* Entries in file order: counters, model floats, momentum. Returns count. */
static int plan(const vgg_model *m, entry *e) {
    int n = 0;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < m->ntensors; i++) {
            const vgg_tensor *t = &m->tensors[i];
            int take = pass == 0   ? t->kind == VGG_TENSOR_COUNTER
                       : pass == 1 ? t->kind != VGG_TENSOR_COUNTER
                                   : t->kind == VGG_TENSOR_PARAM;
            if (!take) continue;
            memset(&e[n], 0, sizeof e[n]);
            e[n].t = t;
            e[n].momentum = pass == 2;
            snprintf(e[n].name, sizeof e[n].name, "%s%s",
                     pass == 2 ? MOMENTUM_PREFIX : "", t->name);
            e[n].bytes = t->numel * (t->kind == VGG_TENSOR_COUNTER ? 8 : 4);
            n++;
        }
    return n;
}

static void *entry_data(const vgg_model *m, const entry *e) {
    const vgg_tensor *t = e->t;
    if (e->momentum) return m->momentum + t->offset;
    if (t->kind == VGG_TENSOR_COUNTER) return m->counters + t->offset;
    return vgg_tensor_f32(m, t);
}

static void format_shape(char *buf, size_t cap, const int64_t *shape,
                         int ndim) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%" PRId64, i ? "," : "",
                              shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* ---- saving ----------------------------------------------------------- */

vgg_status vgg_checkpoint_save(const char *path, const vgg_model *m,
                               const vgg_ckpt_meta *meta, vgg_error *err) {
    vgg_status st = vgg_ckpt_meta_check(path, m, meta, err);
    if (st) return st;

    entry *list = malloc(sizeof *list * MAX_ENTRIES);
    vgg_st_entry *se = malloc(sizeof *se * MAX_ENTRIES);
    if (!list || !se) {
        free(list);
        free(se);
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: out of memory", path);
    }
    int n = plan(m, list);
    uint32_t crc = 0;
    for (int i = 0; i < n; i++) {
        const vgg_tensor *t = list[i].t;
        se[i] = (vgg_st_entry){list[i].name,
                               t->kind == VGG_TENSOR_COUNTER ? "I64" : "F32",
                               t->shape,
                               t->ndim,
                               entry_data(m, &list[i]),
                               list[i].bytes};
        crc = vgg_crc32(crc, se[i].data, se[i].bytes);
    }
    json_t *md = vgg_ckpt_meta_json(meta, crc);
    st = vgg_st_write(path, "checkpoint", md, se, n, VGG_CKPT_MAX_HEADER, err);
    free(se);
    free(list);
    return st;
}

/* ---- reading ---------------------------------------------------------- */

typedef struct header {
    vgg_st_file st;
    uint32_t crc; /* from __metadata__.checksum */
} header;

/* Opens path as a safetensors file and parses its metadata. On success
 * h->st is open and meta filled. */
static vgg_status read_header(const char *path, header *h, vgg_ckpt_meta *meta,
                              vgg_error *err) {
    memset(h, 0, sizeof *h);
    memset(meta, 0, sizeof *meta);
    vgg_status st = vgg_st_open(&h->st, path, VGG_CKPT_MAX_HEADER, err);
    if (st) return st;
    json_t *md = json_object_get(h->st.root, "__metadata__");
    if (!json_is_object(h->st.root) || !json_is_object(md)) {
        vgg_st_close(&h->st);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: header has no __metadata__ object (not a "
                        "vggtrain checkpoint)",
                        path);
    }
    st = vgg_ckpt_meta_parse(path, md, h->st.data_bytes, meta, &h->crc, err);
    if (st) vgg_st_close(&h->st);
    return st;
}

vgg_status vgg_checkpoint_read_meta(const char *path, vgg_ckpt_meta *meta,
                                    vgg_error *err) {
    header h;
    vgg_status st = read_header(path, &h, meta, err);
    if (!st) vgg_st_close(&h.st);
    return st;
}

static vgg_status check_config(const char *path, const vgg_config *file,
                               const vgg_config *model, vgg_error *err) {
    if (file->classes != model->classes)
        return vgg_fail(err, VGG_ERR_MISMATCH,
                        "%s: checkpoint has %d classes; the model has %d", path,
                        file->classes, model->classes);
    if (!vgg_config_equal(file, model)) {
        char a[VGG_MAX_LAYERS * 8 + 1], b[VGG_MAX_LAYERS * 8 + 1];
        char ha[32], hb[32];
        vgg_config_format(a, sizeof a, file);
        vgg_config_format(b, sizeof b, model);
        vgg_config_format_head(ha, sizeof ha, file);
        vgg_config_format_head(hb, sizeof hb, model);
        return vgg_fail(err, VGG_ERR_MISMATCH,
                        "%s: checkpoint architecture \"%s\"%s, head %s; the "
                        "model is \"%s\"%s, head %s",
                        path, a, file->no_bn ? " without batch norm" : "", ha,
                        b, model->no_bn ? " without batch norm" : "", hb);
    }
    return VGG_OK;
}

/* Checks one header entry against what the model expects. */
static vgg_status check_entry(const char *path, entry *e, json_t *v,
                              uint64_t data_bytes, vgg_error *err) {
    const char *want_dtype = e->t->kind == VGG_TENSOR_COUNTER ? "I64" : "F32";
    const char *dtype = json_string_value(json_object_get(v, "dtype"));
    json_t *shape = json_object_get(v, "shape");
    json_t *offs = json_object_get(v, "data_offsets");
    if (!json_is_object(v) || !dtype || !json_is_array(shape) ||
        !json_is_array(offs))
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: tensor %s: expected an object with dtype, shape "
                        "and data_offsets",
                        path, e->name);
    if (strcmp(dtype, want_dtype) != 0)
        return vgg_fail(err, VGG_ERR_MISMATCH,
                        "%s: tensor %s: dtype %.16s; expected %s", path,
                        e->name, dtype, want_dtype);
    char want[96], found[96];
    format_shape(want, sizeof want, e->t->shape, e->t->ndim);
    size_t nd = json_array_size(shape);
    int64_t dims[8];
    int same = nd == (size_t)e->t->ndim;
    for (size_t d = 0; d < nd && d < 8; d++) {
        json_t *x = json_array_get(shape, d);
        if (!json_is_integer(x))
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: tensor %s: shape entry %zu is not a whole "
                            "number",
                            path, e->name, d);
        dims[d] = (int64_t)json_integer_value(x);
        if (d < (size_t)e->t->ndim && dims[d] != e->t->shape[d]) same = 0;
    }
    if (!same) {
        format_shape(found, sizeof found, dims, nd < 8 ? (int)nd : 8);
        return vgg_fail(err, VGG_ERR_MISMATCH,
                        "%s: tensor %s: shape %s%s; the model expects %s", path,
                        e->name, found, nd > 8 ? "..." : "", want);
    }
    json_t *b = json_array_get(offs, 0), *en = json_array_get(offs, 1);
    if (json_array_size(offs) != 2 || !json_is_integer(b) ||
        !json_is_integer(en) || json_integer_value(b) < 0 ||
        json_integer_value(en) < json_integer_value(b))
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: tensor %s: data_offsets must be [begin, end] "
                        "with 0 <= begin <= end",
                        path, e->name);
    e->begin = (uint64_t)json_integer_value(b);
    e->end = (uint64_t)json_integer_value(en);
    if (e->end > data_bytes)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64
                        "] run past the data section (%" PRIu64 " bytes)",
                        path, e->name, e->begin, e->end, data_bytes);
    if (e->end - e->begin != e->bytes)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64
                        "] span %" PRIu64 " bytes; shape %s %s needs %zu",
                        path, e->name, e->begin, e->end, e->end - e->begin,
                        want, want_dtype, e->bytes);
    e->seen = 1;
    return VGG_OK;
}

vgg_status vgg_checkpoint_load(const char *path, vgg_model *m,
                               vgg_ckpt_meta *meta, vgg_error *err) {
    vgg_ckpt_meta tmp;
    header h;
    vgg_status st = read_header(path, &h, &tmp, err);
    if (st) return st;
    entry *list = NULL;
    vgg_st_span *spans = NULL;
    uint8_t *data = NULL;
    st = check_config(path, &tmp.cfg, &m->cfg, err);
    if (!st) {
        list = malloc(sizeof *list * MAX_ENTRIES);
        spans = malloc(sizeof *spans * MAX_ENTRIES);
        if (!list || !spans)
            st = vgg_fail(err, VGG_ERR_NOMEM, "%s: out of memory", path);
    }
    int n = 0;
    if (!st) {
        n = plan(m, list);
        const char *key;
        json_t *v;
        json_object_foreach(h.st.root, key, v) {
            if (strcmp(key, "__metadata__") == 0) continue;
            entry *e = NULL;
            for (int i = 0; i < n && !e; i++)
                if (strcmp(list[i].name, key) == 0) e = &list[i];
            if (!e) {
                st = vgg_fail(err, VGG_ERR_MISMATCH,
                              "%s: tensor \"%.80s\" is not part of this model",
                              path, key);
                break;
            }
            if ((st = check_entry(path, e, v, h.st.data_bytes, err))) break;
        }
    }
    for (int i = 0; i < n && !st; i++)
        if (!list[i].seen)
            st = vgg_fail(err, VGG_ERR_MISMATCH,
                          "%s: tensor %s is missing from the file", path,
                          list[i].name);
    if (!st) {
        /* The tensors must tile the data section: no overlap, no gap. */
        for (int i = 0; i < n; i++)
            spans[i] = (vgg_st_span){list[i].name, list[i].begin, list[i].end};
        st = vgg_st_check_tiling(path, spans, n, h.st.data_bytes, err);
    }
    /* Only now is the data's size known to be the model's own. */
    if (!st) {
        data = malloc(h.st.data_bytes ? (size_t)h.st.data_bytes : 1);
        if (!data)
            st = vgg_fail(err, VGG_ERR_NOMEM,
                          "%s: cannot allocate %" PRIu64 " bytes", path,
                          h.st.data_bytes);
    }
    if (!st) st = vgg_st_read_data(&h.st, path, data, err);
    if (!st) {
        uint32_t crc = vgg_crc32(0, data, (size_t)h.st.data_bytes);
        if (crc != h.crc)
            st = vgg_fail(err, VGG_ERR_FORMAT,
                          "%s: checksum mismatch: the metadata says "
                          "crc32:%08" PRIx32 ", the data section has "
                          "crc32:%08" PRIx32 "; the file is damaged",
                          path, h.crc, crc);
    }
    if (!st)
        for (int i = 0; i < n; i++)
            memcpy(entry_data(m, &list[i]), data + list[i].begin,
                   list[i].bytes);
    free(data);
    free(list);
    free(spans);
    vgg_st_close(&h.st);
    if (!st && meta)
        *meta = tmp;
    else
        vgg_ckpt_meta_free(&tmp);
    return st;
}
