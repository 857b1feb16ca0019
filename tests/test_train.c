/* SGD semantics, and training end to end on synthetic images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vgg/cifar.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/train.h"

static vgg_model *tiny(int batch) {
    vgg_config cfg;
    vgg_error err;
    assert_int_equal(vgg_config_parse(&cfg, "8 M 16 M 16 M", 3, &err), VGG_OK);
    vgg_model *m;
    assert_int_equal(vgg_model_create(&m, &cfg, batch, &err), VGG_OK);
    return m;
}

static void test_sgd_step_pytorch_semantics(void **state) {
    (void)state;
    vgg_model *m = tiny(2);
    /* two steps on the first weight, by hand, in PyTorch's order:
     * g += wd*w; v = mu*v + g; w -= lr*v */
    m->params[0] = 0.5f;
    m->grads[0] = 0.2f;
    m->momentum[0] = 0.0f;
    vgg_sgd opt = {0.1f, 0.9f, 0.01f};
    vgg_sgd_step(m, &opt);
    float g1 = 0.2f + 0.01f * 0.5f, v1 = g1, w1 = 0.5f - 0.1f * v1;
    assert_float_equal(m->momentum[0], v1, 1e-7);
    assert_float_equal(m->params[0], w1, 1e-7);
    m->grads[0] = -0.3f;
    vgg_sgd_step(m, &opt);
    float g2 = -0.3f + 0.01f * w1, v2 = 0.9f * v1 + g2, w2 = w1 - 0.1f * v2;
    assert_float_equal(m->momentum[0], v2, 1e-7);
    assert_float_equal(m->params[0], w2, 1e-7);
    /* batch-norm running statistics are state: SGD never touches them */
    m->state[0] = 3.0f;
    vgg_sgd_step(m, &opt);
    assert_float_equal(m->state[0], 3.0f, 0);
    vgg_model_free(m);
}

static void load_synthetic(vgg_dataset *tr, vgg_dataset *te) {
    const char *dir = tu_tmpdir("train");
    assert_int_equal(tu_write_cifar_dir(dir, 12, 30, 3), 0);
    vgg_cifar_options o = {dir, 3, 0, 0};
    vgg_error err;
    assert_int_equal(vgg_cifar_load(tr, te, &o, &err), VGG_OK);
}

static void test_loss_goes_down(void **state) {
    (void)state;
    vgg_dataset tr, te;
    load_synthetic(&tr, &te); /* 60 training images, 3 classes */
    vgg_model *m = tiny(16);
    vgg_rng r;
    vgg_rng_seed(&r, 1, 0);
    vgg_model_init(m, &r);
    vgg_sgd opt = {0.05f, 0.9f, 5e-4f};
    vgg_epoch_stats first, st, ev;
    vgg_error err;
    assert_int_equal(
        vgg_train_epoch(m, &tr, 16, &opt, &r, &first, NULL, NULL, &err),
        VGG_OK);
    assert_int_equal(first.images, 60);
    assert_int_equal(first.batches, 4); /* 16+16+16+12: last batch kept */
    for (int e = 0; e < 14; e++)
        assert_int_equal(
            vgg_train_epoch(m, &tr, 16, &opt, &r, &st, NULL, NULL, &err),
            VGG_OK);
    double l0 = first.loss_sum / first.images, l1 = st.loss_sum / st.images;
    print_message("  mean loss epoch 1 %.4f, epoch 15 %.4f, train acc %.1f%%\n",
                  l0, l1, 100.0 * st.correct / st.images);
    assert_true(l1 < 0.5 * l0);
    int conf[9];
    assert_int_equal(vgg_evaluate(m, &te, 7, &ev, conf, NULL, &err), VGG_OK);
    int total = 0;
    for (int i = 0; i < 9; i++) total += conf[i];
    assert_int_equal(total, te.n);
    print_message("  test acc %.1f%% on %d images\n",
                  100.0 * ev.correct / ev.images, ev.images);
    assert_true(ev.correct > ev.images / 2);
    vgg_model_free(m);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
}

static void test_same_seed_same_result(void **state) {
    (void)state;
    vgg_dataset tr, te;
    load_synthetic(&tr, &te);
    float *w[2];
    double loss[2];
    for (int k = 0; k < 2; k++) {
        vgg_model *m = tiny(16);
        vgg_rng r;
        vgg_rng_seed(&r, 77, 0);
        vgg_model_init(m, &r);
        vgg_sgd opt = {0.05f, 0.9f, 5e-4f};
        vgg_epoch_stats st;
        vgg_error err;
        for (int e = 0; e < 2; e++)
            assert_int_equal(
                vgg_train_epoch(m, &tr, 16, &opt, &r, &st, NULL, NULL, &err),
                VGG_OK);
        loss[k] = st.loss_sum;
        w[k] = malloc(m->nparams * sizeof(float));
        memcpy(w[k], m->params, m->nparams * sizeof(float));
        size_t n = m->nparams;
        vgg_model_free(m);
        if (k == 1) assert_memory_equal(w[0], w[1], n * sizeof(float));
    }
    assert_true(loss[0] == loss[1]);
    free(w[0]);
    free(w[1]);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
}

static void test_eval_independent_of_batch(void **state) {
    (void)state;
    vgg_dataset tr, te;
    load_synthetic(&tr, &te);
    vgg_model *m = tiny(30);
    vgg_rng r;
    vgg_rng_seed(&r, 3, 0);
    vgg_model_init(m, &r);
    vgg_sgd opt = {0.05f, 0.9f, 5e-4f};
    vgg_epoch_stats st, a, b;
    vgg_error err;
    vgg_train_epoch(m, &tr, 16, &opt, &r, &st, NULL, NULL, &err);
    float *la = malloc(sizeof(float) * te.n * 3);
    float *lb = malloc(sizeof(float) * te.n * 3);
    vgg_evaluate(m, &te, 30, &a, NULL, la, &err);
    vgg_evaluate(m, &te, 4, &b, NULL, lb, &err);
    assert_int_equal(a.correct, b.correct);
    assert_true(tu_max_rel_diff(la, lb, te.n * 3, 1e-3) < 1e-5);
    free(la);
    free(lb);
    vgg_model_free(m);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
}

static void test_divergence_detected(void **state) {
    (void)state;
    vgg_dataset tr, te;
    load_synthetic(&tr, &te);
    vgg_model *m = tiny(16);
    vgg_rng r;
    vgg_rng_seed(&r, 3, 0);
    vgg_model_init(m, &r);
    m->fc_w[0] = NAN;
    float before = m->params[0];
    vgg_sgd opt = {0.05f, 0.9f, 5e-4f};
    vgg_epoch_stats st;
    vgg_error err = {0};
    assert_int_equal(
        vgg_train_epoch(m, &tr, 16, &opt, &r, &st, NULL, NULL, &err),
        VGG_ERR_DIVERGED);
    assert_non_null(strstr(err.msg, "batch 1 of 4"));
    assert_float_equal(m->params[0], before, 0); /* no step taken */
    vgg_model_free(m);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
}

int main(void) {
    vgg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_step_pytorch_semantics),
        cmocka_unit_test(test_loss_goes_down),
        cmocka_unit_test(test_same_seed_same_result),
        cmocka_unit_test(test_eval_independent_of_batch),
        cmocka_unit_test(test_divergence_detected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
