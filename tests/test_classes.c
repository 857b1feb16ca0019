/* Choosing classes by name, and loading only them, relabelled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "vgg/classes.h"

static char names[10][VGG_CLASS_NAME_MAX] = {
    "airplane", "automobile", "bird",  "cat",  "deer",
    "dog",      "frog",       "horse", "ship", "truck"};
static char dir[512];

static void test_parse(void **state) {
    (void)state;
    int labels[10], k = 0;
    vgg_error err = {0};
    assert_int_equal(
        vgg_classes_parse("airplane,cat,ship", names, 10, labels, &k, &err),
        VGG_OK);
    assert_int_equal(k, 3);
    assert_int_equal(labels[0], 0);
    assert_int_equal(labels[1], 3);
    assert_int_equal(labels[2], 8);
    /* order is kept; spaces around names are fine */
    assert_int_equal(
        vgg_classes_parse(" truck , bird", names, 10, labels, &k, &err),
        VGG_OK);
    assert_int_equal(k, 2);
    assert_int_equal(labels[0], 9);
    assert_int_equal(labels[1], 2);
    /* all ten */
    assert_int_equal(vgg_classes_parse("airplane,automobile,bird,cat,deer,dog,"
                                       "frog,horse,ship,truck",
                                       names, 10, labels, &k, &err),
                     VGG_OK);
    assert_int_equal(k, 10);
}

static void expect_bad(const char *list, const char *must1, const char *must2) {
    int labels[10], k = -1;
    vgg_error err = {0};
    assert_int_equal(vgg_classes_parse(list, names, 10, labels, &k, &err),
                     VGG_ERR_ARG);
    assert_int_equal(k, -1);
    assert_non_null(strstr(err.msg, "--class-names"));
    if (!strstr(err.msg, must1) || (must2 && !strstr(err.msg, must2))) {
        fprintf(stderr, "message: %s\n", err.msg);
        fail();
    }
}

static void test_parse_errors(void **state) {
    (void)state;
    /* unknown: the valid names are listed */
    expect_bad("airplane,kat", "'kat'",
               "airplane,automobile,bird,cat,deer,"
               "dog,frog,horse,ship,truck");
    expect_bad("Cat,dog", "'Cat'", NULL);
    expect_bad("cat,dog,cat", "'cat' is given twice", NULL);
    expect_bad("cat", "at least 2", NULL);
    expect_bad("", "empty", NULL);
    expect_bad("cat,,dog", "empty", NULL);
    expect_bad("cat,dog,", "empty", NULL);
}

static void test_load(void **state) {
    (void)state;
    vgg_error err = {0};
    /* 20 records a batch, labels cycling 0..9: 2 of each class per file */
    vgg_cifar_options all = {dir, 10, 0, 0};
    vgg_dataset atrain, atest;
    assert_int_equal(vgg_cifar_load(&atrain, &atest, &all, &err), VGG_OK);
    assert_int_equal(atrain.n, 100);

    int labels[2] = {8, 3}; /* ship -> 0, cat -> 1 */
    vgg_cifar_options opt = {dir, 0, 0, 0};
    vgg_dataset train, test;
    vgg_status st =
        vgg_cifar_load_classes(&train, &test, &opt, labels, 2, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, VGG_OK);
    assert_int_equal(train.n, 20);
    assert_int_equal(test.n, 4);
    assert_int_equal(train.num_classes, 2);
    assert_string_equal(train.class_names[0], "ship");
    assert_string_equal(train.class_names[1], "cat");
    assert_string_equal(test.class_names[1], "cat");
    assert_string_equal(train.class_names[2], "");
    /* same records, same order as in the full set, relabelled */
    int j = 0;
    for (int i = 0; i < atrain.n; i++) {
        int to = atrain.labels[i] == 8 ? 0 : atrain.labels[i] == 3 ? 1 : -1;
        if (to < 0) continue;
        assert_int_equal(train.labels[j], to);
        assert_memory_equal(train.pixels + (size_t)j * VGG_CIFAR_PIXELS,
                            atrain.pixels + (size_t)i * VGG_CIFAR_PIXELS,
                            VGG_CIFAR_PIXELS);
        j++;
    }
    assert_int_equal(j, train.n);
    vgg_dataset_free(&train);
    vgg_dataset_free(&test);

    /* limits count kept records */
    opt.limit_train = 7;
    opt.limit_test = 3;
    assert_int_equal(
        vgg_cifar_load_classes(&train, &test, &opt, labels, 2, &err), VGG_OK);
    assert_int_equal(train.n, 7);
    assert_int_equal(test.n, 3);
    vgg_dataset_free(&train);
    vgg_dataset_free(&test);

    /* a limit that leaves a class out of a split is an error */
    opt.limit_train = 0;
    opt.limit_test = 1;
    assert_int_equal(
        vgg_cifar_load_classes(&train, &test, &opt, labels, 2, &err),
        VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "'ship'"));
    assert_non_null(strstr(err.msg, "--limit-test"));
    assert_null(train.pixels);
    assert_null(test.pixels);

    /* by name, in one call */
    opt.limit_test = 0;
    assert_int_equal(
        vgg_cifar_load_named(&train, &test, &opt, "frog,airplane,deer", &err),
        VGG_OK);
    assert_int_equal(train.num_classes, 3);
    assert_int_equal(train.n, 30);
    assert_string_equal(train.class_names[0], "frog");
    int count[3] = {0};
    for (int i = 0; i < train.n; i++) {
        assert_true(train.labels[i] < 3);
        count[train.labels[i]]++;
    }
    assert_int_equal(count[0], 10);
    assert_int_equal(count[1], 10);
    assert_int_equal(count[2], 10);
    vgg_dataset_free(&train);
    vgg_dataset_free(&test);
    assert_int_equal(
        vgg_cifar_load_named(&train, &test, &opt, "frog,fog", &err),
        VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "'fog'"));
    /* bad label lists */
    int dup[2] = {3, 3};
    assert_int_equal(vgg_cifar_load_classes(&train, &test, &opt, dup, 2, &err),
                     VGG_ERR_ARG);
    /* missing data: the file is named */
    vgg_cifar_options nowhere = {"/nonexistent-cifar", 0, 0, 0};
    assert_int_equal(
        vgg_cifar_load_classes(&train, &test, &nowhere, labels, 2, &err),
        VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent-cifar/batches.meta.txt"));
    vgg_dataset_free(&atrain);
    vgg_dataset_free(&atest);
}

int main(void) {
    const char *d = tu_tmpdir("classes");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    if (tu_write_cifar_dir(dir, 20, 20, 10)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
