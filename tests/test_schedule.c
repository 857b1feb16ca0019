/* Learning-rate schedules against their formulas, and the flag parsers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vgg/schedule.h"

static void assert_lr(float got, double want) {
    if (fabs(got - want) > 1e-6 * fmax(1.0, fabs(want))) {
        fprintf(stderr, "lr %.9g, expected %.9g\n", (double)got, want);
        fail();
    }
}

static void set(vgg_schedule *s, const char *flag, const char *value) {
    vgg_error err = {0};
    vgg_status st = vgg_schedule_set(s, flag, value, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, VGG_OK);
}

static void test_constant(void **state) {
    (void)state;
    vgg_schedule s;
    vgg_schedule_init(&s, 0.01f);
    vgg_error err = {0};
    assert_int_equal(vgg_schedule_check(&s, 20, &err), VGG_OK);
    for (int e = 1; e <= 20; e++) assert_lr(vgg_lr_at(&s, e, 20), 0.01f);
    /* warm-up W: B * e / (W + 1), then B */
    set(&s, "--warmup", "4");
    for (int e = 1; e <= 20; e++)
        assert_lr(vgg_lr_at(&s, e, 20), e <= 4 ? 0.01f * e / 5.0 : 0.01f);
}

static void test_step(void **state) {
    (void)state;
    vgg_schedule s;
    vgg_schedule_init(&s, 0.1f);
    set(&s, "--lr-schedule", "step");
    vgg_error err = {0};
    assert_int_equal(vgg_schedule_check(&s, 50, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--lr-steps"));
    set(&s, "--lr-steps", "30,40");
    set(&s, "--lr-gamma", "0.2");
    assert_int_equal(vgg_schedule_check(&s, 50, &err), VGG_OK);
    for (int e = 1; e <= 50; e++) {
        int m = (e > 30) + (e > 40);
        assert_lr(vgg_lr_at(&s, e, 50), 0.1f * pow(0.2f, m));
    }
    assert_lr(vgg_lr_at(&s, 30, 50), 0.1f);
    assert_lr(vgg_lr_at(&s, 31, 50), 0.1f * 0.2f);
    assert_lr(vgg_lr_at(&s, 41, 50), 0.1f * 0.2f * 0.2f);
    /* with warm-up: milestones still count from epoch 1 */
    set(&s, "--warmup", "2");
    assert_lr(vgg_lr_at(&s, 1, 50), 0.1f / 3);
    assert_lr(vgg_lr_at(&s, 2, 50), 0.2f / 3);
    assert_lr(vgg_lr_at(&s, 3, 50), 0.1f);
    assert_lr(vgg_lr_at(&s, 35, 50), 0.1f * 0.2f);
    char buf[128];
    vgg_schedule_describe(&s, buf, sizeof buf);
    assert_non_null(strstr(buf, "30,40"));
}

static void test_cosine(void **state) {
    (void)state;
    const double pi = 3.14159265358979323846;
    vgg_schedule s;
    vgg_schedule_init(&s, 0.05f);
    set(&s, "--lr-schedule", "cosine");
    vgg_error err = {0};
    assert_int_equal(vgg_schedule_check(&s, 10, &err), VGG_OK);
    for (int e = 1; e <= 10; e++)
        assert_lr(vgg_lr_at(&s, e, 10),
                  0.05f * (1 + cos(pi * (e - 1) / 10.0)) / 2);
    assert_lr(vgg_lr_at(&s, 1, 10), 0.05f);
    assert_true(vgg_lr_at(&s, 10, 10) < 0.05f * 0.03f);
    /* with a floor and warm-up: the cosine spans the epochs after it */
    set(&s, "--lr-min", "0.001");
    set(&s, "--warmup", "3");
    assert_int_equal(vgg_schedule_check(&s, 13, &err), VGG_OK);
    for (int e = 1; e <= 13; e++) {
        double want = e <= 3 ? 0.05f * e / 4.0
                             : 0.001f + (0.05f - 0.001f) *
                                            (1 + cos(pi * (e - 4) / 10.0)) / 2;
        assert_lr(vgg_lr_at(&s, e, 13), want);
    }
    /* the rate never rises after warm-up */
    for (int e = 4; e < 13; e++)
        assert_true(vgg_lr_at(&s, e + 1, 13) <= vgg_lr_at(&s, e, 13));
    char buf[128];
    vgg_schedule_describe(&s, buf, sizeof buf);
    assert_non_null(strstr(buf, "cosine"));
    assert_non_null(strstr(buf, "3 warm-up"));
}

static void expect_flag_error(const char *flag, const char *value,
                              const char *must_name) {
    vgg_schedule s;
    vgg_schedule_init(&s, 0.01f);
    vgg_error err = {0};
    assert_int_equal(vgg_schedule_set(&s, flag, value, &err), VGG_ERR_ARG);
    if (!strstr(err.msg, must_name)) {
        fprintf(stderr, "message \"%s\" does not name %s\n", err.msg,
                must_name);
        fail();
    }
}

static void test_parse_errors(void **state) {
    (void)state;
    expect_flag_error("--lr-schedule", "linear", "--lr-schedule");
    expect_flag_error("--lr-schedule", "linear", "cosine");
    expect_flag_error("--lr-steps", "30,x", "--lr-steps");
    expect_flag_error("--lr-steps", "40,30", "--lr-steps");
    expect_flag_error("--lr-steps", "30,", "--lr-steps");
    expect_flag_error("--lr-steps", "", "--lr-steps");
    expect_flag_error("--lr-steps", "0", "--lr-steps");
    expect_flag_error("--lr-gamma", "2", "--lr-gamma");
    expect_flag_error("--lr-gamma", "0.1x", "--lr-gamma");
    expect_flag_error("--lr-min", "-1", "--lr-min");
    expect_flag_error("--warmup", "-2", "--warmup");
    expect_flag_error("--warmup", "1.5", "--warmup");
    expect_flag_error("--lr-whatever", "1", "--lr-whatever");
    assert_true(vgg_schedule_is_flag("--warmup"));
    assert_false(vgg_schedule_is_flag("--lr"));

    vgg_schedule s;
    vgg_error err = {0};
    vgg_schedule_init(&s, 0.01f);
    set(&s, "--warmup", "5");
    assert_int_equal(vgg_schedule_check(&s, 5, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--warmup"));
    vgg_schedule_init(&s, 0.01f);
    set(&s, "--lr-steps", "3");
    assert_int_equal(vgg_schedule_check(&s, 5, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--lr-steps"));
    vgg_schedule_init(&s, 0.01f);
    set(&s, "--lr-schedule", "cosine");
    set(&s, "--lr-min", "0.1");
    assert_int_equal(vgg_schedule_check(&s, 5, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "--lr-min"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
