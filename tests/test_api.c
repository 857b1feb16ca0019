/* The public API (include/vgg/vgg.h) over checkpoints of the family: the
 * logits of [0,1] RGB input equal the model's own on the normalised
 * image, a PNG gives the logits of its pixels, bad calls are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vgg/augment.h"
#include "vgg/checkpoint.h"
#include "vgg/image.h"
#include "vgg/model.h"
#include "vgg/rng.h"
#include "vgg/schedule.h"
#include "vgg/vgg.h"
#include "util.h"

/* Saves a fresh model of arch/head to path; returns it (for reference). */
static vgg_model *saved(const char *path, const char *arch, const char *head) {
    vgg_config cfg;
    vgg_error err = {0};
    assert_int_equal(vgg_config_parse(&cfg, arch, 3, &err), VGG_OK);
    assert_int_equal(vgg_config_set_head(&cfg, head, &err), VGG_OK);
    vgg_model *m;
    assert_int_equal(vgg_model_create(&m, &cfg, 4, &err), VGG_OK);
    vgg_rng r;
    vgg_rng_seed(&r, 3, 0);
    vgg_model_init(m, &r);
    tu_fill_uniform(m->state, m->nstate, 0.5f, 1.5f, &r);
    vgg_ckpt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.cfg = cfg;
    strcpy(meta.class_names[0], "airplane");
    strcpy(meta.class_names[1], "automobile");
    strcpy(meta.class_names[2], "bird");
    meta.rng.inc = 1;
    meta.sgd = (vgg_sgd){0.01f, 0.9f, 5e-4f};
    vgg_schedule_init(&meta.sched, 0.01f);
    meta.batch_size = 4;
    if (vgg_checkpoint_save(path, m, &meta, &err)) fail_msg("%s", err.msg);
    return m;
}

static void check(const char *arch, const char *head) {
    char path[4096], png[4096];
    const char *dir = tu_tmpdir("api");
    snprintf(path, sizeof path, "%s/m.bin", dir);
    snprintf(png, sizeof png, "%s/x.png", dir);
    vgg_model *m = saved(path, arch, head);
    vgg_error err = {0};
    vgg_classifier *c = NULL;
    assert_int_equal(vgg_classifier_open(&c, path, 2, &err), VGG_OK);
    assert_int_equal(vgg_classifier_classes(c), 3);
    assert_int_equal(vgg_classifier_side(c), 32);
    assert_int_equal(vgg_classifier_batch_max(c), 2);
    assert_string_equal(vgg_classifier_class_name(c, 2), "bird");
    assert_null(vgg_classifier_class_name(c, 3));
    assert_null(vgg_classifier_class_name(c, -1));

    /* two images: [2][3][32][32] in [0,1], from 8-bit pixels */
    vgg_rng r;
    vgg_rng_seed(&r, 9, 0);
    uint8_t px[2][VGG_CIFAR_PIXELS], labels[2] = {0, 1};
    float rgb[2 * VGG_CIFAR_PIXELS], z[6], want[6];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < VGG_CIFAR_PIXELS; j++) {
            px[i][j] = (uint8_t)vgg_rng_below(&r, 256);
            rgb[i * VGG_CIFAR_PIXELS + j] = px[i][j] / 255.0f;
        }
    assert_int_equal(vgg_classifier_logits(c, rgb, 2, z, &err), VGG_OK);
    vgg_dataset ds = {
        .n = 2, .pixels = &px[0][0], .labels = labels, .num_classes = 3};
    int idx[2] = {0, 1}, correct;
    vgg_augment_batch(m->input, m->labels, &ds, idx, 2, NULL);
    vgg_model_forward(m, 2, 0, &correct);
    memcpy(want, m->logits, sizeof want);
    for (int k = 0; k < 6; k++)
        assert_true(fabsf(z[k] - want[k]) <= 1e-4f * (1.0f + fabsf(want[k])));

    /* the PNG of image 1 gives image 1's logits */
    vgg_image img;
    assert_int_equal(vgg_image_from_cifar(&img, px[1], &err), VGG_OK);
    assert_int_equal(vgg_png_write(png, &img, &err), VGG_OK);
    vgg_image_free(&img);
    float zp[3];
    assert_int_equal(vgg_classifier_png(c, png, zp, &err), VGG_OK);
    for (int k = 0; k < 3; k++)
        assert_true(fabsf(zp[k] - want[3 + k]) <=
                    1e-4f * (1.0f + fabsf(want[3 + k])));

    /* refusals */
    assert_int_equal(vgg_classifier_logits(c, rgb, 3, z, &err), VGG_ERR_ARG);
    assert_int_equal(vgg_classifier_logits(c, rgb, 0, z, &err), VGG_ERR_ARG);
    assert_int_not_equal(vgg_classifier_png(c, path, zp, &err), VGG_OK);
    assert_non_null(strstr(err.msg, "m.bin"));
    vgg_classifier_close(c);
    vgg_model_free(m);
}

static void test_logits(void **state) {
    (void)state;
    check("8 M 16 M", "linear");
    check("vgg11-nobn/16", "fc:8");
    check("vgg16c/16", "fc:8");
}

static void test_open_errors(void **state) {
    (void)state;
    vgg_error err = {0};
    vgg_classifier *c = (vgg_classifier *)&err;
    assert_int_not_equal(vgg_classifier_open(&c, "/nonexistent/m.bin", 1, &err),
                         VGG_OK);
    assert_null(c);
    assert_non_null(strstr(err.msg, "/nonexistent/m.bin"));
    assert_int_equal(vgg_classifier_open(&c, "x.bin", 0, &err), VGG_ERR_ARG);
    vgg_classifier_close(NULL);
    assert_string_equal(vgg_version(), VGG_VERSION_STRING);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logits),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
