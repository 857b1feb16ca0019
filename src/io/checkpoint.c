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
 * __metadata__.checksum = "crc32:xxxxxxxx". */
#include "vgg/checkpoint.h"
#include "vgg/output.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vgg/augment.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c writes the model's memory as is: little-endian hosts only"
#endif

/* ---- the tensors a model stores -------------------------------------- */

#define MOMENTUM_PREFIX "optimizer.momentum."
#define MAX_ENTRIES (2 * VGG_MAX_TENSORS)

typedef struct entry {
    const vgg_tensor *t;
    int momentum;          /* optimizer.momentum.<t->name> */
    char name[80];
    size_t bytes;
    uint64_t begin, end;   /* data_offsets in the file */
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

static void format_arch(char *buf, size_t cap, const vgg_config *cfg) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < cfg->nlayers && k < cap; i++) {
        if (cfg->layers[i] == VGG_POOL)
            k += (size_t)snprintf(buf + k, cap - k, "%sM", i ? " " : "");
        else
            k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? " " : "",
                                  cfg->layers[i]);
    }
}

/* Bytes of tensor data a configuration implies, computed without
 * allocating, so a file cannot make us build a model bigger than itself.
 * Returns 0 for a table the model cannot be built from (*why says why). */
static uint64_t cfg_data_bytes(const vgg_config *cfg, const char **why) {
    uint64_t params = 0, state = 0, counters = 0, c = 3;
    int side = cfg->side;
    for (int i = 0; i < cfg->nlayers; i++) {
        if (cfg->layers[i] == VGG_POOL) {
            if (side < 2 || side % 2) {
                *why = "a pool on a map of odd or unit side";
                return 0;
            }
            side /= 2;
            continue;
        }
        uint64_t co = (uint64_t)cfg->layers[i];
        params += co * c * 9 + co + 2 * co;
        state += 2 * co;
        counters++;
        c = co;
    }
    uint64_t features = c * (uint64_t)side * (uint64_t)side;
    params += (uint64_t)cfg->classes * features + (uint64_t)cfg->classes;
    return 4 * (2 * params + state) + 8 * counters;
}

/* ---- metadata: writing ------------------------------------------------ */

static int set_str(json_t *o, const char *key, const char *val) {
    return json_object_set_new(o, key, json_string(val));
}

static int set_fmt(json_t *o, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int set_fmt(json_t *o, const char *key, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return set_str(o, key, buf);
}

/* A history record's numbers besides its epoch, in the order the file
 * lists them: writing, reading and the check before saving all walk this. */
static const struct {
    const char *key;
    size_t off;
} history_fields[] = {
    {"lr", offsetof(vgg_epoch_record, lr)},
    {"train_loss", offsetof(vgg_epoch_record, train_loss)},
    {"train_acc", offsetof(vgg_epoch_record, train_acc)},
    {"test_loss", offsetof(vgg_epoch_record, test_loss)},
    {"test_acc", offsetof(vgg_epoch_record, test_acc)},
    {"seconds", offsetof(vgg_epoch_record, seconds)},
    {"images_per_second", offsetof(vgg_epoch_record, images_per_second)},
};
enum { HISTORY_FIELDS = sizeof history_fields / sizeof history_fields[0] };

static float history_value(const vgg_epoch_record *r, int k) {
    float v;
    memcpy(&v, (const char *)r + history_fields[k].off, sizeof v);
    return v;
}

static void history_set(vgg_epoch_record *r, int k, float v) {
    memcpy((char *)r + history_fields[k].off, &v, sizeof v);
}

static json_t *history_json(const vgg_ckpt_meta *meta) {
    json_t *a = json_array();
    for (int i = 0; a && i < meta->nhistory; i++) {
        const vgg_epoch_record *r = &meta->history[i];
        json_t *o = json_object();
        int bad = !o || json_object_set_new(o, "epoch", json_integer(r->epoch));
        for (int k = 0; k < HISTORY_FIELDS && !bad; k++)
            bad = json_object_set_new(o, history_fields[k].key,
                                      json_real((double)history_value(r, k)));
        if (bad || json_array_append_new(a, o)) {
            if (bad) json_decref(o);
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *meta_json(const vgg_ckpt_meta *meta, uint32_t crc) {
    json_t *o = json_object();
    if (!o) return NULL;
    char arch[VGG_MAX_LAYERS * 6 + 1];
    format_arch(arch, sizeof arch, &meta->cfg);
    char names[VGG_CIFAR_MAX_CLASSES * VGG_CLASS_NAME_MAX + 16] = "";
    size_t k = 0;
    for (int c = 0; c < meta->cfg.classes && c < VGG_CIFAR_MAX_CLASSES; c++)
        k += (size_t)snprintf(names + k, sizeof names - k, "%s%s",
                              c ? "," : "", meta->class_names[c]);
    json_t *hist = history_json(meta);
    char *hist_s = hist ? json_dumps(hist, JSON_COMPACT) : NULL;
    json_decref(hist);
    int bad = !hist_s;
    bad |= set_str(o, "format", VGG_CKPT_FORMAT);
    bad |= set_fmt(o, "version", "%d", VGG_CKPT_VERSION);
    bad |= set_str(o, "arch", arch);
    bad |= set_fmt(o, "side", "%d", meta->cfg.side);
    bad |= set_fmt(o, "classes", "%d", meta->cfg.classes);
    bad |= set_str(o, "class_names", names);
    bad |= set_fmt(o, "mean", "%.9g,%.9g,%.9g", vgg_cifar_mean[0],
                   vgg_cifar_mean[1], vgg_cifar_mean[2]);
    bad |= set_fmt(o, "std", "%.9g,%.9g,%.9g", vgg_cifar_std[0],
                   vgg_cifar_std[1], vgg_cifar_std[2]);
    bad |= set_fmt(o, "epoch", "%d", meta->epoch);
    bad |= set_fmt(o, "seed", "%" PRIu64, meta->seed);
    bad |= set_fmt(o, "rng_state", "%" PRIu64, meta->rng.state);
    bad |= set_fmt(o, "rng_inc", "%" PRIu64, meta->rng.inc);
    bad |= set_fmt(o, "lr", "%.9g", meta->sgd.lr);
    bad |= set_fmt(o, "momentum", "%.9g", meta->sgd.momentum);
    bad |= set_fmt(o, "weight_decay", "%.9g", meta->sgd.weight_decay);
    bad |= set_str(o, "lr_schedule", vgg_lr_kind_name(meta->sched.kind));
    if (meta->sched.nsteps > 0) {
        char steps[VGG_LR_MAX_STEPS * 12 + 1];
        size_t k = 0;
        for (int i = 0; i < meta->sched.nsteps && i < VGG_LR_MAX_STEPS; i++)
            k += (size_t)snprintf(steps + k, sizeof steps - k, "%s%d",
                                  i ? "," : "", meta->sched.steps[i]);
        bad |= set_str(o, "lr_steps", steps);
    }
    bad |= set_fmt(o, "lr_gamma", "%.9g", meta->sched.gamma);
    bad |= set_fmt(o, "lr_min", "%.9g", meta->sched.min_lr);
    bad |= set_fmt(o, "lr_warmup", "%d", meta->sched.warmup);
    bad |= set_fmt(o, "batch_size", "%d", meta->batch_size);
    bad |= set_fmt(o, "limit_train", "%d", meta->limit_train);
    bad |= set_fmt(o, "limit_test", "%d", meta->limit_test);
    bad |= set_str(o, "history", hist_s ? hist_s : "[]");
    bad |= set_fmt(o, "checksum", "crc32:%08" PRIx32, crc);
    free(hist_s);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- saving ----------------------------------------------------------- */

/* What saving requires of a schedule and reading checks, the same test
 * both ways (a file that loads saves again): the whole, as the flags'
 * checks see it, but not warm-up against the run's length (the resumed
 * run's --epochs decides that) nor the base rate (the "lr" field's). */
static vgg_status schedule_check(const vgg_schedule *s, float lr,
                                 vgg_error *err) {
    vgg_schedule c = *s;
    c.base_lr = lr > 0.0f && isfinite(lr) ? lr : FLT_MAX;
    if (!(c.gamma > 0.0f && c.gamma <= 1.0f) || !(c.min_lr >= 0.0f) ||
        c.warmup < 0 || c.nsteps < 0 || c.nsteps > VGG_LR_MAX_STEPS ||
        (unsigned)c.kind > VGG_LR_COSINE)
        return vgg_fail(err, VGG_ERR_ARG,
                        "gamma %g, minimum %g, warm-up %d, %d milestones: "
                        "out of range",
                        (double)c.gamma, (double)c.min_lr, c.warmup, c.nsteps);
    for (int i = 0; i < c.nsteps; i++)
        if (c.steps[i] < 1 || c.steps[i] > 1000000 ||
            (i > 0 && c.steps[i] <= c.steps[i - 1]))
            return vgg_fail(err, VGG_ERR_ARG,
                            "milestone %d (epoch %d): expected rising epochs "
                            "from 1 to 1000000",
                            i + 1, c.steps[i]);
    return vgg_schedule_check(&c, 100000000, err);
}

static vgg_status check_meta_for_save(const char *path, const vgg_model *m,
                                      const vgg_ckpt_meta *meta,
                                      vgg_error *err) {
    if (meta->cfg.classes != m->cfg.classes ||
        meta->cfg.nlayers != m->cfg.nlayers ||
        memcmp(meta->cfg.layers, m->cfg.layers,
               sizeof(int) * (size_t)m->cfg.nlayers) != 0)
        return vgg_fail(err, VGG_ERR_ARG,
                        "%s: the metadata's configuration differs from the "
                        "model's",
                        path);
    if (meta->cfg.classes > VGG_CIFAR_MAX_CLASSES)
        return vgg_fail(err, VGG_ERR_ARG,
                        "%s: %d classes; checkpoints hold at most %d", path,
                        meta->cfg.classes, VGG_CIFAR_MAX_CLASSES);
    vgg_error serr = {0};
    if (schedule_check(&meta->sched, meta->sgd.lr, &serr)) /* must read back */
        return vgg_fail(err, VGG_ERR_ARG,
                        "%s: the metadata's learning-rate schedule is not "
                        "valid (%s); set it with vgg_schedule_init",
                        path, serr.msg);
    for (int i = 0; i < meta->nhistory; i++) { /* JSON has no inf or NaN */
        const vgg_epoch_record *r = &meta->history[i];
        for (int k = 0; k < HISTORY_FIELDS; k++)
            if (!isfinite(history_value(r, k)))
                return vgg_fail(err, VGG_ERR_ARG,
                                "%s: epoch history entry %d (epoch %d) holds "
                                "%s = %g; a checkpoint stores finite numbers "
                                "only",
                                path, i, r->epoch, history_fields[k].key,
                                (double)history_value(r, k));
    }
    for (int c = 0; c < meta->cfg.classes; c++) {
        const char *s = meta->class_names[c];
        if (!s[0] || strchr(s, ',') ||
            strnlen(s, VGG_CLASS_NAME_MAX) == VGG_CLASS_NAME_MAX)
            return vgg_fail(err, VGG_ERR_ARG,
                            "%s: class name %d is empty, too long or holds a "
                            "comma",
                            path, c);
    }
    return VGG_OK;
}

vgg_status vgg_checkpoint_save(const char *path, const vgg_model *m,
                               const vgg_ckpt_meta *meta, vgg_error *err) {
    vgg_status st = check_meta_for_save(path, m, meta, err);
    if (st) return st;

    entry *list = malloc(sizeof *list * MAX_ENTRIES);
    if (!list) return vgg_fail(err, VGG_ERR_NOMEM, "%s: out of memory", path);
    int n = plan(m, list);
    uint64_t off = 0;
    uint32_t crc = 0;
    for (int i = 0; i < n; i++) {
        list[i].begin = off;
        off += list[i].bytes;
        list[i].end = off;
        crc = vgg_crc32(crc, entry_data(m, &list[i]), list[i].bytes);
    }

    json_t *root = json_object();
    json_t *md = meta_json(meta, crc);
    int bad = !root || !md || json_object_set_new(root, "__metadata__", md);
    for (int i = 0; i < n && !bad; i++) {
        const vgg_tensor *t = list[i].t;
        json_t *shape = json_array();
        for (int d = 0; shape && d < t->ndim; d++)
            bad |= json_array_append_new(shape, json_integer(t->shape[d]));
        json_t *o = json_pack(
            "{s:s, s:o, s:[I,I]}", "dtype",
            t->kind == VGG_TENSOR_COUNTER ? "I64" : "F32", "shape", shape,
            "data_offsets", (json_int_t)list[i].begin,
            (json_int_t)list[i].end);
        bad |= !o || json_object_set_new(root, list[i].name, o);
    }
    char *hdr = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!hdr) {
        free(list);
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: cannot build the header",
                        path);
    }
    size_t hlen = strlen(hdr), padded = (hlen + 7) & ~(size_t)7;
    if (padded > VGG_CKPT_MAX_HEADER) {
        free(hdr);
        free(list);
        return vgg_fail(err, VGG_ERR_ARG,
                        "%s: header would be %zu bytes; at most %u allowed",
                        path, padded, VGG_CKPT_MAX_HEADER);
    }

    vgg_output out;
    vgg_status ost = vgg_output_open(&out, path, "checkpoint", err);
    if (ost) {
        free(hdr);
        free(list);
        return ost;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    static const char spaces[8] = "        ";
    int wbad = vgg_output_write(&out, len8, 8) ||
               vgg_output_write(&out, hdr, hlen) ||
               vgg_output_write(&out, spaces, padded - hlen);
    for (int i = 0; i < n && !wbad; i++)
        wbad = vgg_output_write(&out, entry_data(m, &list[i]), list[i].bytes);
    free(hdr);
    free(list);
    return vgg_output_close(&out, err);
}

/* ---- metadata: reading ------------------------------------------------ */

static vgg_status get_str(const char *path, json_t *md, const char *key,
                          const char **out, vgg_error *err) {
    json_t *v = json_object_get(md, key);
    if (!v)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ has no \"%s\"", path, key);
    *out = json_string_value(v);
    return VGG_OK; /* every value was checked to be a string */
}

static vgg_status get_i64(const char *path, json_t *md, const char *key,
                          long long lo, long long hi, long long *out,
                          vgg_error *err) {
    const char *s = NULL;
    vgg_status st = get_str(path, md, key, &s, err);
    if (st) return st;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ %s = \"%.40s\": expected a whole "
                        "number from %lld to %lld",
                        path, key, s, lo, hi);
    *out = v;
    return VGG_OK;
}

static vgg_status get_int(const char *path, json_t *md, const char *key,
                          int lo, int hi, int *out, vgg_error *err) {
    long long v;
    vgg_status st = get_i64(path, md, key, lo, hi, &v, err);
    if (!st) *out = (int)v;
    return st;
}

static vgg_status get_u64(const char *path, json_t *md, const char *key,
                          uint64_t *out, vgg_error *err) {
    const char *s = NULL;
    vgg_status st = get_str(path, md, key, &s, err);
    if (st) return st;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || s[0] < '0' || s[0] > '9')
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ %s = \"%.40s\": expected a "
                        "non-negative 64-bit whole number",
                        path, key, s);
    *out = (uint64_t)v;
    return VGG_OK;
}

static vgg_status parse_float(const char *path, const char *key,
                              const char *s, double lo, double hi, float *out,
                              char **endp, vgg_error *err) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < lo || v > hi ||
        (!endp && *end))
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ %s = \"%.40s\": expected a number "
                        "from %g to %g",
                        path, key, s, lo, hi);
    *out = (float)v;
    if (endp) *endp = end;
    return VGG_OK;
}

static vgg_status get_float(const char *path, json_t *md, const char *key,
                            double lo, double hi, float *out,
                            vgg_error *err) {
    const char *s = NULL;
    vgg_status st = get_str(path, md, key, &s, err);
    if (st) return st;
    return parse_float(path, key, s, lo, hi, out, NULL, err);
}

/* "a,b,c" must equal the constants this build normalises with. */
static vgg_status check_triple(const char *path, json_t *md, const char *key,
                               const float *want, vgg_error *err) {
    const char *s = NULL;
    vgg_status st = get_str(path, md, key, &s, err);
    if (st) return st;
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        float v = 0;
        char *end = NULL;
        st = parse_float(path, key, p, -1e3, 1e3, &v, &end, err);
        if (st) return st;
        if (*end != (i < 2 ? ',' : '\0'))
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: __metadata__ %s = \"%.60s\": expected three "
                            "numbers separated by commas",
                            path, key, s);
        if (fabsf(v - want[i]) > 1e-6f)
            return vgg_fail(err, VGG_ERR_MISMATCH,
                            "%s: normalisation %s = %s; this build uses "
                            "%.4f,%.4f,%.4f",
                            path, key, s, want[0], want[1], want[2]);
        p = end + 1;
    }
    return VGG_OK;
}

static vgg_status parse_history(const char *path, const char *s, int epoch,
                                vgg_ckpt_meta *meta, vgg_error *err) {
    json_error_t je;
    json_t *a = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ history is not a JSON list%s%s",
                        path, a ? "" : ": ", a ? "" : je.text);
    }
    size_t n = json_array_size(a);
    if (n > (size_t)epoch) {
        json_decref(a);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ history has %zu epochs; at most "
                        "epoch = %d expected",
                        path, n, epoch);
    }
    vgg_epoch_record *h = n ? calloc(n, sizeof *h) : NULL;
    if (n && !h) {
        json_decref(a);
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(a, i);
        json_t *ep = json_object_get(o, "epoch");
        int bad = !json_is_object(o) || !json_is_integer(ep);
        for (int k = 0; k < HISTORY_FIELDS && !bad; k++) {
            json_t *v = json_object_get(o, history_fields[k].key);
            bad = !json_is_number(v);
            if (bad) break;
            float f = (float)json_number_value(v);
            /* 1e39 is a JSON number but no float: it would load as inf,
             * which JSON cannot hold, and the file would not save again */
            if (!isfinite(f)) {
                double d = json_number_value(v);
                free(h);
                json_decref(a);
                return vgg_fail(err, VGG_ERR_FORMAT,
                                "%s: __metadata__ history entry %zu: %s = %g "
                                "is not a finite single-precision number",
                                path, i, history_fields[k].key, d);
            }
            history_set(&h[i], k, f);
        }
        if (bad) {
            free(h);
            json_decref(a);
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: __metadata__ history entry %zu is not an "
                            "object with epoch, lr, train_loss, train_acc, "
                            "test_loss, test_acc, seconds, images_per_second",
                            path, i);
        }
        h[i].epoch = (int)json_integer_value(ep);
    }
    json_decref(a);
    meta->history = h;
    meta->nhistory = (int)n;
    return VGG_OK;
}

/* The learning-rate schedule: lr_schedule, lr_steps (step only), lr_gamma,
 * lr_min, lr_warmup, checked by the flags' own parsers. A file without
 * lr_schedule (written before it was stored) ran at a constant rate. */
static vgg_status read_schedule(const char *path, json_t *md,
                                vgg_ckpt_meta *meta, vgg_error *err) {
    vgg_schedule_init(&meta->sched, meta->sgd.lr);
    if (!json_object_get(md, "lr_schedule")) return VGG_OK;
    static const struct {
        const char *key, *flag;
        int needed;
    } keys[] = {{"lr_schedule", "--lr-schedule", 1},
                {"lr_steps", "--lr-steps", 0},
                {"lr_gamma", "--lr-gamma", 1},
                {"lr_min", "--lr-min", 1},
                {"lr_warmup", "--warmup", 1}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = NULL;
        vgg_status st;
        if (!keys[i].needed && !json_object_get(md, keys[i].key)) continue;
        if ((st = get_str(path, md, keys[i].key, &v, err))) return st;
        vgg_error perr = {0};
        if (vgg_schedule_set(&meta->sched, keys[i].flag, v, &perr))
            return vgg_fail(err, VGG_ERR_FORMAT, "%s: __metadata__ %s: %s",
                            path, keys[i].key, perr.msg);
    }
    vgg_error perr = {0};
    if (schedule_check(&meta->sched, meta->sgd.lr, &perr))
        return vgg_fail(err, VGG_ERR_FORMAT, "%s: __metadata__ lr_schedule: %s",
                        path, perr.msg);
    return VGG_OK;
}

/* Fills meta from the __metadata__ object. data_bytes is the size of the
 * file's data section, which the configuration must account for. */
static vgg_status parse_meta(const char *path, json_t *md,
                             uint64_t data_bytes, vgg_ckpt_meta *meta,
                             vgg_error *err) {
    memset(meta, 0, sizeof *meta);
    const char *key;
    json_t *v;
    json_object_foreach(md, key, v) {
        if (!json_is_string(v))
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: __metadata__ \"%.60s\" is not a string (the "
                            "format allows only strings there)",
                            path, key);
    }
    const char *s = NULL;
    vgg_status st = get_str(path, md, "format", &s, err);
    if (st) return st;
    if (strcmp(s, VGG_CKPT_FORMAT) != 0)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ format \"%.60s\"; expected \"%s\"",
                        path, s, VGG_CKPT_FORMAT);
    int version, classes, side;
    if ((st = get_int(path, md, "version", 1, 1000000, &version, err)))
        return st;
    if (version != VGG_CKPT_VERSION)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: checkpoint format version %d; this build reads "
                        "version %d",
                        path, version, VGG_CKPT_VERSION);
    if ((st = get_int(path, md, "classes", 2, VGG_CIFAR_MAX_CLASSES, &classes,
                      err)) ||
        (st = get_int(path, md, "side", 1, 4096, &side, err)) ||
        (st = get_str(path, md, "arch", &s, err)))
        return st;
    if (side != VGG_CIFAR_SIDE)
        return vgg_fail(err, VGG_ERR_MISMATCH,
                        "%s: input side %d; this build reads %dx%d images",
                        path, side, VGG_CIFAR_SIDE, VGG_CIFAR_SIDE);
    vgg_error perr = {0};
    if (vgg_config_parse(&meta->cfg, s, classes, &perr))
        return vgg_fail(err, VGG_ERR_FORMAT, "%s: __metadata__ arch: %s",
                        path, perr.msg);
    if (meta->cfg.nlayers == 0)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ arch is empty; expected a table "
                        "such as \"64 64 M 128 M\"",
                        path);
    const char *why = "";
    uint64_t need = cfg_data_bytes(&meta->cfg, &why);
    if (!need)
        return vgg_fail(err, VGG_ERR_FORMAT, "%s: __metadata__ arch \"%s\": %s",
                        path, s, why);
    if (need != data_bytes)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: arch \"%s\" with %d classes needs %" PRIu64
                        " bytes of tensor data; the file's data section has "
                        "%" PRIu64 " (truncated, or not this model)",
                        path, s, classes, need, data_bytes);

    if ((st = get_str(path, md, "class_names", &s, err))) return st;
    const char *p = s;
    for (int c = 0; c < classes; c++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= VGG_CLASS_NAME_MAX)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: __metadata__ class_names \"%.80s\": name %d "
                            "is empty or longer than %d bytes",
                            path, s, c, VGG_CLASS_NAME_MAX - 1);
        memcpy(meta->class_names[c], p, len);
        meta->class_names[c][len] = 0;
        p += len;
        if (*p != (c + 1 < classes ? ',' : '\0'))
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: __metadata__ class_names \"%.80s\": expected "
                            "%d comma-separated names",
                            path, s, classes);
        if (*p) p++;
    }
    if ((st = check_triple(path, md, "mean", vgg_cifar_mean, err)) ||
        (st = check_triple(path, md, "std", vgg_cifar_std, err)))
        return st;
    if ((st = get_int(path, md, "epoch", 0, 100000000, &meta->epoch, err)) ||
        (st = get_u64(path, md, "seed", &meta->seed, err)) ||
        (st = get_u64(path, md, "rng_state", &meta->rng.state, err)) ||
        (st = get_u64(path, md, "rng_inc", &meta->rng.inc, err)) ||
        (st = get_float(path, md, "lr", 0.0, 100.0, &meta->sgd.lr, err)) ||
        (st = get_float(path, md, "momentum", 0.0, 1.0, &meta->sgd.momentum,
                        err)) ||
        (st = get_float(path, md, "weight_decay", 0.0, 1.0,
                        &meta->sgd.weight_decay, err)) ||
        (st = get_int(path, md, "batch_size", 1, 1 << 20, &meta->batch_size,
                      err)) ||
        (st = get_int(path, md, "limit_train", 0, 1 << 30, &meta->limit_train,
                      err)) ||
        (st = get_int(path, md, "limit_test", 0, 1 << 30, &meta->limit_test,
                      err)))
        return st;
    if ((st = read_schedule(path, md, meta, err))) return st;
    if (!(meta->rng.inc & 1))
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ rng_inc %" PRIu64
                        " is even; a PCG32 increment is always odd",
                        path, meta->rng.inc);
    if ((st = get_str(path, md, "history", &s, err))) return st;
    return parse_history(path, s, meta->epoch, meta, err);
}

/* ---- reading ---------------------------------------------------------- */

typedef struct header {
    FILE *f;
    uint64_t file_bytes, header_bytes, data_bytes;
    json_t *root;
    uint32_t crc; /* from __metadata__.checksum */
} header;

static void header_close(header *h) {
    if (h->f) fclose(h->f);
    json_decref(h->root);
    memset(h, 0, sizeof *h);
}

/* Opens path, checks the header length against the file, parses the JSON
 * and the metadata. On success h->f is open and meta filled. */
static vgg_status read_header(const char *path, header *h,
                              vgg_ckpt_meta *meta, vgg_error *err) {
    memset(h, 0, sizeof *h);
    memset(meta, 0, sizeof *meta);
    h->f = fopen(path, "rb");
    if (!h->f)
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot open (%s)", path,
                        strerror(errno));
    struct stat sb;
    if (fstat(fileno(h->f), &sb) || !S_ISREG(sb.st_mode)) {
        header_close(h);
        return vgg_fail(err, VGG_ERR_IO, "%s: not a regular file", path);
    }
    h->file_bytes = (uint64_t)sb.st_size;
    uint8_t len8[8];
    if (h->file_bytes < 8 || fread(len8, 1, 8, h->f) != 8) {
        uint64_t fb = h->file_bytes;
        header_close(h);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: %" PRIu64 " bytes; a checkpoint starts with an "
                        "8-byte header length",
                        path, fb);
    }
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)len8[i] << (8 * i);
    h->header_bytes = n;
    if (n < 2 || n > VGG_CKPT_MAX_HEADER) {
        header_close(h);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: header length %" PRIu64 " bytes; expected 2 to "
                        "%u (not a safetensors checkpoint?)",
                        path, n, VGG_CKPT_MAX_HEADER);
    }
    if (n > h->file_bytes - 8) {
        uint64_t fb = h->file_bytes;
        header_close(h);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: header length %" PRIu64 " bytes runs past the "
                        "end of the file (%" PRIu64 " bytes, so at most %" PRIu64
                        " available); the file is truncated or not a "
                        "checkpoint",
                        path, n, fb, fb - 8);
    }
    h->data_bytes = h->file_bytes - 8 - n;
    char *buf = malloc((size_t)n);
    if (!buf) {
        header_close(h);
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "%s: cannot allocate %" PRIu64 " bytes for the header",
                        path, n);
    }
    if (fread(buf, 1, (size_t)n, h->f) != (size_t)n) {
        free(buf);
        header_close(h);
        return vgg_fail(err, VGG_ERR_IO, "%s: short read in the header", path);
    }
    json_error_t je;
    h->root = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!h->root) {
        header_close(h);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: header is not valid JSON (byte %d of the header: "
                        "%s)",
                        path, je.position, je.text);
    }
    json_t *md = json_object_get(h->root, "__metadata__");
    if (!json_is_object(h->root) || !json_is_object(md)) {
        header_close(h);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: header has no __metadata__ object (not a "
                        "vggtrain checkpoint)",
                        path);
    }
    vgg_status st = parse_meta(path, md, h->data_bytes, meta, err);
    const char *sum = NULL;
    if (!st) st = get_str(path, md, "checksum", &sum, err);
    if (!st) {
        char *end = NULL;
        unsigned long v = 0;
        if (strncmp(sum, "crc32:", 6) == 0 && strlen(sum) == 14) {
            errno = 0;
            v = strtoul(sum + 6, &end, 16);
        }
        if (strncmp(sum, "crc32:", 6) || strlen(sum) != 14 || *end || errno)
            st = vgg_fail(err, VGG_ERR_FORMAT,
                          "%s: __metadata__ checksum \"%.40s\": expected "
                          "\"crc32:\" and 8 hex digits",
                          path, sum);
        h->crc = (uint32_t)v;
    }
    if (st) {
        vgg_ckpt_meta_free(meta);
        header_close(h);
    }
    return st;
}

vgg_status vgg_checkpoint_read_meta(const char *path, vgg_ckpt_meta *meta,
                                    vgg_error *err) {
    header h;
    vgg_status st = read_header(path, &h, meta, err);
    if (!st) header_close(&h);
    return st;
}

static int by_begin(const void *a, const void *b) {
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static vgg_status check_config(const char *path, const vgg_config *file,
                               const vgg_config *model, vgg_error *err) {
    if (file->classes != model->classes)
        return vgg_fail(err, VGG_ERR_MISMATCH,
                        "%s: checkpoint has %d classes; the model has %d",
                        path, file->classes, model->classes);
    if (file->nlayers != model->nlayers || file->side != model->side ||
        memcmp(file->layers, model->layers,
               sizeof(int) * (size_t)file->nlayers) != 0) {
        char a[VGG_MAX_LAYERS * 6 + 1], b[VGG_MAX_LAYERS * 6 + 1];
        format_arch(a, sizeof a, file);
        format_arch(b, sizeof b, model);
        return vgg_fail(err, VGG_ERR_MISMATCH,
                        "%s: checkpoint architecture \"%s\"; the model is "
                        "\"%s\"",
                        path, a, b);
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
    entry *list = NULL, **order = NULL;
    uint8_t *data = NULL;
    st = check_config(path, &tmp.cfg, &m->cfg, err);
    if (!st) {
        list = malloc(sizeof *list * MAX_ENTRIES);
        order = malloc(sizeof *order * MAX_ENTRIES);
        if (!list || !order)
            st = vgg_fail(err, VGG_ERR_NOMEM, "%s: out of memory", path);
    }
    int n = 0;
    if (!st) {
        n = plan(m, list);
        const char *key;
        json_t *v;
        json_object_foreach(h.root, key, v) {
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
            if ((st = check_entry(path, e, v, h.data_bytes, err))) break;
        }
    }
    for (int i = 0; i < n && !st; i++)
        if (!list[i].seen)
            st = vgg_fail(err, VGG_ERR_MISMATCH,
                          "%s: tensor %s is missing from the file", path,
                          list[i].name);
    if (!st) {
        /* The tensors must tile the data section: no overlap, no gap. */
        for (int i = 0; i < n; i++) order[i] = &list[i];
        qsort(order, (size_t)n, sizeof *order, by_begin);
        uint64_t at = 0;
        for (int i = 0; i < n && !st; i++) {
            const entry *e = order[i];
            if (e->begin < at)
                st = vgg_fail(err, VGG_ERR_FORMAT,
                              "%s: tensors %s [%" PRIu64 ", %" PRIu64
                              ") and %s [%" PRIu64 ", %" PRIu64 ") overlap",
                              path, order[i - 1]->name, order[i - 1]->begin,
                              order[i - 1]->end, e->name, e->begin, e->end);
            else if (e->begin > at)
                st = vgg_fail(err, VGG_ERR_FORMAT,
                              "%s: data bytes [%" PRIu64 ", %" PRIu64
                              ") belong to no tensor (before %s)",
                              path, at, e->begin, e->name);
            at = e->end;
        }
        if (!st && at != h.data_bytes)
            st = vgg_fail(err, VGG_ERR_FORMAT,
                          "%s: tensors cover %" PRIu64 " bytes; the data "
                          "section has %" PRIu64,
                          path, at, h.data_bytes);
    }
    /* Only now is the data's size known to be the model's own. */
    if (!st) {
        data = malloc(h.data_bytes ? (size_t)h.data_bytes : 1);
        if (!data)
            st = vgg_fail(err, VGG_ERR_NOMEM,
                          "%s: cannot allocate %" PRIu64 " bytes", path,
                          h.data_bytes);
    }
    if (!st && (fseek(h.f, (long)(8 + h.header_bytes), SEEK_SET) ||
                fread(data, 1, (size_t)h.data_bytes, h.f) !=
                    (size_t)h.data_bytes))
        st = vgg_fail(err, VGG_ERR_IO,
                      "%s: short read in the data section (%" PRIu64
                      " bytes expected)",
                      path, h.data_bytes);
    if (!st) {
        uint32_t crc = vgg_crc32(0, data, (size_t)h.data_bytes);
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
    free(order);
    header_close(&h);
    if (!st && meta)
        *meta = tmp;
    else
        vgg_ckpt_meta_free(&tmp);
    return st;
}

void vgg_ckpt_meta_free(vgg_ckpt_meta *meta) {
    if (!meta) return;
    free(meta->history);
    meta->history = NULL;
    meta->nhistory = 0;
}

vgg_status vgg_ckpt_meta_add_epoch(vgg_ckpt_meta *meta,
                                   const vgg_epoch_record *rec,
                                   vgg_error *err) {
    vgg_epoch_record *h =
        realloc(meta->history, sizeof *h * (size_t)(meta->nhistory + 1));
    if (!h)
        return vgg_fail(err, VGG_ERR_NOMEM, "cannot grow the epoch history");
    h[meta->nhistory++] = *rec;
    meta->history = h;
    return VGG_OK;
}
