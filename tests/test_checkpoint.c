/* Checkpoints: round trip, every bad-file case the loader must refuse
 * (with a message naming the file and what differs, and the model left
 * untouched), atomic saving, and exact resume: 2 epochs + save + load + 2
 * epochs equals 4 epochs straight, bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "vgg/checkpoint.h"
#include "vgg/crc32.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/train.h"

#define ARCH "8 M 16 M"
#define CLASSES 3

static char dir[512];

static vgg_model *make_model(const char *arch, int classes, uint64_t seed) {
    vgg_config cfg;
    vgg_error err = {0};
    assert_int_equal(vgg_config_parse(&cfg, arch, classes, &err), VGG_OK);
    vgg_model *m = NULL;
    assert_int_equal(vgg_model_create(&m, &cfg, 16, &err), VGG_OK);
    vgg_rng r;
    vgg_rng_seed(&r, seed, 0);
    vgg_model_init(m, &r);
    /* Non-trivial momentum, statistics and counters, so the round trip
     * checks every arena. */
    tu_fill_uniform(m->momentum, m->nparams, -1, 1, &r);
    tu_fill_uniform(m->state, m->nstate, 0.5f, 2, &r);
    for (int i = 0; i < m->ntensors; i++)
        if (m->tensors[i].kind == VGG_TENSOR_COUNTER)
            m->counters[m->tensors[i].offset] = (int64_t)(seed * 1000 + i);
    return m;
}

static void make_meta(vgg_ckpt_meta *meta, const vgg_model *m) {
    static const char *names[] = {"airplane", "automobile", "bird", "cat"};
    memset(meta, 0, sizeof *meta);
    meta->cfg = m->cfg;
    for (int c = 0; c < m->cfg.classes; c++)
        strcpy(meta->class_names[c], names[c]);
    meta->epoch = 2;
    meta->seed = 12345678901234567ull;
    meta->rng.state = 0xfedcba9876543210ull;
    meta->rng.inc = 0x1234567890abcdefull | 1;
    meta->sgd = (vgg_sgd){0.01f, 0.9f, 5e-4f};
    vgg_schedule_init(&meta->sched, 0.01f);
    assert_int_equal(
        vgg_schedule_set(&meta->sched, "--lr-schedule", "step", NULL), VGG_OK);
    assert_int_equal(
        vgg_schedule_set(&meta->sched, "--lr-steps", "30,40", NULL), VGG_OK);
    assert_int_equal(vgg_schedule_set(&meta->sched, "--lr-gamma", "0.2", NULL),
                     VGG_OK);
    assert_int_equal(vgg_schedule_set(&meta->sched, "--warmup", "1", NULL),
                     VGG_OK);
    meta->batch_size = 16;
    meta->limit_train = 40;
    for (int e = 1; e <= 2; e++) {
        vgg_epoch_record r = {e,         0.01f,    1.5f / e, 0.4f * e,
                              1.25f / e, 0.3f * e, 2.5f,     1234.5f};
        assert_int_equal(vgg_ckpt_meta_add_epoch(meta, &r, NULL), VGG_OK);
    }
}

/* All of a model's saved state, for "unchanged" and "identical" checks. */
typedef struct snap {
    float *params, *momentum, *state;
    int64_t *counters;
    size_t np, ns, nc;
} snap;

static snap take(const vgg_model *m) {
    snap s = {0};
    s.np = m->nparams;
    s.ns = m->nstate;
    for (int i = 0; i < m->ntensors; i++)
        if (m->tensors[i].kind == VGG_TENSOR_COUNTER) s.nc++;
    s.params = malloc(s.np * 4);
    s.momentum = malloc(s.np * 4);
    s.state = malloc(s.ns * 4);
    s.counters = malloc(s.nc * 8);
    memcpy(s.params, m->params, s.np * 4);
    memcpy(s.momentum, m->momentum, s.np * 4);
    memcpy(s.state, m->state, s.ns * 4);
    memcpy(s.counters, m->counters, s.nc * 8);
    return s;
}

static int same(const snap *s, const vgg_model *m) {
    return !memcmp(s->params, m->params, s->np * 4) &&
           !memcmp(s->momentum, m->momentum, s->np * 4) &&
           !memcmp(s->state, m->state, s->ns * 4) &&
           !memcmp(s->counters, m->counters, s->nc * 8);
}

static void drop(snap *s) {
    free(s->params);
    free(s->momentum);
    free(s->state);
    free(s->counters);
}

static const char *path_of(const char *name) {
    static char p[4][700];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void save_good(const char *path, const char *arch, int classes) {
    vgg_model *m = make_model(arch, classes, 1);
    vgg_ckpt_meta meta;
    make_meta(&meta, m);
    vgg_error err = {0};
    vgg_status st = vgg_checkpoint_save(path, m, &meta, &err);
    if (st) fail_msg("%s", err.msg);
    vgg_ckpt_meta_free(&meta);
    vgg_model_free(m);
}

/* ---- raw file surgery ------------------------------------------------- */

typedef struct blob {
    uint8_t *b;
    size_t n;
} blob;

static blob slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    blob x = {NULL, (size_t)ftell(f)};
    rewind(f);
    x.b = malloc(x.n);
    assert_int_equal(fread(x.b, 1, x.n, f), x.n);
    fclose(f);
    return x;
}

static void spit(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static uint64_t hlen_of(const blob *x) {
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)x->b[i] << (8 * i);
    return n;
}

/* Rewrites path's JSON header through edit(), keeping the data section. */
static void edit_header(const char *path, void (*edit)(json_t *root)) {
    blob x = slurp(path);
    uint64_t n = hlen_of(&x);
    json_error_t je;
    json_t *root = json_loadb((const char *)x.b + 8, n, 0, &je);
    assert_non_null(root);
    edit(root);
    char *h = json_dumps(root, JSON_COMPACT);
    size_t hl = strlen(h), padded = (hl + 7) & ~(size_t)7;
    size_t data = x.n - 8 - n;
    uint8_t *out = malloc(8 + padded + data);
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    memcpy(out + 8, h, hl);
    memset(out + 8 + hl, ' ', padded - hl);
    memcpy(out + 8 + padded, x.b + 8 + n, data);
    spit(path, out, 8 + padded + data);
    free(out);
    free(h);
    json_decref(root);
    free(x.b);
}

static void set_offsets(json_t *root, const char *name, json_int_t b,
                        json_int_t e) {
    json_t *t = json_object_get(root, name);
    assert_non_null(t);
    json_object_set_new(t, "data_offsets", json_pack("[I,I]", b, e));
}

static json_int_t begin_of(json_t *root, const char *name) {
    return json_integer_value(json_array_get(
        json_object_get(json_object_get(root, name), "data_offsets"), 0));
}

static void edit_shape(json_t *root) {
    json_object_set_new(json_object_get(root, "conv1.0.weight"), "shape",
                        json_pack("[i,i,i,i]", 8, 3, 3, 1));
}
static void edit_dtype(json_t *root) {
    json_object_set_new(json_object_get(root, "conv2.1.running_var"), "dtype",
                        json_string("F16"));
}
static void edit_overlap(json_t *root) {
    /* conv1.0.bias (32 bytes) moved 16 bytes into conv1.0.weight. */
    json_int_t b = begin_of(root, "conv1.0.bias");
    set_offsets(root, "conv1.0.bias", b - 16, b + 16);
}
static void edit_span(json_t *root) {
    json_int_t b = begin_of(root, "optimizer.momentum.fc1.bias");
    set_offsets(root, "optimizer.momentum.fc1.bias", b, b + 8);
}
static void edit_out_of_range(json_t *root) {
    json_int_t b = begin_of(root, "fc1.bias");
    set_offsets(root, "fc1.bias", b + 1000000, b + 1000012);
}
static void edit_missing(json_t *root) {
    json_object_del(root, "optimizer.momentum.conv2.0.weight");
}
static void edit_unknown(json_t *root) {
    json_object_set_new(root, "conv9.0.weight",
                        json_pack("{s:s,s:[i],s:[i,i]}", "dtype", "F32",
                                  "shape", 1, "data_offsets", 0, 4));
}
static void edit_version(json_t *root) {
    json_object_set_new(json_object_get(root, "__metadata__"), "version",
                        json_string("7"));
}
static void edit_rng(json_t *root) {
    json_object_set_new(json_object_get(root, "__metadata__"), "rng_inc",
                        json_string("12x"));
}

/* A JSON number that is no float (a fuzzer's find: it loaded as inf and
 * then would not save again). */
static void edit_history_huge(json_t *root) {
    json_object_set_new(
        json_object_get(root, "__metadata__"), "history",
        json_string("[{\"epoch\":1,\"lr\":0.01,\"train_loss\":1,"
                    "\"train_acc\":0.5,\"test_loss\":1e39,\"test_acc\":0.5,"
                    "\"seconds\":1,\"images_per_second\":1}]"));
}

static void edit_no_schedule(json_t *root) { /* a file from before it */
    json_t *md = json_object_get(root, "__metadata__");
    const char *keys[] = {"lr_schedule", "lr_steps", "lr_gamma", "lr_min",
                          "lr_warmup"};
    for (int i = 0; i < 5; i++) json_object_del(md, keys[i]);
}
static void edit_schedule_kind(json_t *root) {
    json_object_set_new(json_object_get(root, "__metadata__"), "lr_schedule",
                        json_string("linear"));
}
static void edit_schedule_steps(json_t *root) {
    json_object_del(json_object_get(root, "__metadata__"), "lr_steps");
}

/* Loads path into a fresh model (seed 2, so different from the file) and
 * checks the refusal: status, the path and each needle in the message, and
 * the model untouched. */
static void expect_refusal(const char *path, const char *arch, int classes,
                           const char *n1, const char *n2, const char *n3) {
    vgg_model *m = make_model(arch, classes, 2);
    snap before = take(m);
    vgg_error err = {0};
    vgg_ckpt_meta meta;
    vgg_status st = vgg_checkpoint_load(path, m, &meta, &err);
    print_message("  refused: %s\n", err.msg);
    assert_int_not_equal(st, VGG_OK);
    assert_int_equal(err.status, st);
    assert_non_null(strstr(err.msg, path));
    const char *needles[3] = {n1, n2, n3};
    for (int i = 0; i < 3; i++)
        if (needles[i] && !strstr(err.msg, needles[i]))
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, needles[i]);
    assert_true(same(&before, m));
    drop(&before);
    vgg_model_free(m);
}

/* A good checkpoint with its header edited by `edit` is refused, with
 * the message expect_refusal looks for. */
static void expect_edit_refused(const char *path, void (*edit)(json_t *root),
                                const char *a, const char *b, const char *c) {
    save_good(path, ARCH, CLASSES);
    edit_header(path, edit);
    expect_refusal(path, ARCH, CLASSES, a, b, c);
}

/* ---- tests ------------------------------------------------------------ */

static void test_round_trip(void **state) {
    (void)state;
    const char *path = path_of("round.bin");
    vgg_model *a = make_model(ARCH, CLASSES, 1);
    vgg_ckpt_meta meta, got, hdr;
    make_meta(&meta, a);
    vgg_error err = {0};
    assert_int_equal(vgg_checkpoint_save(path, a, &meta, &err), VGG_OK);

    /* Header padding: 8 + N is a multiple of 8. */
    blob x = slurp(path);
    assert_int_equal(hlen_of(&x) % 8, 0);
    free(x.b);

    assert_int_equal(vgg_checkpoint_read_meta(path, &hdr, &err), VGG_OK);
    assert_int_equal(hdr.cfg.nlayers, a->cfg.nlayers);
    assert_memory_equal(hdr.cfg.layers, a->cfg.layers,
                        sizeof(int) * (size_t)a->cfg.nlayers);
    vgg_ckpt_meta_free(&hdr);

    vgg_model *b = make_model(ARCH, CLASSES, 2);
    snap sa = take(a);
    assert_false(same(&sa, b));
    vgg_status st = vgg_checkpoint_load(path, b, &got, &err);
    if (st) fail_msg("%s", err.msg);
    assert_true(same(&sa, b));
    assert_int_equal(got.cfg.classes, CLASSES);
    assert_string_equal(got.class_names[2], "bird");
    assert_int_equal(got.epoch, 2);
    assert_true(got.seed == meta.seed);
    assert_true(got.rng.state == meta.rng.state);
    assert_true(got.rng.inc == meta.rng.inc);
    assert_true(got.sgd.lr == meta.sgd.lr);
    assert_true(got.sgd.momentum == meta.sgd.momentum);
    assert_true(got.sgd.weight_decay == meta.sgd.weight_decay);
    assert_int_equal(got.sched.kind, VGG_LR_STEP);
    assert_int_equal(got.sched.nsteps, 2);
    assert_int_equal(got.sched.steps[0], 30);
    assert_int_equal(got.sched.steps[1], 40);
    assert_true(got.sched.gamma == 0.2f);
    assert_true(got.sched.min_lr == 0.0f);
    assert_int_equal(got.sched.warmup, 1);
    assert_true(got.sched.base_lr == meta.sgd.lr);
    assert_int_equal(got.batch_size, 16);
    assert_int_equal(got.limit_train, 40);
    assert_int_equal(got.nhistory, 2);
    assert_memory_equal(got.history, meta.history,
                        sizeof(vgg_epoch_record) * 2);
    drop(&sa);
    vgg_ckpt_meta_free(&got);
    vgg_ckpt_meta_free(&meta);
    vgg_model_free(a);
    vgg_model_free(b);

    /* No temporary left behind. */
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d))) assert_null(strstr(de->d_name, ".tmp-"));
    closedir(d);
}

static void test_truncated(void **state) {
    (void)state;
    const char *path = path_of("trunc.bin");
    save_good(path, ARCH, CLASSES);
    blob x = slurp(path);
    spit(path, x.b, x.n - 100);
    expect_refusal(path, ARCH, CLASSES, "truncated", "bytes of tensor data",
                   NULL);
    spit(path, x.b, 20); /* inside the header */
    expect_refusal(path, ARCH, CLASSES, "runs past the end", "truncated", NULL);
    spit(path, x.b, 5);
    expect_refusal(path, ARCH, CLASSES, "8-byte header length", NULL, NULL);
    free(x.b);
}

static void test_header_length(void **state) {
    (void)state;
    const char *path = path_of("hlen.bin");
    save_good(path, ARCH, CLASSES);
    blob x = slurp(path);
    uint64_t big = x.n; /* one past what the file can hold */
    for (int i = 0; i < 8; i++) x.b[i] = (uint8_t)(big >> (8 * i));
    spit(path, x.b, x.n);
    expect_refusal(path, ARCH, CLASSES, "runs past the end", NULL, NULL);
    big = 1ull << 40; /* beyond the sane maximum: never allocated */
    for (int i = 0; i < 8; i++) x.b[i] = (uint8_t)(big >> (8 * i));
    spit(path, x.b, x.n);
    expect_refusal(path, ARCH, CLASSES, "header length 1099511627776",
                   "expected 2 to", NULL);
    free(x.b);
}

static void test_garbage_json(void **state) {
    (void)state;
    const char *path = path_of("garbage.bin");
    save_good(path, ARCH, CLASSES);
    blob x = slurp(path);
    const char junk[] = "{\"__metadata__\": [1, 2,";
    memcpy(x.b + 8, junk, sizeof junk - 1);
    spit(path, x.b, x.n);
    expect_refusal(path, ARCH, CLASSES, "not valid JSON", NULL, NULL);
    /* Arbitrary bytes. */
    vgg_rng r;
    vgg_rng_seed(&r, 5, 5);
    for (size_t i = 0; i < x.n; i++) x.b[i] = (uint8_t)vgg_rng_u32(&r);
    spit(path, x.b, x.n);
    expect_refusal(path, ARCH, CLASSES, NULL, NULL, NULL);
    free(x.b);
}

static void test_wrong_shape(void **state) {
    (void)state;
    const char *path = path_of("shape.bin");
    expect_edit_refused(path, edit_shape, "conv1.0.weight", "[8,3,3,1]",
                        "expects [8,3,3,3]");
    expect_edit_refused(path, edit_dtype, "conv2.1.running_var", "dtype F16",
                        "expected F32");
}

static void test_wrong_classes_and_arch(void **state) {
    (void)state;
    const char *path = path_of("classes.bin");
    save_good(path, ARCH, 4);
    expect_refusal(path, ARCH, CLASSES, "checkpoint has 4 classes",
                   "the model has 3", NULL);
    save_good(path, "8 M 8 M", CLASSES);
    expect_refusal(path, ARCH, CLASSES, "\"8 M 8 M\"", "\"8 M 16 M\"", NULL);
}

static void test_offsets(void **state) {
    (void)state;
    const char *path = path_of("offsets.bin");
    expect_edit_refused(path, edit_overlap, "conv1.0.weight", "conv1.0.bias",
                        "overlap");
    expect_edit_refused(path, edit_out_of_range, "fc1.bias",
                        "run past the data section", NULL);
    expect_edit_refused(path, edit_span, "optimizer.momentum.fc1.bias",
                        "span 8 bytes", "needs 12");
}

static void test_missing_unknown(void **state) {
    (void)state;
    const char *path = path_of("names.bin");
    expect_edit_refused(path, edit_missing, "optimizer.momentum.conv2.0.weight",
                        "missing", NULL);
    expect_edit_refused(path, edit_unknown, "conv9.0.weight", "not part", NULL);
    expect_edit_refused(path, edit_version, "version 7", NULL, NULL);
    expect_edit_refused(path, edit_rng, "rng_inc", "12x", NULL);
}

static void test_bad_checksum(void **state) {
    (void)state;
    const char *path = path_of("crc.bin");
    save_good(path, ARCH, CLASSES);
    blob x = slurp(path);
    x.b[x.n - 3] ^= 0x10;
    spit(path, x.b, x.n);
    expect_refusal(path, ARCH, CLASSES, "checksum mismatch", "damaged", NULL);
    free(x.b);
}

static void test_save_failure(void **state) {
    (void)state;
    const char *good = path_of("keep.bin");
    save_good(good, ARCH, CLASSES);
    blob before = slurp(good);
    vgg_model *m = make_model(ARCH, CLASSES, 3);
    vgg_ckpt_meta meta;
    make_meta(&meta, m);
    vgg_error err = {0};
    const char *bad = path_of("no-such-folder/model.bin");
    assert_int_equal(vgg_checkpoint_save(bad, m, &meta, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "No such file"));
    /* A folder where the file should be: refused, nothing created. */
    const char *isdir = path_of("adir");
    mkdir(isdir, 0755);
    char inner[800];
    snprintf(inner, sizeof inner, "%s/x", isdir);
    spit(inner, "x", 1);
    assert_int_equal(vgg_checkpoint_save(isdir, m, &meta, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "adir"));
    assert_non_null(strstr(err.msg, "is a folder"));
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d))) assert_null(strstr(de->d_name, ".tmp-"));
    closedir(d);
    blob after = slurp(good);
    assert_int_equal(before.n, after.n);
    assert_memory_equal(before.b, after.b, before.n);
    free(before.b);
    free(after.b);
    vgg_ckpt_meta_free(&meta);
    vgg_model_free(m);
}

/* Every history number must be a finite float, read or written: a file
 * that loads saves again. */
static void test_history_finite(void **state) {
    (void)state;
    const char *path = path_of("hist.bin");
    expect_edit_refused(path, edit_history_huge, "history entry 0",
                        "test_loss = 1e+39", "finite single-precision");
    vgg_model *m = make_model(ARCH, CLASSES, 3);
    vgg_ckpt_meta meta;
    make_meta(&meta, m);
    meta.history[1].test_loss = INFINITY;
    vgg_error err = {0};
    const char *np = path_of("never2.bin");
    assert_int_equal(vgg_checkpoint_save(np, m, &meta, &err), VGG_ERR_ARG);
    print_message("  refused: %s\n", err.msg);
    assert_non_null(strstr(err.msg, np));
    assert_non_null(strstr(err.msg, "entry 1 (epoch 2)"));
    assert_int_equal(access(np, F_OK), -1);
    vgg_ckpt_meta_free(&meta);
    vgg_model_free(m);
}

/* The learning-rate schedule: a file without it (written before it was
 * stored) reads as constant; a bad one is refused naming the key; a
 * schedule that would not read back is not saved. */
static void test_schedule(void **state) {
    (void)state;
    const char *path = path_of("sched.bin");
    save_good(path, ARCH, CLASSES);
    edit_header(path, edit_no_schedule);
    vgg_ckpt_meta got;
    vgg_error err = {0};
    vgg_status st = vgg_checkpoint_read_meta(path, &got, &err);
    if (st) fail_msg("%s", err.msg);
    assert_int_equal(got.sched.kind, VGG_LR_CONSTANT);
    assert_int_equal(got.sched.nsteps, 0);
    assert_int_equal(got.sched.warmup, 0);
    assert_true(got.sched.base_lr == got.sgd.lr);
    vgg_ckpt_meta_free(&got);

    expect_edit_refused(path, edit_schedule_kind, "__metadata__ lr_schedule",
                        "linear", "expected constant, step or cosine");
    expect_edit_refused(path, edit_schedule_steps, "__metadata__ lr_schedule",
                        "needs --lr-steps", NULL);

    vgg_model *m = make_model(ARCH, CLASSES, 3);
    vgg_ckpt_meta meta;
    make_meta(&meta, m);
    memset(&meta.sched, 0, sizeof meta.sched); /* gamma 0: not a schedule */
    const char *np = path_of("never.bin");
    assert_int_equal(vgg_checkpoint_save(np, m, &meta, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, np));
    assert_non_null(strstr(err.msg, "learning-rate schedule"));
    assert_int_equal(access(np, F_OK), -1);
    vgg_ckpt_meta_free(&meta);
    vgg_model_free(m);
}

/* ---- exact resume ----------------------------------------------------- */

static void run_epochs(vgg_model *m, const vgg_dataset *ds, vgg_rng *rng,
                       int n) {
    vgg_sgd sgd = {0.05f, 0.9f, 5e-4f};
    for (int e = 0; e < n; e++) {
        vgg_epoch_stats st;
        vgg_error err = {0};
        if (vgg_train_epoch(m, ds, 16, &sgd, rng, &st, NULL, NULL, &err))
            fail_msg("%s", err.msg);
    }
}

static void test_resume_exact(void **state) {
    (void)state;
    char data[700];
    snprintf(data, sizeof data, "%s/data", dir);
    mkdir(data, 0755);
    assert_int_equal(tu_write_cifar_dir(data, 8, 6, CLASSES), 0);
    vgg_dataset train, test;
    vgg_cifar_options opt = {data, CLASSES, 0, 0};
    vgg_error err = {0};
    assert_int_equal(vgg_cifar_load(&train, &test, &opt, &err), VGG_OK);
    assert_int_equal(train.n, 40); /* 3 batches of 16, the last of 8 */

    vgg_config cfg;
    assert_int_equal(vgg_config_parse(&cfg, ARCH, CLASSES, &err), VGG_OK);

    /* 4 epochs straight. */
    vgg_model *a;
    assert_int_equal(vgg_model_create(&a, &cfg, 16, &err), VGG_OK);
    vgg_rng ra;
    vgg_rng_seed(&ra, 42, 0);
    vgg_model_init(a, &ra);
    run_epochs(a, &train, &ra, 4);

    /* 2 epochs, save, forget everything, load, 2 more. */
    const char *path = path_of("resume.bin");
    {
        vgg_model *b;
        assert_int_equal(vgg_model_create(&b, &cfg, 16, &err), VGG_OK);
        vgg_rng rb;
        vgg_rng_seed(&rb, 42, 0);
        vgg_model_init(b, &rb);
        run_epochs(b, &train, &rb, 2);
        vgg_ckpt_meta meta;
        memset(&meta, 0, sizeof meta);
        meta.cfg = cfg;
        for (int c = 0; c < CLASSES; c++)
            strcpy(meta.class_names[c], train.class_names[c]);
        meta.epoch = 2;
        meta.seed = 42;
        meta.rng = rb;
        meta.sgd = (vgg_sgd){0.05f, 0.9f, 5e-4f};
        vgg_schedule_init(&meta.sched, 0.05f);
        meta.batch_size = 16;
        assert_int_equal(vgg_checkpoint_save(path, b, &meta, &err), VGG_OK);
        vgg_model_free(b);
    }
    vgg_model *c;
    assert_int_equal(vgg_model_create(&c, &cfg, 16, &err), VGG_OK);
    vgg_ckpt_meta got;
    if (vgg_checkpoint_load(path, c, &got, &err)) fail_msg("%s", err.msg);
    vgg_rng rc = got.rng;
    run_epochs(c, &train, &rc, 2);

    snap sa = take(a);
    assert_true(same(&sa, c)); /* params, momentum, BN stats, counters */
    assert_true(rc.state == ra.state && rc.inc == ra.inc);
    assert_int_equal(*c->layers[0].nbt, 4 * 3);
    drop(&sa);
    vgg_ckpt_meta_free(&got);
    vgg_model_free(a);
    vgg_model_free(c);
    vgg_dataset_free(&train);
    vgg_dataset_free(&test);
}

static void test_crc32(void **state) {
    (void)state;
    /* The standard check value, and chunking does not matter. */
    assert_int_equal(vgg_crc32(0, "123456789", 9), 0xCBF43926u);
    uint32_t c = vgg_crc32(0, "1234", 4);
    assert_int_equal(vgg_crc32(c, "56789", 5), 0xCBF43926u);
}

int main(void) {
    vgg_set_threads(1);
    const char *d = tu_tmpdir("ckpt");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_header_length),
        cmocka_unit_test(test_garbage_json),
        cmocka_unit_test(test_wrong_shape),
        cmocka_unit_test(test_wrong_classes_and_arch),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_missing_unknown),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_save_failure),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_history_finite),
        cmocka_unit_test(test_resume_exact),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd)) rc = rc ? rc : 0;
    }
    return rc;
}
