/* Image-folder trees made in the test: PNGs and JPEGs of several sizes and
 * kinds, sorted class names, files chosen by bytes, skipped files, the
 * seeded --val-split, layout detection, class choice on a folder, the
 * statistics, and every bad tree with its message. */
#include <dirent.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "util_jpeg.h"
#include "util_pix.h"
#include "vgg/augment.h"
#include "vgg/data.h"
#include "vgg/dataset.h"
#include "vgg/image.h"
#include "vgg/imagefolder.h"

static char root[512];

static const char *at(const char *fmt, ...) {
    static char path[4][1024];
    static int k;
    char rel[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", root, rel);
    return path[k];
}

static void mkdirs(const char *path) {
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

/* A flat w x h image of colour (v, 255 - v, v / 2) as kind: 0 RGB PNG,
 * 1 JPEG, 2 grey PNG (v), 3 palette PNG, 4 RGBA 16-bit PNG, 5 grey JPEG. */
static void put_image(const char *path, int kind, int w, int h, int v) {
    uint8_t *px = malloc((size_t)w * h * 8);
    int r = v, g = 255 - v, b = v / 2;
    for (int i = 0; i < w * h; i++) {
        uint8_t *p3 = px + 3 * i, *p8 = px + 8 * i;
        switch (kind) {
        case 0:
        case 1:
            p3[0] = (uint8_t)r, p3[1] = (uint8_t)g, p3[2] = (uint8_t)b;
            break;
        case 2:
        case 5:
            px[i] = (uint8_t)v;
            break;
        case 3:
            px[i] = 1;
            break;
        case 4:
            p8[0] = p8[1] = (uint8_t)r, p8[2] = p8[3] = (uint8_t)g;
            p8[4] = p8[5] = (uint8_t)b, p8[6] = p8[7] = 0x80;
            break;
        }
    }
    uint8_t pal[6] = {0, 0, 0, (uint8_t)r, (uint8_t)g, (uint8_t)b};
    int rc = 0;
    switch (kind) {
    case 0:
        rc = tp_write_png(path, w, h, PNG_COLOR_TYPE_RGB, 8, px, NULL, 0, 0);
        break;
    case 1:
        rc = tj_write_jpeg(path, w, h, 3, px, 98, 0);
        break;
    case 2:
        rc = tp_write_png(path, w, h, PNG_COLOR_TYPE_GRAY, 8, px, NULL, 0, 0);
        break;
    case 3:
        rc = tp_write_png(path, w, h, PNG_COLOR_TYPE_PALETTE, 8, px, pal, 2, 0);
        break;
    case 4:
        rc = tp_write_png(path, w, h, PNG_COLOR_TYPE_RGBA, 16, px, NULL, 0, 0);
        break;
    case 5:
        rc = tj_write_jpeg(path, w, h, 1, px, 98, 0);
        break;
    }
    assert_int_equal(rc, 0);
    free(px);
}

/* tree/{train,test}/{dog,cat,bird}: per class, images of every kind and
 * several sizes; class c has colour value 40 + 80 c. */
static const char *make_tree(const char *name, int per_class) {
    static const char *const cls[] = {"dog", "cat", "bird"};
    static const int sizes[][2] = {{32, 32},   {64, 48}, {17, 40},
                                   {100, 100}, {2, 2},   {33, 31}};
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 3; c++) {
            const char *d = at("%s/%s/%s", name, s ? "test" : "train", cls[c]);
            mkdirs(d);
            for (int i = 0; i < per_class; i++) {
                int kind = (i + c) % 6;
                const int *sz = sizes[(i + 2 * c) % 6];
                char file[1024];
                snprintf(file, sizeof file, "%s/%03d.%s", d, i,
                         kind == 1 || kind == 5 ? "jpg" : "png");
                put_image(file, kind, sz[0], sz[1], 40 + 80 * c);
            }
        }
    return at("%s", name);
}

typedef struct seen {
    int calls, last_done, last_total, bad;
    char last_bad[1024];
} seen;

static void on_progress(void *user, int done, int total) {
    seen *s = user;
    assert_true(done >= s->last_done);
    s->calls++;
    s->last_done = done;
    s->last_total = total;
}

static void on_bad(void *user, const char *msg) {
    seen *s = user;
    s->bad++;
    snprintf(s->last_bad, sizeof s->last_bad, "%s", msg);
}

static vgg_status load(const char *dir, int side, double val, uint64_t seed,
                       int skip, vgg_dataset *tr, vgg_dataset *te,
                       vgg_folder_report *rep, seen *s, vgg_error *err) {
    vgg_folder_options o = {0};
    o.dir = dir;
    o.side = side;
    o.val_split = val;
    o.seed = seed;
    o.skip_bad = skip;
    o.progress = on_progress;
    o.on_bad = on_bad;
    o.user = s;
    s->last_done = 0;
    return vgg_folder_load(tr, te, &o, rep, err);
}

static void test_tree(void **state) {
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", make_tree("tree", 7));
    /* files that are not images: skipped and counted */
    assert_int_equal(tp_write_file(at("tree/train/cat/README.txt"), "hi", 2),
                     0);
    assert_int_equal(tp_write_file(at("tree/train/cat/.DS_Store"), "x", 1), 0);
    mkdirs(at("tree/train/dog/sub"));
    /* names with spaces and non-ASCII bytes, and a PNG named .jpeg */
    put_image(at("tree/train/dog/a b \xc3\xa9\xff.png"), 0, 8, 8, 40 + 80 * 0);
    put_image(at("tree/test/bird/really png.jpeg"), 0, 8, 8, 40 + 80 * 2);
    for (int side = 32; side <= 64; side += 32) {
        vgg_dataset tr, te;
        vgg_folder_report rep;
        seen s = {0};
        vgg_error err = {0};
        vgg_status st = load(dir, side, 0, 0, 0, &tr, &te, &rep, &s, &err);
        if (st) fprintf(stderr, "%s\n", err.msg);
        assert_int_equal(st, VGG_OK);
        assert_int_equal(tr.n, 22);
        assert_int_equal(te.n, 22);
        assert_int_equal(rep.skipped, 3); /* README, .DS_Store, sub/ */
        assert_int_equal(rep.bad, 0);
        assert_int_equal(rep.two_splits, 1);
        assert_true(rep.resized > 0);
        assert_int_equal(tr.side, side);
        assert_int_equal(tr.num_classes, 3);
        /* sorted as torchvision: bird, cat, dog */
        assert_string_equal(tr.class_names[0], "bird");
        assert_string_equal(tr.class_names[1], "cat");
        assert_string_equal(te.class_names[2], "dog");
        /* every file in a class folder is read: 44 images, 2 others */
        assert_int_equal(s.last_done, 46);
        assert_int_equal(s.last_total, 46);
        assert_int_equal(rep.files, 46);
        assert_int_equal(rep.images, 44);
        /* class, then file-name order: the first training images are
         * bird's; every image is flat in its class's colour (grey kinds:
         * v in all three planes) */
        assert_int_equal(tr.labels[0], 0);
        assert_int_equal(tr.labels[tr.n - 1], 2);
        size_t plane = (size_t)side * side;
        for (int i = 0; i < tr.n; i++) {
            int c = tr.labels[i];
            int v = 40 + 80 * (c == 0 ? 2 : c == 1 ? 1 : 0);
            const uint8_t *p = tr.pixels + (size_t)i * 3 * plane;
            int r = p[plane / 2 + side / 2], g = p[plane + plane / 2];
            assert_true(abs(r - v) <= 3);
            assert_true(abs(g - (255 - v)) <= 3 || abs(g - v) <= 3);
        }
        vgg_dataset_free(&tr);
        vgg_dataset_free(&te);
    }
    vgg_layout lay;
    vgg_error err = {0};
    assert_int_equal(vgg_layout_detect(dir, &lay, &err), VGG_OK);
    assert_int_equal(lay, VGG_LAYOUT_FOLDER);
    mkdirs(at("nothing"));
    assert_int_equal(vgg_layout_detect(at("nothing"), &lay, &err),
                     VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "no data found"));
}

static void test_choose_and_stats(void **state) {
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", make_tree("choose", 4));
    vgg_dataset tr, te;
    vgg_folder_report rep;
    seen s = {0};
    vgg_error err = {0};
    assert_int_equal(load(dir, 32, 0, 0, 0, &tr, &te, &rep, &s, &err), VGG_OK);
    /* --class-names dog,bird: dog becomes 0, bird 1, cat dropped */
    assert_int_equal(vgg_dataset_choose(&tr, &te, 0, "dog,bird", &err), VGG_OK);
    assert_int_equal(tr.num_classes, 2);
    assert_int_equal(tr.n, 8);
    assert_string_equal(tr.class_names[0], "dog");
    assert_string_equal(te.class_names[1], "bird");
    for (int i = 0; i < tr.n; i++) {
        int v = tr.pixels[(size_t)i * 3072 + 500];
        assert_true(abs(v - (tr.labels[i] == 0 ? 40 : 200)) <= 3);
    }
    assert_int_equal(vgg_dataset_choose(&tr, &te, 0, "dog,cat", &err),
                     VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "unknown class 'cat'"));
    assert_int_equal(vgg_dataset_choose(&tr, &te, 3, NULL, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--classes 3"));
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);

    /* statistics by hand: two 2x2 images; R: 0 0 0 0 | 255 255 255 255 ->
     * mean 0.5, std 0.5; G: 51 everywhere -> mean 0.2, flat (std 1); B:
     * 0 255 0 255 twice -> mean 0.5, std 0.5 */
    vgg_dataset ds = {0};
    uint8_t px[2 * 12];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            px[i * 12 + j] = i ? 255 : 0;
            px[i * 12 + 4 + j] = 51;
            px[i * 12 + 8 + j] = j % 2 ? 255 : 0;
        }
    ds.n = 2;
    ds.side = 2;
    ds.pixels = px;
    float mean[3], sd[3];
    vgg_dataset_stats(&ds, mean, sd);
    assert_float_equal(mean[0], 0.5, 1e-6);
    assert_float_equal(sd[0], 0.5, 1e-6);
    assert_float_equal(mean[1], 0.2, 1e-6);
    assert_float_equal(sd[1], 1.0, 1e-6);
    assert_float_equal(mean[2], 0.5, 1e-6);
    assert_float_equal(sd[2], 0.5, 1e-6);
    /* 0, 51, 102 in one channel: mean 51/255 = 0.2, std sqrt(2/3)*51/255 */
    px[0] = 0, px[1] = 51, px[2] = 102, px[3] = 51;
    ds.n = 1;
    vgg_dataset_stats(&ds, mean, sd);
    assert_float_equal(mean[0], 0.2, 1e-6);
    assert_float_equal(sd[0], sqrt(0.5) * 51 / 255, 1e-6);
}

static void test_val_split(void **state) {
    (void)state;
    static const char *const cls[] = {"b", "a"};
    for (int c = 0; c < 2; c++) {
        mkdirs(at("flat/%s", cls[c]));
        for (int i = 0; i < 10; i++)
            put_image(at("flat/%s/%d.png", cls[c], i), 0, 4, 4, 10 * i + c);
    }
    vgg_dataset tr, te, tr2, te2;
    vgg_folder_report rep;
    seen s = {0};
    vgg_error err = {0};
    assert_int_equal(load(at("flat"), 32, 0, 0, 0, &tr, &te, &rep, &s, &err),
                     VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--val-split"));
    assert_int_equal(load(at("flat"), 32, 0.2, 7, 0, &tr, &te, &rep, &s, &err),
                     VGG_OK);
    assert_int_equal(rep.two_splits, 0);
    assert_int_equal(tr.n, 16);
    assert_int_equal(te.n, 4);
    assert_string_equal(tr.class_names[0], "a");
    int tcount[2] = {0};
    for (int i = 0; i < te.n; i++) tcount[te.labels[i]]++;
    assert_int_equal(tcount[0], 2);
    assert_int_equal(tcount[1], 2);
    /* no image in both splits: pixel value identifies the file */
    for (int i = 0; i < te.n; i++)
        for (int k = 0; k < tr.n; k++)
            assert_true(te.pixels[(size_t)i * 3072] !=
                        tr.pixels[(size_t)k * 3072]);
    /* the same seed draws the same split; another seed another one */
    assert_int_equal(
        load(at("flat"), 32, 0.2, 7, 0, &tr2, &te2, &rep, &s, &err), VGG_OK);
    assert_memory_equal(te.pixels, te2.pixels, (size_t)te.n * 3072);
    vgg_dataset_free(&tr2);
    vgg_dataset_free(&te2);
    int differ = 0;
    for (uint64_t seed = 8; seed < 12 && !differ; seed++) {
        assert_int_equal(
            load(at("flat"), 32, 0.2, seed, 0, &tr2, &te2, &rep, &s, &err),
            VGG_OK);
        differ = memcmp(te.pixels, te2.pixels, (size_t)te.n * 3072) != 0;
        vgg_dataset_free(&tr2);
        vgg_dataset_free(&te2);
    }
    assert_true(differ);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
    /* --val-split on a tree that has its splits */
    assert_int_equal(
        load(make_tree("split2", 1), 32, 0.2, 7, 0, &tr, &te, &rep, &s, &err),
        VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "drop --val-split"));
}

/* Loads dir and expects st with a message holding every string given. */
static void expect_fail(const char *dir, int skip, const char *a,
                        const char *b) {
    vgg_dataset tr, te;
    vgg_folder_report rep;
    seen s = {0};
    vgg_error err = {0};
    vgg_status st = load(dir, 32, 0, 0, skip, &tr, &te, &rep, &s, &err);
    if (st == VGG_OK || !strstr(err.msg, a) || (b && !strstr(err.msg, b)))
        fprintf(stderr, "%s: got %d: %s\n", dir, st, err.msg);
    assert_int_not_equal(st, VGG_OK);
    assert_non_null(strstr(err.msg, a));
    if (b) assert_non_null(strstr(err.msg, b));
    assert_null(tr.pixels);
    assert_null(te.labels);
}

static void test_bad_trees(void **state) {
    (void)state;
    /* an empty class folder */
    make_tree("empty", 1);
    mkdirs(at("empty/train/zebra"));
    mkdirs(at("empty/test/zebra"));
    expect_fail(at("empty"), 0, at("empty/train/zebra"), "empty class folder");
    /* a class the other split lacks */
    make_tree("lacks", 1);
    mkdirs(at("lacks/train/zebra"));
    put_image(at("lacks/train/zebra/1.png"), 0, 4, 4, 1);
    expect_fail(at("lacks"), 0, "class 'zebra' has no folder in",
                at("lacks/test"));
    /* one class */
    mkdirs(at("one/train/cat"));
    mkdirs(at("one/test/cat"));
    put_image(at("one/train/cat/1.png"), 0, 4, 4, 1);
    put_image(at("one/test/cat/1.png"), 0, 4, 4, 1);
    expect_fail(at("one"), 0, "one class folder ('cat')", "at least 2");
    /* bad images: an error naming the file, or skipped and counted */
    static const char *const bad[] = {"truncated.png", "text.jpg", "one.png",
                                      "loop.jpg"};
    for (int k = 0; k < 4; k++) {
        char name[64];
        snprintf(name, sizeof name, "bad%d", k);
        make_tree(name, 2);
        const char *p = at("%s/train/cat/%s", name, bad[k]);
        if (k == 0) {
            put_image(p, 0, 20, 20, 9);
            assert_int_equal(truncate(p, 60), 0);
        } else if (k == 1) {
            assert_int_equal(tp_write_file(p, "not an image\n", 13), 0);
        } else if (k == 2) {
            put_image(p, 0, 1, 1, 9);
        } else {
            assert_int_equal(symlink(bad[k], p), 0);
        }
        static const char *const why[] = {"damaged", "named as an image",
                                          "1x1 pixels", "symbolic-link loop"};
        expect_fail(at("%s", name), 0, p, why[k]);
        expect_fail(at("%s", name), 0, "--skip-bad-images", NULL);
        vgg_dataset tr, te;
        vgg_folder_report rep;
        seen s = {0};
        vgg_error err = {0};
        assert_int_equal(
            load(at("%s", name), 32, 0, 0, 1, &tr, &te, &rep, &s, &err),
            VGG_OK);
        assert_int_equal(rep.bad, 1);
        assert_int_equal(s.bad, 1);
        assert_non_null(strstr(s.last_bad, p));
        assert_non_null(strstr(s.last_bad, why[k]));
        assert_int_equal(tr.n, 6);
        vgg_dataset_free(&tr);
        vgg_dataset_free(&te);
    }
    /* a class whose only images are bad is refused even when skipping */
    make_tree("allbad", 1);
    assert_int_equal(truncate(at("allbad/test/dog/000.png"), 30) == 0 ||
                         truncate(at("allbad/test/dog/000.jpg"), 30) == 0,
                     1);
    expect_fail(at("allbad"), 1, "class 'dog' has no usable images",
                "test split");
    /* a FIFO named as an image: refused, not waited on */
    make_tree("fifo", 1);
    assert_int_equal(mkfifo(at("fifo/train/cat/pipe.png"), 0600), 0);
    expect_fail(at("fifo"), 0, at("fifo/train/cat/pipe.png"),
                "not a regular file");
    /* an unreadable file (root reads everything: then only the rest) */
    make_tree("unreadable", 1);
    const char *p = at("unreadable/train/cat/locked.png");
    put_image(p, 0, 4, 4, 1);
    chmod(p, 0);
    if (geteuid() != 0)
        expect_fail(at("unreadable"), 0, p, "Permission denied");
    else
        fprintf(stderr, "unreadable file: skipped (running as root)\n");
    /* no splits and no --val-split, and a missing folder */
    expect_fail(at("nothing-here"), 0, "nothing-here", "cannot open");
}

/* Augmentation at 64x64: padding 8, crops 0..16, the set's own
 * normalisation; side 32 draws as before. */
static void test_augment_side(void **state) {
    (void)state;
    enum { S = 64 };
    uint8_t *px = malloc(3 * S * S);
    memset(px, 100, 3 * S * S);
    uint8_t label = 1, got;
    vgg_dataset ds = {0};
    ds.n = 1, ds.side = S, ds.pixels = px, ds.labels = &label;
    ds.num_classes = 2;
    ds.mean[0] = ds.mean[1] = ds.mean[2] = 0.5f;
    ds.std[0] = ds.std[1] = ds.std[2] = 0.25f;
    float *out = malloc(sizeof(float) * 3 * S * S);
    vgg_augment_choice ch = {0, 16, 0}; /* top 0: 8 rows of padding above */
    int idx = 0;
    vgg_augment_batch(out, &got, &ds, &idx, 1, &ch);
    assert_int_equal(got, 1);
    const float pad = (0.0f - 0.5f) / 0.25f, in = (100 / 255.0f - 0.5f) / 0.25f;
    assert_float_equal(out[0], pad, 1e-5);             /* row 0 */
    assert_float_equal(out[7 * S + 20], pad, 1e-5);    /* row 7 */
    assert_float_equal(out[8 * S + 20], in, 1e-5);     /* row 8 */
    assert_float_equal(out[8 * S + S - 9], in, 1e-5);  /* left 16: */
    assert_float_equal(out[8 * S + S - 8], pad, 1e-5); /* 8 on the right */
    assert_float_equal(out[2 * S * S + 63 * S + 3], in, 1e-5);
    /* none: mean 0, std 1 */
    ds.mean[0] = 0.0f, ds.std[0] = 1.0f;
    vgg_augment_batch(out, &got, &ds, &idx, 1, NULL);
    assert_float_equal(out[5], 100 / 255.0f, 1e-6);
    vgg_rng a, b;
    vgg_rng_seed(&a, 3, 1);
    vgg_rng_seed(&b, 3, 1);
    vgg_augment_choice c1[50], c2[50];
    vgg_augment_draw(c1, 50, &a);
    vgg_augment_draw_side(c2, 50, 32, &b);
    assert_memory_equal(c1, c2, sizeof c1);
    int most = 0;
    vgg_augment_draw_side(c2, 50, 64, &b);
    for (int i = 0; i < 50; i++) {
        assert_true(c2[i].top <= 16 && c2[i].left <= 16);
        if (c2[i].top > most) most = c2[i].top;
    }
    assert_true(most > 8);
    free(out);
    free(px);
}

/* vgg_data_load: every layout through one call. */
static void test_data_load(void **state) {
    (void)state;
    char tree[1024];
    snprintf(tree, sizeof tree, "%s", make_tree("dataload", 2));
    vgg_data_options o = {0};
    vgg_data_report rep;
    vgg_dataset tr, te;
    vgg_error err = {0};
    o.dir = tree;
    o.side = 64;
    o.classes = 2;
    assert_int_equal(vgg_data_load(&tr, &te, &o, &rep, &err), VGG_OK);
    assert_int_equal(rep.layout, VGG_LAYOUT_FOLDER);
    assert_int_equal(rep.normalize, VGG_NORM_AUTO);
    assert_int_equal(tr.side, 64);
    assert_int_equal(tr.num_classes, 2);
    assert_string_equal(te.class_names[1], "cat");
    float mean[3], sd[3];
    vgg_dataset_stats(&tr, mean, sd);
    assert_float_equal(te.mean[1], mean[1], 0);
    assert_float_equal(te.std[2], sd[2], 0);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
    /* test split alone, classes by name, stored statistics */
    o.test_only = 1;
    o.classes = 0;
    o.class_names = "dog,bird";
    o.normalize = VGG_NORM_GIVEN;
    o.mean[0] = 0.25f, o.std[0] = 0.5f;
    assert_int_equal(vgg_data_load(&tr, &te, &o, &rep, &err), VGG_OK);
    assert_int_equal(tr.n, 0);
    assert_int_equal(te.n, 4);
    assert_string_equal(te.class_names[0], "dog");
    assert_float_equal(te.mean[0], 0.25f, 0);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
    /* CIFAR-10 binary at 64: records resized, CIFAR's constants */
    const char *cif = at("cifar10");
    mkdirs(cif);
    assert_int_equal(tu_write_cifar_dir(cif, 6, 6, 3), 0);
    memset(&o, 0, sizeof o);
    o.dir = cif;
    o.side = 64;
    o.classes = 3;
    assert_int_equal(vgg_data_load(&tr, &te, &o, &rep, &err), VGG_OK);
    assert_int_equal(rep.layout, VGG_LAYOUT_CIFAR10);
    assert_int_equal(rep.normalize, VGG_NORM_CIFAR);
    assert_int_equal(tr.side, 64);
    assert_int_equal(tr.n, 30);
    assert_float_equal(tr.std[0], vgg_cifar_std[0], 0);
    vgg_dataset ref, reft;
    vgg_cifar_options co = {cif, 3, 0, 0};
    assert_int_equal(vgg_cifar_load(&ref, &reft, &co, &err), VGG_OK);
    /* each record as the image resize makes it */
    vgg_image im;
    uint8_t *want = malloc(3 * 64 * 64);
    assert_int_equal(vgg_image_from_cifar(&im, ref.pixels + 5 * 3072, &err),
                     VGG_OK);
    assert_int_equal(vgg_image_to_planar(want, &im, 64, &err), VGG_OK);
    assert_memory_equal(want, tr.pixels + 5 * 3 * 64 * 64, 3 * 64 * 64);
    vgg_image_free(&im);
    free(want);
    vgg_dataset_free(&ref);
    vgg_dataset_free(&reft);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
    o.labels_given = 1;
    assert_int_equal(vgg_data_load(&tr, &te, &o, &rep, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--labels: only for CIFAR-100"));
    o.labels_given = 0;
    o.val_split = 0.1;
    assert_int_equal(vgg_data_load(&tr, &te, &o, &rep, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--val-split"));
    vgg_normalize n;
    assert_int_equal(vgg_normalize_parse("none", &n, &err), VGG_OK);
    assert_int_equal(n, VGG_NORM_NONE);
    assert_int_equal(vgg_normalize_parse("zscore", &n, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--normalize zscore"));
}

/* The decoded-image cache: written, read back identical, and not used
 * once a file's time, the side or the cache itself changed. */
static void test_cache(void **state) {
    (void)state;
    char dir[1024], cache[1100];
    snprintf(dir, sizeof dir, "%s", make_tree("cache", 3));
    snprintf(cache, sizeof cache, "%s.cache", dir);
    vgg_folder_options o = {0};
    o.dir = dir;
    o.side = 32;
    o.cache = cache;
    vgg_dataset a, b, ta, tb;
    vgg_folder_report r;
    vgg_error err = {0};
    assert_int_equal(vgg_folder_load(&a, &ta, &o, &r, &err), VGG_OK);
    assert_int_equal(r.cache, VGG_FOLDER_CACHE_WRITTEN);
    assert_int_equal(vgg_folder_load(&b, &tb, &o, &r, &err), VGG_OK);
    assert_int_equal(r.cache, VGG_FOLDER_CACHE_READ);
    assert_int_equal(r.images, 18);
    assert_int_equal(a.n, b.n);
    assert_int_equal(ta.n, tb.n);
    assert_memory_equal(a.labels, b.labels, (size_t)a.n);
    assert_memory_equal(a.pixels, b.pixels, (size_t)a.n * 3072);
    assert_memory_equal(ta.pixels, tb.pixels, (size_t)ta.n * 3072);
    assert_string_equal(b.class_names[2], "dog");
    vgg_dataset_free(&b);
    vgg_dataset_free(&tb);
    /* a file's modification time changes: decoded again */
    struct timespec ts[2] = {{1000000, 0}, {1000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, at("cache/train/cat/001.png"), ts, 0),
                     0);
    assert_int_equal(vgg_folder_load(&b, &tb, &o, &r, &err), VGG_OK);
    assert_int_equal(r.cache, VGG_FOLDER_CACHE_WRITTEN);
    assert_memory_equal(a.pixels, b.pixels, (size_t)a.n * 3072);
    vgg_dataset_free(&b);
    vgg_dataset_free(&tb);
    /* another side: another key */
    o.side = 64;
    assert_int_equal(vgg_folder_load(&b, &tb, &o, &r, &err), VGG_OK);
    assert_int_equal(r.cache, VGG_FOLDER_CACHE_WRITTEN);
    vgg_dataset_free(&b);
    vgg_dataset_free(&tb);
    /* a damaged cache is not used */
    struct stat sb;
    assert_int_equal(stat(cache, &sb), 0);
    assert_int_equal(truncate(cache, sb.st_size - 10), 0);
    assert_int_equal(vgg_folder_load(&b, &tb, &o, &r, &err), VGG_OK);
    assert_int_equal(r.cache, VGG_FOLDER_CACHE_WRITTEN);
    vgg_dataset_free(&b);
    vgg_dataset_free(&tb);
    /* a cache that cannot be written: the data still loads */
    o.cache = at("no-such-folder/x.cache");
    assert_int_equal(vgg_folder_load(&b, &tb, &o, &r, &err), VGG_OK);
    assert_int_equal(r.cache, VGG_FOLDER_CACHE_MISSED);
    assert_non_null(strstr(r.cache_error, "no-such-folder"));
    vgg_dataset_free(&b);
    vgg_dataset_free(&tb);
    vgg_dataset_free(&a);
    vgg_dataset_free(&ta);
}

int main(void) {
    const char *d = tu_tmpdir("imagefolder");
    if (!d) return 1;
    snprintf(root, sizeof root, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_choose_and_stats),
        cmocka_unit_test(test_val_split),
        cmocka_unit_test(test_bad_trees),
        cmocka_unit_test(test_augment_side),
        cmocka_unit_test(test_data_load),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
