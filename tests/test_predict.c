/* Top-k predictions with softmax probabilities. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "vgg/predict.h"

static void test_top_k(void **state) {
    (void)state;
    const float logits[5] = {1.0f, 3.0f, -2.0f, 2.5f, 3.0f};
    double sum = 0.0, p[5];
    for (int c = 0; c < 5; c++) sum += exp(logits[c]);
    for (int c = 0; c < 5; c++) p[c] = exp(logits[c]) / sum;
    vgg_prediction top[5];
    assert_int_equal(vgg_top_k(top, 3, logits, 5), 3);
    /* ties: the lower label first */
    assert_int_equal(top[0].label, 1);
    assert_int_equal(top[1].label, 4);
    assert_int_equal(top[2].label, 3);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(top[i].prob - p[top[i].label]) < 1e-6);
    /* all of them: sorted, summing to 1 */
    assert_int_equal(vgg_top_k(top, 9, logits, 5), 5);
    double s = 0.0;
    for (int i = 0; i < 5; i++) {
        s += top[i].prob;
        if (i) assert_true(top[i].prob <= top[i - 1].prob);
    }
    assert_true(fabs(s - 1.0) < 1e-6);
    assert_int_equal(top[4].label, 2);
    /* large logits do not overflow */
    const float big[3] = {1000.0f, 999.0f, -1000.0f};
    assert_int_equal(vgg_top_k(top, 1, big, 3), 1);
    assert_int_equal(top[0].label, 0);
    assert_true(fabs(top[0].prob - 1.0 / (1.0 + exp(-1.0))) < 1e-6);
    assert_int_equal(vgg_top_k(top, 0, big, 3), 0);
    assert_int_equal(vgg_top_k(top, 2, big, 0), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_top_k)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
