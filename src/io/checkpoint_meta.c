/* A checkpoint's __metadata__: see checkpoint_meta.h. Every value is a
 * JSON string, as the safetensors format requires. */
#include "checkpoint_meta.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgg/augment.h"

/* ---- writing ---------------------------------------------------------- */

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

json_t *vgg_ckpt_meta_json(const vgg_ckpt_meta *meta, uint32_t crc) {
    json_t *o = json_object();
    if (!o) return NULL;
    char arch[VGG_MAX_LAYERS * 8 + 1];
    vgg_config_format(arch, sizeof arch, &meta->cfg);
    char names[VGG_MAX_CLASSES * VGG_CLASS_NAME_MAX + 16] = "";
    size_t k = 0;
    for (int c = 0; c < meta->cfg.classes && c < VGG_MAX_CLASSES; c++)
        k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", c ? "," : "",
                              meta->class_names[c]);
    json_t *hist = history_json(meta);
    char *hist_s = hist ? json_dumps(hist, JSON_COMPACT) : NULL;
    json_decref(hist);
    int bad = !hist_s;
    bad |= set_str(o, "format", VGG_CKPT_FORMAT);
    bad |= set_fmt(o, "version", "%d", VGG_CKPT_VERSION);
    bad |= set_str(o, "arch", arch);
    bad |= set_fmt(o, "side", "%d", meta->cfg.side);
    char head[32];
    vgg_config_format_head(head, sizeof head, &meta->cfg);
    bad |= set_str(o, "batch_norm", meta->cfg.no_bn ? "false" : "true");
    bad |= set_str(o, "head", head);
    bad |= set_fmt(o, "classes", "%d", meta->cfg.classes);
    bad |= set_str(o, "class_names", names);
    const int own = meta->std[0] > 0.0f;
    const float *mean = own ? meta->mean : vgg_cifar_mean;
    const float *std = own ? meta->std : vgg_cifar_std;
    bad |= set_fmt(o, "mean", "%.9g,%.9g,%.9g", mean[0], mean[1], mean[2]);
    bad |= set_fmt(o, "std", "%.9g,%.9g,%.9g", std[0], std[1], std[2]);
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

vgg_status vgg_ckpt_meta_check(const char *path, const vgg_model *m,
                               const vgg_ckpt_meta *meta, vgg_error *err) {
    if (!vgg_config_equal(&meta->cfg, &m->cfg))
        return vgg_fail(err, VGG_ERR_ARG,
                        "%s: the metadata's configuration differs from the "
                        "model's",
                        path);
    if (meta->cfg.classes > VGG_MAX_CLASSES)
        return vgg_fail(err, VGG_ERR_ARG,
                        "%s: %d classes; checkpoints hold at most %d", path,
                        meta->cfg.classes, VGG_MAX_CLASSES);
    for (int c = 0; c < 3 && meta->std[0] > 0.0f; c++)
        if (!(meta->std[c] > 0.0f) || !isfinite(meta->mean[c]) ||
            !isfinite(meta->std[c]))
            return vgg_fail(err, VGG_ERR_ARG,
                            "%s: normalisation of channel %d (mean %g, std "
                            "%g); expected finite numbers, std above 0",
                            path, c, (double)meta->mean[c],
                            (double)meta->std[c]);
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

/* ---- reading ---------------------------------------------------------- */

static vgg_status get_str(const char *path, json_t *md, const char *key,
                          const char **out, vgg_error *err) {
    json_t *v = json_object_get(md, key);
    if (!v)
        return vgg_fail(err, VGG_ERR_FORMAT, "%s: __metadata__ has no \"%s\"",
                        path, key);
    *out = json_string_value(v);
    return VGG_OK; /* every value was checked to be a string */
}

/* batch_norm and head, absent from files written before they existed
 * (which had batch norm and the linear head). */
static vgg_status read_family(const char *path, json_t *md, vgg_config *cfg,
                              vgg_error *err) {
    const char *s = NULL;
    vgg_error perr = {0};
    if (json_object_get(md, "batch_norm")) {
        get_str(path, md, "batch_norm", &s, err);
        if (strcmp(s, "true") && strcmp(s, "false"))
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: __metadata__ batch_norm = \"%.40s\": "
                            "expected true or false",
                            path, s);
        cfg->no_bn = !strcmp(s, "false");
    }
    if (json_object_get(md, "head")) {
        get_str(path, md, "head", &s, err);
        if (vgg_config_set_head(cfg, s, &perr))
            return vgg_fail(err, VGG_ERR_FORMAT, "%s: __metadata__ %s", path,
                            perr.msg);
    }
    return VGG_OK;
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

static vgg_status get_int(const char *path, json_t *md, const char *key, int lo,
                          int hi, int *out, vgg_error *err) {
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

static vgg_status parse_float(const char *path, const char *key, const char *s,
                              double lo, double hi, float *out, char **endp,
                              vgg_error *err) {
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
                            double lo, double hi, float *out, vgg_error *err) {
    const char *s = NULL;
    vgg_status st = get_str(path, md, key, &s, err);
    if (st) return st;
    return parse_float(path, key, s, lo, hi, out, NULL, err);
}

/* "a,b,c": three numbers within [lo, hi] into out. */
static vgg_status get_triple(const char *path, json_t *md, const char *key,
                             double lo, double hi, float *out, vgg_error *err) {
    const char *s = NULL;
    vgg_status st = get_str(path, md, key, &s, err);
    if (st) return st;
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        char *end = NULL;
        st = parse_float(path, key, p, lo, hi, &out[i], &end, err);
        if (st) return st;
        if (*end != (i < 2 ? ',' : '\0'))
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: __metadata__ %s = \"%.60s\": expected three "
                            "numbers separated by commas",
                            path, key, s);
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
                        "%s: __metadata__ history is not a JSON list%s%s", path,
                        a ? "" : ": ", a ? "" : je.text);
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

static vgg_status parse_meta(const char *path, json_t *md, uint64_t data_bytes,
                             vgg_ckpt_meta *meta, vgg_error *err) {
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
    if ((st =
             get_int(path, md, "classes", 2, VGG_MAX_CLASSES, &classes, err)) ||
        (st = get_int(path, md, "side", 8, 1024, &side, err)) ||
        (st = get_str(path, md, "arch", &s, err)))
        return st;
    vgg_error perr = {0};
    if (vgg_config_parse(&meta->cfg, s, classes, &perr))
        return vgg_fail(err, VGG_ERR_FORMAT, "%s: __metadata__ arch: %s", path,
                        perr.msg);
    meta->cfg.side = side; /* the pools' fit is checked with the size */
    if (meta->cfg.nlayers == 0)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: __metadata__ arch is empty; expected a table "
                        "such as \"64 64 M 128 M\"",
                        path);
    if ((st = read_family(path, md, &meta->cfg, err))) return st;
    /* the bytes the configuration implies, without allocating the model,
     * so that a file cannot make us build a model bigger than itself */
    vgg_arch *walk = malloc(sizeof *walk);
    if (!walk) return vgg_fail(err, VGG_ERR_NOMEM, "%s: out of memory", path);
    st = vgg_arch_walk(walk, &meta->cfg, &perr);
    uint64_t need = walk->data_bytes;
    free(walk);
    if (st)
        return vgg_fail(err, VGG_ERR_FORMAT, "%s: __metadata__ arch \"%s\": %s",
                        path, s, perr.msg);
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
    if ((st = get_triple(path, md, "mean", -1e3, 1e3, meta->mean, err)) ||
        (st = get_triple(path, md, "std", 1e-6, 1e3, meta->std, err)))
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

vgg_status vgg_ckpt_meta_parse(const char *path, json_t *md,
                               uint64_t data_bytes, vgg_ckpt_meta *meta,
                               uint32_t *crc, vgg_error *err) {
    vgg_status st = parse_meta(path, md, data_bytes, meta, err);
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
        *crc = (uint32_t)v;
    }
    if (st) vgg_ckpt_meta_free(meta);
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
