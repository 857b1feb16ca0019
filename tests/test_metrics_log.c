/* The per-epoch and per-batch logs: rows appended, parsed back (CSV by
 * hand, JSON Lines with jansson), write errors reported. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "util.h"
#include "util_pix.h"
#include "vgg/metrics.h"
#include "vgg/path.h"

static char dir[512];

static const char *tmp(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static vgg_epoch_record record(int e) {
    vgg_epoch_record r = {
        e,        0.01f / e,         2.0f / e,  0.3f + 0.05f * e,
        2.1f / e, 0.25f + 0.04f * e, 61.5f + e, 812.25f - e};
    return r;
}

static void assert_close(double got, double want) {
    if (fabs(got - want) > 1e-6 * fmax(1.0, fabs(want))) {
        fprintf(stderr, "%.9g != %.9g\n", got, want);
        fail();
    }
}

static void check_fields(const double *v, const vgg_epoch_record *r) {
    assert_int_equal((int)v[0], r->epoch);
    assert_close(v[1], r->lr);
    assert_close(v[2], r->train_loss);
    assert_close(v[3], r->train_acc);
    assert_close(v[4], r->test_loss);
    assert_close(v[5], r->test_acc);
    assert_close(v[6], r->seconds);
    assert_close(v[7], r->images_per_second);
}

static void test_csv(void **state) {
    (void)state;
    const char *path = tmp("log.csv");
    vgg_error err = {0};
    for (int e = 1; e <= 3; e++) {
        vgg_epoch_record r = record(e);
        assert_int_equal(vgg_metrics_append(path, &r, &err), VGG_OK);
    }
    vgg_epoch_record gap = record(4);
    gap.test_loss = NAN;
    gap.test_acc = NAN;
    assert_int_equal(vgg_metrics_append(path, &gap, &err), VGG_OK);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, VGG_METRICS_CSV_HEADER "\n");
    for (int e = 1; e <= 4; e++) {
        assert_non_null(fgets(line, sizeof line, f));
        double v[8];
        char *p = line;
        for (int i = 0; i < 8; i++) {
            char *end;
            v[i] = strtod(p, &end);
            if (end == p) v[i] = NAN; /* empty field */
            assert_true(*end == (i < 7 ? ',' : '\n'));
            p = end + 1;
        }
        if (e < 4) {
            vgg_epoch_record r = record(e);
            check_fields(v, &r);
        } else {
            assert_true(isnan(v[4]) && isnan(v[5]));
            assert_close(v[2], gap.train_loss);
        }
    }
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
}

static void test_jsonl(void **state) {
    (void)state;
    static const char *keys[] = {
        "epoch",     "lr",       "train_loss", "train_acc",
        "test_loss", "test_acc", "seconds",    "images_per_second"};
    vgg_error err = {0};
    for (int t = 0; t < 2; t++) {
        const char *path = tmp(t ? "log.JSON" : "log.jsonl");
        assert_int_equal(vgg_metrics_format_of(path), VGG_METRICS_JSONL);
        for (int e = 1; e <= 3; e++) {
            vgg_epoch_record r = record(e);
            if (e == 3) r.test_acc = INFINITY;
            assert_int_equal(vgg_metrics_append(path, &r, &err), VGG_OK);
        }
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char line[512];
        for (int e = 1; e <= 3; e++) {
            assert_non_null(fgets(line, sizeof line, f));
            json_error_t je;
            json_t *o = json_loads(line, 0, &je);
            if (!o) fprintf(stderr, "%s: %s\n", line, je.text);
            assert_non_null(o);
            assert_true(json_is_object(o));
            assert_int_equal(json_object_size(o), 8);
            double v[8];
            for (int i = 0; i < 8; i++) {
                json_t *x = json_object_get(o, keys[i]);
                assert_non_null(x);
                v[i] = json_is_null(x) ? NAN : json_number_value(x);
            }
            assert_true(json_is_integer(json_object_get(o, "epoch")));
            vgg_epoch_record r = record(e);
            if (e == 3) {
                assert_true(json_is_null(json_object_get(o, "test_acc")));
                v[5] = r.test_acc;
            }
            check_fields(v, &r);
            json_decref(o);
        }
        assert_null(fgets(line, sizeof line, f));
        fclose(f);
    }
}

static void test_errors(void **state) {
    (void)state;
    vgg_error err = {0};
    vgg_epoch_record r = record(1);
    /* someone else's CSV is left alone */
    const char *path = tmp("other.csv");
    assert_int_equal(tp_write_file(path, "a,b\n1,2\n", 8), 0);
    assert_int_equal(vgg_metrics_append(path, &r, &err), VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, path));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 8);
    /* a folder that does not exist */
    path = tmp("nowhere/log.csv");
    assert_int_equal(vgg_metrics_append(path, &r, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, path));
    /* a full disk: the failed write is reported */
    if (stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode)) {
        assert_int_equal(vgg_metrics_append("/dev/full", &r, &err), VGG_ERR_IO);
        assert_non_null(strstr(err.msg, "/dev/full"));
        assert_int_equal(stat("/dev/full", &sb), 0);
        assert_true(S_ISCHR(sb.st_mode));
    }
    /* a row cut short before is not glued to the next */
    path = tmp("cut.csv");
    assert_int_equal(tp_write_file(path, VGG_METRICS_CSV_HEADER "\n1,0.0",
                                   strlen(VGG_METRICS_CSV_HEADER) + 6),
                     0);
    r = record(2);
    assert_int_equal(vgg_metrics_append(path, &r, &err), VGG_OK);
    FILE *f = fopen(path, "r");
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "1,0.0\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(atoi(line), 2);
    fclose(f);
}

/* The batch log: one epoch's rows in one append, header once, values kept
 * (a NaN loss written empty / null); the two logs refuse each other's
 * CSV; a full disk is reported. */
static void test_batches(void **state) {
    (void)state;
    vgg_error err = {0};
    vgg_batch_record r[3];
    for (int i = 0; i < 3; i++)
        r[i] = (vgg_batch_record){
            2, i + 1, 0.05f, 1.5f - 0.25f * i, 0.125f * (i + 1), 0.75f + i};
    const char *path = tmp("batches.csv");
    assert_int_equal(vgg_metrics_append_batches(path, r, 3, &err), VGG_OK);
    r[0].epoch = r[1].epoch = r[2].epoch = 3;
    r[1].loss = NAN;
    assert_int_equal(vgg_metrics_append_batches(path, r, 2, &err), VGG_OK);
    assert_int_equal(vgg_metrics_append_batches(path, r, 0, &err), VGG_OK);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, VGG_BATCH_CSV_HEADER "\n");
    int e, b;
    float lr, loss, acc, sec;
    for (int i = 0; i < 3; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(
            sscanf(line, "%d,%d,%f,%f,%f,%f", &e, &b, &lr, &loss, &acc, &sec),
            6);
        assert_int_equal(e, 2);
        assert_int_equal(b, i + 1);
        assert_close(lr, 0.05);
        assert_close(loss, 1.5 - 0.25 * i);
        assert_close(acc, 0.125 * (i + 1));
        assert_close(sec, 0.75 + i);
    }
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "3,1,0.05,1.5,0.125,0.75\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "3,2,0.05,,0.25,1.75\n");
    assert_null(fgets(line, sizeof line, f));
    fclose(f);

    path = tmp("batches.jsonl");
    assert_int_equal(vgg_metrics_append_batches(path, r, 2, &err), VGG_OK);
    json_error_t je;
    json_t *all = json_load_file(path, JSON_DISABLE_EOF_CHECK, &je);
    assert_non_null(all);
    assert_int_equal(json_integer_value(json_object_get(all, "batch")), 1);
    assert_close(json_real_value(json_object_get(all, "acc")), 0.125);
    json_decref(all);
    f = fopen(path, "r");
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "\"loss\": null"));
    fclose(f);

    /* each log refuses the other's CSV */
    vgg_epoch_record er = record(1);
    assert_int_equal(vgg_metrics_append(tmp("batches.csv"), &er, &err),
                     VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "not a vggtrain metrics log"));
    assert_int_equal(vgg_metrics_append(tmp("epochs.csv"), &er, &err), VGG_OK);
    assert_int_equal(vgg_metrics_append_batches(tmp("epochs.csv"), r, 1, &err),
                     VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "not a vggtrain batch log"));
    assert_non_null(strstr(err.msg, "--batch-log"));
    /* the check before a run says the same, writing nothing */
    assert_int_equal(vgg_metrics_check(tmp("batches.csv"), 1, &err), VGG_OK);
    assert_int_equal(vgg_metrics_check(tmp("epochs.csv"), 0, &err), VGG_OK);
    assert_int_equal(vgg_metrics_check(tmp("batches.csv"), 0, &err),
                     VGG_ERR_FORMAT);
    assert_int_equal(vgg_metrics_check(tmp("epochs.csv"), 1, &err),
                     VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "--batch-log"));
    assert_int_equal(vgg_metrics_check(tmp("batches.jsonl"), 0, &err), VGG_OK);
    assert_int_equal(vgg_metrics_check(tmp("new.csv"), 1, &err), VGG_OK);
    assert_int_equal(vgg_metrics_check(tmp("nowhere/new.csv"), 1, &err),
                     VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "nowhere"));
    assert_int_equal(vgg_metrics_check(dir, 0, &err), VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "is a folder"));
    struct stat sb;
    assert_int_not_equal(stat(tmp("new.csv"), &sb), 0);
    if (stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode)) {
        assert_int_equal(vgg_metrics_append_batches("/dev/full", r, 2, &err),
                         VGG_ERR_IO);
        assert_non_null(strstr(err.msg, "/dev/full"));
        assert_non_null(strstr(err.msg, "epoch 3's 2 batches"));
    }
}

/* The folder of a path, which the logs' check and the checkpoint writer
 * share. */
static void test_path_folder(void **state) {
    (void)state;
    char d[64];
    vgg_path_folder("log.csv", d, sizeof d);
    assert_string_equal(d, ".");
    vgg_path_folder("/log.csv", d, sizeof d);
    assert_string_equal(d, "/");
    vgg_path_folder("runs/a/log.csv", d, sizeof d);
    assert_string_equal(d, "runs/a");
    vgg_path_folder("/tmp/x/", d, sizeof d);
    assert_string_equal(d, "/tmp/x");
}

int main(void) {
    const char *d = tu_tmpdir("metrics");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),         cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_errors),      cmocka_unit_test(test_batches),
        cmocka_unit_test(test_path_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
