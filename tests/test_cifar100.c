/* The CIFAR-100 binary layout on small files made here: both label kinds
 * and their names, class choice, layout detection, and damaged files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "util_pix.h"
#include "vgg/cifar100.h"
#include "vgg/dataset.h"

static char dir[512];

static const char *at(const char *name) {
    static char path[2][1024];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

/* n records; record i has fine label i % 100, coarse (i % 100) / 5 and
 * pixels all equal to i % 251. */
static void write_bin(const char *path, int n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t rec[VGG_CIFAR100_RECORD];
    for (int i = 0; i < n; i++) {
        rec[0] = (uint8_t)((i % 100) / 5);
        rec[1] = (uint8_t)(i % 100);
        memset(rec + 2, i % 251, VGG_CIFAR_PIXELS);
        assert_int_equal(fwrite(rec, 1, sizeof rec, f), sizeof rec);
    }
    fclose(f);
}

static void write_names(void) {
    FILE *f = fopen(at("fine_label_names.txt"), "w");
    for (int i = 0; i < 100; i++) fprintf(f, "fine%02d\n", i);
    fclose(f);
    f = fopen(at("coarse_label_names.txt"), "w");
    for (int i = 0; i < 20; i++) fprintf(f, "coarse%02d\r\n", i);
    fputs("\n\n", f);
    fclose(f);
}

static void test_both_kinds(void **state) {
    (void)state;
    write_bin(at("train.bin"), 300);
    write_bin(at("test.bin"), 100);
    write_names();
    vgg_layout lay;
    vgg_error err = {0};
    assert_int_equal(vgg_layout_detect(dir, &lay, &err), VGG_OK);
    assert_int_equal(lay, VGG_LAYOUT_CIFAR100);

    vgg_dataset tr, te;
    assert_int_equal(
        vgg_cifar100_load(&tr, &te, dir, VGG_CIFAR100_LABELS_FINE, 0, 0, &err),
        VGG_OK);
    assert_int_equal(tr.n, 300);
    assert_int_equal(te.n, 100);
    assert_int_equal(tr.num_classes, 100);
    assert_int_equal(tr.side, 32);
    assert_int_equal(tr.labels[157], 57);
    assert_string_equal(tr.class_names[57], "fine57");
    assert_string_equal(te.class_names[99], "fine99");
    assert_int_equal(tr.pixels[(size_t)157 * VGG_CIFAR_PIXELS + 3071], 157);
    /* --classes 5 keeps fine labels 0..4; --class-names picks and orders */
    assert_int_equal(vgg_dataset_choose(&tr, &te, 5, NULL, &err), VGG_OK);
    assert_int_equal(tr.n, 15);
    assert_int_equal(te.n, 5);
    assert_int_equal(vgg_dataset_choose(&tr, &te, 0, "fine03,fine01", &err),
                     VGG_OK);
    assert_int_equal(tr.n, 6);
    assert_string_equal(tr.class_names[0], "fine03");
    for (int i = 0; i < tr.n; i++)
        assert_int_equal(tr.pixels[(size_t)i * VGG_CIFAR_PIXELS] % 100,
                         tr.labels[i] ? 1 : 3);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);

    assert_int_equal(vgg_cifar100_load(&tr, &te, dir,
                                       VGG_CIFAR100_LABELS_COARSE, 0, 0, &err),
                     VGG_OK);
    assert_int_equal(tr.num_classes, 20);
    assert_int_equal(tr.labels[157], 11);
    assert_string_equal(tr.class_names[11], "coarse11");
    assert_string_equal(tr.class_names[19], "coarse19");
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
    /* limits */
    assert_int_equal(
        vgg_cifar100_load(&tr, &te, dir, VGG_CIFAR100_LABELS_FINE, 40, 7, &err),
        VGG_OK);
    assert_int_equal(tr.n, 40);
    assert_int_equal(te.n, 7);
    vgg_dataset_free(&tr);
    vgg_dataset_free(&te);
}

static void expect_fail(vgg_cifar100_labels kind, const char *a,
                        const char *b) {
    vgg_dataset tr, te;
    vgg_error err = {0};
    vgg_status st = vgg_cifar100_load(&tr, &te, dir, kind, 0, 0, &err);
    if (!st || !strstr(err.msg, a) || !strstr(err.msg, b))
        fprintf(stderr, "got %d: %s\n", st, err.msg);
    assert_int_not_equal(st, VGG_OK);
    assert_non_null(strstr(err.msg, a));
    assert_non_null(strstr(err.msg, b));
    assert_null(tr.pixels);
    assert_null(te.pixels);
}

static void test_bad_files(void **state) {
    (void)state;
    write_names();
    write_bin(at("train.bin"), 200);
    /* a CIFAR-10 sized file */
    uint8_t ten[3073 * 2] = {0};
    assert_int_equal(tp_write_file(at("test.bin"), ten, sizeof ten), 0);
    expect_fail(VGG_CIFAR100_LABELS_FINE, at("test.bin"),
                "3074-byte CIFAR-100 records");
    /* a fine label out of range at record 1 */
    write_bin(at("test.bin"), 100);
    FILE *f = fopen(at("test.bin"), "r+b");
    fseek(f, VGG_CIFAR100_RECORD + 1, SEEK_SET);
    fputc(100, f);
    fclose(f);
    expect_fail(VGG_CIFAR100_LABELS_COARSE, at("test.bin"),
                "record 1 (byte offset 3074) has coarse label 0 and fine "
                "label 100");
    /* a class without images: 60 records hold fine labels 0..59 only */
    write_bin(at("test.bin"), 60);
    expect_fail(VGG_CIFAR100_LABELS_FINE, "class 'fine60' has no images",
                "test split");
    /* a short names file */
    write_bin(at("test.bin"), 100);
    f = fopen(at("coarse_label_names.txt"), "w");
    fputs("a\nb\n", f);
    fclose(f);
    expect_fail(VGG_CIFAR100_LABELS_COARSE, at("coarse_label_names.txt"),
                "found 2 class names; expected 20");
    remove(at("fine_label_names.txt"));
    expect_fail(VGG_CIFAR100_LABELS_FINE, at("fine_label_names.txt"),
                "cannot open");
}

int main(void) {
    const char *d = tu_tmpdir("cifar100");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_kinds),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
