/* The CIFAR loader on files the test writes, and the augmentation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vgg/augment.h"
#include "vgg/cifar.h"

static void test_load_good(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("data");
    assert_int_equal(tu_write_cifar_dir(dir, 10, 12, 4), 0);
    vgg_dataset tr, te;
    vgg_error err = {0};
    vgg_cifar_options o = {dir, 3, 0, 0};
    assert_int_equal(vgg_cifar_load(&tr, &te, &o, &err), VGG_OK);
    /* labels cycle 0..3: of a batch's 10 records (0,1,2,3,0,1,2,3,0,1)
     * --classes 3 keeps 8 */
    assert_int_equal(tr.n, 5 * 8);
    assert_int_equal(te.n, 9); /* 12 records: labels 0..3 x3 -> 9 kept */
    assert_string_equal(tr.class_names[2], "bird");
    for (int i = 0; i < tr.n; i++) assert_true(tr.labels[i] < 3);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);

    /* limits apply after class filtering */
    vgg_cifar_options lim = {dir, 3, 7, 5};
    assert_int_equal(vgg_cifar_load(&tr, &te, &lim, &err), VGG_OK);
    assert_int_equal(tr.n, 7);
    assert_int_equal(te.n, 5);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
}

static void test_pixels_preserved(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("pix");
    char path[1024];
    snprintf(path, sizeof path, "%s/one.bin", dir);
    uint8_t lab[2] = {1, 5};
    assert_int_equal(tu_write_cifar(path, 2, lab, 2, 3), 0);
    uint8_t raw[2 * 3073];
    FILE *f = fopen(path, "rb");
    assert_int_equal(fread(raw, 1, sizeof raw, f), sizeof raw);
    fclose(f);
    vgg_dataset ds = {0};
    vgg_error err;
    assert_int_equal(vgg_cifar_read_file(&ds, path, 10, 0, &err), VGG_OK);
    assert_int_equal(ds.n, 2);
    assert_int_equal(ds.labels[1], 5);
    assert_memory_equal(ds.pixels + 3072, raw + 3073 + 1, 3072);
    vgg_dataset_free(&ds);
}

static void test_truncated_file(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("trunc");
    assert_int_equal(tu_write_cifar_dir(dir, 4, 4, 3), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/data_batch_3.bin", dir);
    FILE *f = fopen(path, "ab");
    fputc(7, f); /* one byte too many: not a whole number of records */
    fclose(f);
    vgg_dataset tr, te;
    vgg_error err = {0};
    vgg_cifar_options o = {dir, 3, 0, 0};
    assert_int_equal(vgg_cifar_load(&tr, &te, &o, &err), VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "data_batch_3.bin"));
    assert_non_null(strstr(err.msg, "12293 bytes"));
    assert_non_null(strstr(err.msg, "3073-byte"));
    assert_null(tr.pixels);
}

static void test_bad_label(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("label");
    assert_int_equal(tu_write_cifar_dir(dir, 4, 4, 3), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    FILE *f = fopen(path, "r+b");
    fseek(f, 2 * 3073, SEEK_SET);
    fputc(12, f);
    fclose(f);
    vgg_dataset tr, te;
    vgg_error err = {0};
    vgg_cifar_options o = {dir, 3, 0, 0};
    assert_int_equal(vgg_cifar_load(&tr, &te, &o, &err), VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "test_batch.bin"));
    assert_non_null(strstr(err.msg, "record 2"));
    assert_non_null(strstr(err.msg, "label 12"));
}

static void test_missing_and_empty(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("missing");
    vgg_dataset tr, te;
    vgg_error err = {0};
    vgg_cifar_options o = {dir, 3, 0, 0};
    assert_int_equal(vgg_cifar_load(&tr, &te, &o, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "batches.meta.txt"));

    /* a class with no training images after --limit-train */
    assert_int_equal(tu_write_cifar_dir(dir, 6, 6, 3), 0);
    vgg_cifar_options lim = {dir, 3, 2, 0};
    assert_int_equal(vgg_cifar_load(&tr, &te, &lim, &err), VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "class 2"));
    assert_non_null(strstr(err.msg, "--limit-train"));

    vgg_cifar_options bad = {dir, 11, 0, 0};
    assert_int_equal(vgg_cifar_load(&tr, &te, &bad, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--classes 11"));
}

/* ---- augmentation ---- */

static vgg_dataset one_image(uint8_t *px) {
    vgg_dataset ds = {0};
    static uint8_t label = 0;
    ds.n = 1;
    ds.pixels = px;
    ds.labels = &label;
    ds.num_classes = 3;
    return ds;
}

static float norm(int c, int v) {
    return ((float)v / 255.0f - vgg_cifar_mean[c]) / vgg_cifar_std[c];
}

static void test_normalisation(void **state) {
    (void)state;
    static uint8_t px[3072];
    for (int i = 0; i < 3072; i++) px[i] = (uint8_t)(i * 7);
    vgg_dataset ds = one_image(px);
    float out[3072];
    uint8_t lab;
    int idx = 0;
    vgg_augment_batch(out, &lab, &ds, &idx, 1, NULL);
    for (int i = 0; i < 3072; i++)
        assert_float_equal(out[i], norm(i / 1024, px[i]), 1e-5);
    assert_float_equal(vgg_cifar_mean[0], 0.4914f, 0);
    assert_float_equal(vgg_cifar_std[2], 0.2010f, 0);
}

static void test_flip_and_crop(void **state) {
    (void)state;
    static uint8_t px[3072];
    for (int i = 0; i < 3072; i++) px[i] = (uint8_t)((i * 13) % 251);
    vgg_dataset ds = one_image(px);
    float plain[3072], out[3072];
    uint8_t lab;
    int idx = 0;
    vgg_augment_batch(plain, &lab, &ds, &idx, 1, NULL);

    /* centre crop (offset 4, 4) without flip is the identity */
    vgg_augment_choice id = {4, 4, 0};
    vgg_augment_batch(out, &lab, &ds, &idx, 1, &id);
    assert_memory_equal(out, plain, sizeof out);

    /* a flip is a flip */
    vgg_augment_choice fl = {4, 4, 1};
    vgg_augment_batch(out, &lab, &ds, &idx, 1, &fl);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
                assert_true(out[c * 1024 + y * 32 + x] ==
                            plain[c * 1024 + y * 32 + 31 - x]);

    /* top 1, left 6: output (y, x) is input (y - 3, x + 2), padding zero
     * pixels (normalised) outside */
    vgg_augment_choice cr = {1, 6, 0};
    vgg_augment_batch(out, &lab, &ds, &idx, 1, &cr);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                int sy = y - 3, sx = x + 2;
                float want = (sy >= 0 && sx < 32)
                                 ? plain[c * 1024 + sy * 32 + sx]
                                 : norm(c, 0);
                assert_true(out[c * 1024 + y * 32 + x] == want);
            }
}

static void test_draws_cover_range(void **state) {
    (void)state;
    vgg_rng r;
    vgg_rng_seed(&r, 1, 0);
    vgg_augment_choice ch[2000];
    vgg_augment_draw(ch, 2000, &r);
    int seen[9] = {0}, flips = 0;
    for (int i = 0; i < 2000; i++) {
        assert_true(ch[i].top <= 8 && ch[i].left <= 8 && ch[i].flip <= 1);
        seen[ch[i].top]++;
        flips += ch[i].flip;
    }
    for (int k = 0; k < 9; k++) assert_true(seen[k] > 150);
    assert_true(flips > 900 && flips < 1100);
    /* same seed, same draws */
    vgg_rng a, b;
    vgg_rng_seed(&a, 5, 0);
    vgg_rng_seed(&b, 5, 0);
    vgg_augment_choice x[16], y[16];
    vgg_augment_draw(x, 16, &a);
    vgg_augment_draw(y, 16, &b);
    assert_memory_equal(x, y, sizeof x);
}

static void test_batch_layout(void **state) {
    (void)state;
    /* two images land in [3][2][32][32] */
    static uint8_t px[2 * 3072];
    for (int i = 0; i < 3072; i++) {
        px[i] = 10;
        px[3072 + i] = 200;
    }
    static uint8_t labels[2] = {2, 1};
    vgg_dataset ds = {.n = 2, .pixels = px, .labels = labels};
    static float out[2 * 3072];
    uint8_t lab[2];
    int idx[2] = {1, 0};
    vgg_augment_batch(out, lab, &ds, idx, 2, NULL);
    assert_int_equal(lab[0], 1);
    assert_int_equal(lab[1], 2);
    assert_float_equal(out[0], norm(0, 200), 1e-5);    /* c0 n0 */
    assert_float_equal(out[1024], norm(0, 10), 1e-5);  /* c0 n1 */
    assert_float_equal(out[2048], norm(1, 200), 1e-5); /* c1 n0 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_good),
        cmocka_unit_test(test_pixels_preserved),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_bad_label),
        cmocka_unit_test(test_missing_and_empty),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_flip_and_crop),
        cmocka_unit_test(test_draws_cover_range),
        cmocka_unit_test(test_batch_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
