/* What a checkpoint records about the data: the input side, the
 * normalisation and up to 100 class names, read back as written, and the
 * defaults of a file written without them (CIFAR-10's constants). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "vgg/augment.h"
#include "vgg/checkpoint.h"

static char dir[512];

static vgg_model *make(const char *arch, int classes, int side) {
    vgg_config cfg;
    vgg_error err = {0};
    assert_int_equal(vgg_config_parse(&cfg, arch, classes, &err), VGG_OK);
    cfg.side = side;
    vgg_model *m = NULL;
    assert_int_equal(vgg_model_create(&m, &cfg, 2, &err), VGG_OK);
    vgg_rng r;
    vgg_rng_seed(&r, 9, 0);
    vgg_model_init(m, &r);
    return m;
}

static void meta_for(vgg_ckpt_meta *meta, const vgg_model *m) {
    memset(meta, 0, sizeof *meta);
    meta->cfg = m->cfg;
    for (int c = 0; c < m->cfg.classes; c++)
        snprintf(meta->class_names[c], VGG_CLASS_NAME_MAX, "class %02d", c);
    meta->sgd = (vgg_sgd){0.01f, 0.9f, 5e-4f};
    vgg_schedule_init(&meta->sched, 0.01f);
    meta->batch_size = 2;
    meta->rng.inc = 1;
}

static void test_side_norm_names(void **state) {
    (void)state;
    char path[600];
    snprintf(path, sizeof path, "%s/s64.safetensors", dir);
    /* 64x64 input: two pools leave 16x16, so the classifier reads
     * 4 x 16 x 16 features */
    vgg_model *m = make("4 M M", 20, 64);
    assert_int_equal(m->features, 4 * 16 * 16);
    vgg_ckpt_meta meta, got;
    meta_for(&meta, m);
    const float mean[3] = {0.1f, 0.2f, 0.3f}, sd[3] = {0.4f, 0.5f, 0.25f};
    memcpy(meta.mean, mean, sizeof mean);
    memcpy(meta.std, sd, sizeof sd);
    vgg_error err = {0};
    assert_int_equal(vgg_checkpoint_save(path, m, &meta, &err), VGG_OK);
    vgg_status st = vgg_checkpoint_read_meta(path, &got, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, VGG_OK);
    assert_int_equal(got.cfg.side, 64);
    assert_int_equal(got.cfg.classes, 20);
    assert_string_equal(got.class_names[19], "class 19");
    for (int c = 0; c < 3; c++) {
        assert_float_equal(got.mean[c], mean[c], 0);
        assert_float_equal(got.std[c], sd[c], 0);
    }
    vgg_model *m2 = NULL;
    assert_int_equal(vgg_model_create(&m2, &got.cfg, 2, &err), VGG_OK);
    assert_int_equal(vgg_checkpoint_load(path, m2, NULL, &err), VGG_OK);
    assert_memory_equal(m2->params, m->params, m->nparams * sizeof(float));
    /* a model of side 32 does not take it */
    vgg_model *m32 = make("4 M M", 20, 32);
    assert_int_not_equal(vgg_checkpoint_load(path, m32, NULL, &err), VGG_OK);
    vgg_model_free(m32);
    vgg_model_free(m2);
    vgg_ckpt_meta_free(&got);

    /* written without statistics: CIFAR-10's constants */
    memset(meta.std, 0, sizeof meta.std);
    assert_int_equal(vgg_checkpoint_save(path, m, &meta, &err), VGG_OK);
    assert_int_equal(vgg_checkpoint_read_meta(path, &got, &err), VGG_OK);
    assert_float_equal(got.mean[0], vgg_cifar_mean[0], 1e-7);
    assert_float_equal(got.std[2], vgg_cifar_std[2], 1e-7);
    vgg_ckpt_meta_free(&got);
    /* a non-positive std is refused on saving */
    meta.std[0] = 0.5f, meta.std[1] = -1.0f, meta.std[2] = 0.5f;
    assert_int_equal(vgg_checkpoint_save(path, m, &meta, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "normalisation of channel 1"));
    vgg_model_free(m);
    vgg_ckpt_meta_free(&meta);
}

int main(void) {
    const char *d = tu_tmpdir("ckptdata");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_side_norm_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
