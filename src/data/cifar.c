#include "vgg/cifar.h"
#include "vgg/output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void vgg_dataset_free(vgg_dataset *ds) {
    if (!ds) return;
    free(ds->pixels);
    free(ds->labels);
    ds->pixels = NULL;
    ds->labels = NULL;
    ds->n = 0;
}

vgg_status vgg_cifar_read_meta(vgg_dataset *ds, const char *path,
                               vgg_error *err) {
    /* a regular file only: a folder's size reads as LONG_MAX, and a FIFO
     * would block */
    FILE *f;
    vgg_status st = vgg_input_open(path, &f, err);
    if (st) {
        if (err) {
            size_t n = strlen(err->msg);
            snprintf(err->msg + n, sizeof err->msg - n,
                     "; expected the CIFAR-10 class names, one a line");
        }
        return st;
    }
    char line[256];
    int k = 0;
    while (k < VGG_CIFAR_MAX_CLASSES && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (len == 0) continue; /* the official file ends with blank lines */
        if (len >= VGG_CLASS_NAME_MAX) {
            fclose(f);
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: class name on line %d is %zu bytes long; at "
                            "most %d expected",
                            path, k + 1, len, VGG_CLASS_NAME_MAX - 1);
        }
        memcpy(ds->class_names[k], line, len + 1);
        k++;
    }
    fclose(f);
    if (k < VGG_CIFAR_MAX_CLASSES)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: found %d class names; expected %d", path, k,
                        VGG_CIFAR_MAX_CLASSES);
    return VGG_OK;
}

vgg_status vgg_cifar_read_file(vgg_dataset *ds, const char *path, int classes,
                               int limit, vgg_error *err) {
    FILE *f;
    vgg_status st = vgg_input_open(path, &f, err);
    if (st) return st;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot seek (%s)", path,
                        strerror(errno));
    }
    long size = ftell(f);
    rewind(f);
    if (size < 0 || size % VGG_CIFAR_RECORD != 0 || size == 0) {
        fclose(f);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: size %ld bytes is not a positive whole number of "
                        "%d-byte CIFAR records",
                        path, size, VGG_CIFAR_RECORD);
    }
    long records = size / VGG_CIFAR_RECORD;
    long keep_max = records;
    if (limit > 0 && limit - ds->n < keep_max) keep_max = limit - ds->n;
    if (keep_max <= 0) {
        fclose(f);
        return VGG_OK;
    }
    size_t newn = (size_t)ds->n + (size_t)keep_max;
    uint8_t *px = realloc(ds->pixels, newn * VGG_CIFAR_PIXELS);
    if (!px) {
        fclose(f);
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: cannot allocate %zu images",
                        path, newn);
    }
    ds->pixels = px;
    uint8_t *lb = realloc(ds->labels, newn);
    if (!lb) {
        fclose(f);
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: cannot allocate %zu labels",
                        path, newn);
    }
    ds->labels = lb;
    uint8_t rec[VGG_CIFAR_RECORD];
    for (long r = 0; r < records && (limit <= 0 || ds->n < limit); r++) {
        if (fread(rec, 1, sizeof rec, f) != sizeof rec) {
            fclose(f);
            return vgg_fail(err, VGG_ERR_IO,
                            "%s: short read at record %ld (byte offset %ld)",
                            path, r, r * (long)VGG_CIFAR_RECORD);
        }
        if (rec[0] > 9) {
            fclose(f);
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: record %ld (byte offset %ld) has label %d; "
                            "expected 0 to 9",
                            path, r, r * (long)VGG_CIFAR_RECORD, rec[0]);
        }
        if (rec[0] >= classes) continue;
        ds->labels[ds->n] = rec[0];
        memcpy(ds->pixels + (size_t)ds->n * VGG_CIFAR_PIXELS, rec + 1,
               VGG_CIFAR_PIXELS);
        ds->n++;
    }
    fclose(f);
    return VGG_OK;
}

static vgg_status load_split(vgg_dataset *ds, const char *dir,
                             const char *const *files, int nfiles, int classes,
                             int limit, const char *flag, vgg_error *err) {
    char path[4096];
    for (int i = 0; i < nfiles; i++) {
        if (snprintf(path, sizeof path, "%s/%s", dir, files[i]) >=
            (int)sizeof path)
            return vgg_fail(err, VGG_ERR_ARG, "--data %s: path too long", dir);
        vgg_status st = vgg_cifar_read_file(ds, path, classes, limit, err);
        if (st) return st;
    }
    if (ds->n == 0)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: no images with a label below %d (--classes %d%s)",
                        dir, classes, classes, flag);
    /* Every class must be present, or accuracy per class is meaningless
     * and the model cannot learn it. */
    int count[VGG_CIFAR_MAX_CLASSES] = {0};
    for (int i = 0; i < ds->n; i++) count[ds->labels[i]]++;
    for (int c = 0; c < classes; c++)
        if (count[c] == 0)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: class %d has no images in the %s split "
                            "(--classes %d%s); raise the limit or check the "
                            "data",
                            dir, c, files[0][0] == 't' ? "test" : "training",
                            classes, flag);
    return VGG_OK;
}

vgg_status vgg_cifar_load(vgg_dataset *train, vgg_dataset *test,
                          const vgg_cifar_options *opt, vgg_error *err) {
    static const char *const train_files[] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
        "data_batch_4.bin", "data_batch_5.bin"};
    static const char *const test_files[] = {"test_batch.bin"};
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (opt->classes < 2 || opt->classes > VGG_CIFAR_MAX_CLASSES)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--classes %d: expected a number from 2 to 10",
                        opt->classes);
    char path[4096];
    snprintf(path, sizeof path, "%s/batches.meta.txt", opt->dir);
    vgg_status st = vgg_cifar_read_meta(train, path, err);
    if (!st) {
        memcpy(test->class_names, train->class_names,
               sizeof train->class_names);
        train->num_classes = test->num_classes = opt->classes;
        st = load_split(train, opt->dir, train_files, 5, opt->classes,
                        opt->limit_train,
                        opt->limit_train ? ", --limit-train" : "", err);
    }
    if (!st)
        st = load_split(test, opt->dir, test_files, 1, opt->classes,
                        opt->limit_test,
                        opt->limit_test ? ", --limit-test" : "", err);
    if (st) {
        vgg_dataset_free(train);
        vgg_dataset_free(test);
    }
    return st;
}
