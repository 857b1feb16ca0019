/* Fine-tuning's start (vggtrain --init): the features of a checkpoint
 * loaded bit for bit, the classifier new for another class count,
 * momentum zero, and a mismatch named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "vgg/checkpoint.h"
#include "vgg/init.h"

static char dir[512];

static vgg_model *make(const char *arch, int classes, uint64_t seed) {
    vgg_config cfg;
    vgg_error err = {0};
    assert_int_equal(vgg_config_parse(&cfg, arch, classes, &err), VGG_OK);
    vgg_model *m = NULL;
    assert_int_equal(vgg_model_create(&m, &cfg, 2, &err), VGG_OK);
    vgg_rng r;
    vgg_rng_seed(&r, seed, 0);
    vgg_model_init(m, &r);
    /* trained-looking state: statistics, counters and momentum set */
    tu_fill_uniform(m->state, m->nstate, 0.5f, 2.0f, &r);
    tu_fill_uniform(m->momentum, m->nparams, -1.0f, 1.0f, &r);
    for (int i = 0; i < m->ntensors; i++)
        if (m->tensors[i].kind == VGG_TENSOR_COUNTER)
            m->counters[m->tensors[i].offset] = 100 + i;
    return m;
}

static void save(const char *path, const vgg_model *m) {
    vgg_ckpt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.cfg = m->cfg;
    for (int c = 0; c < m->cfg.classes; c++)
        snprintf(meta.class_names[c], VGG_CLASS_NAME_MAX, "k%d", c);
    meta.sgd = (vgg_sgd){0.01f, 0.9f, 5e-4f};
    vgg_schedule_init(&meta.sched, 0.01f);
    meta.batch_size = 2;
    meta.rng.inc = 1;
    vgg_error err = {0};
    assert_int_equal(vgg_checkpoint_save(path, m, &meta, &err), VGG_OK);
}

static void test_features_bit_identical_head_new(void **state) {
    (void)state;
    char path[600];
    snprintf(path, sizeof path, "%s/src.safetensors", dir);
    vgg_model *src = make("4 M 8 M", 3, 1);
    save(path, src);
    /* another class count, another seed: its own fresh head */
    vgg_model *dst = make("4 M 8 M", 2, 2), *fresh = make("4 M 8 M", 2, 2);
    vgg_error err = {0};
    int n = 0;
    assert_int_equal(vgg_model_init_features(dst, path, &n, &err), VGG_OK);
    assert_int_equal(n,
                     2 * 7); /* per conv: w, b, gamma, beta, mean, var, nbt */
    for (int i = 0; i < dst->ntensors; i++) {
        const vgg_tensor *t = &dst->tensors[i];
        const vgg_tensor *s = vgg_model_find_tensor(src, t->name);
        const vgg_tensor *f = vgg_model_find_tensor(fresh, t->name);
        if (!strncmp(t->name, "conv", 4)) {
            assert_non_null(s);
            if (t->kind == VGG_TENSOR_COUNTER)
                assert_int_equal(dst->counters[t->offset],
                                 src->counters[s->offset]);
            else
                assert_memory_equal(vgg_tensor_f32(dst, t),
                                    vgg_tensor_f32(src, s), 4 * t->numel);
        } else { /* fc1.*: the new model's own initialisation */
            assert_memory_equal(vgg_tensor_f32(dst, t),
                                vgg_tensor_f32(fresh, f), 4 * t->numel);
            assert_int_equal(t->shape[0], 2); /* 2 classes */
        }
    }
    for (size_t i = 0; i < dst->nparams; i++)
        assert_true(dst->momentum[i] == 0.0f);
    vgg_model_free(dst);
    vgg_model_free(fresh);

    /* a wider second layer: its weight is named, with both shapes; the
     * model stays as it was */
    vgg_model *wide = make("4 M 16 M", 3, 3), *copy = make("4 M 16 M", 3, 3);
    assert_int_equal(vgg_model_init_features(wide, path, &n, &err),
                     VGG_ERR_MISMATCH);
    assert_non_null(strstr(err.msg, "tensor conv2.0.weight is F32 [8, 4, 3, 3] "
                                    "in the file; this model's is F32 "
                                    "[16, 4, 3, 3]"));
    assert_memory_equal(wide->params, copy->params,
                        wide->nparams * sizeof(float));
    vgg_model_free(wide);
    vgg_model_free(copy);
    /* a deeper table: the missing tensor is named */
    vgg_model *deep = make("4 M 8 M 8 M", 3, 3);
    assert_int_equal(vgg_model_init_features(deep, path, &n, &err),
                     VGG_ERR_MISMATCH);
    assert_non_null(strstr(err.msg, "tensor conv3.0.weight [8, 8, 3, 3] is "
                                    "missing from the file"));
    vgg_model_free(deep);
    /* not a safetensors file */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/notes.txt", dir);
    FILE *f = fopen(bad, "w");
    fputs("hello\n", f);
    fclose(f);
    vgg_model *m = make("4 M 8 M", 2, 4);
    assert_int_equal(vgg_model_init_features(m, bad, &n, &err), VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "notes.txt: 6 bytes; a checkpoint starts "
                                    "with an 8-byte header length"));
    vgg_model_free(m);
    vgg_model_free(src);
}

int main(void) {
    const char *d = tu_tmpdir("init");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_bit_identical_head_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
