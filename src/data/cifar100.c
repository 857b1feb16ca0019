/* The CIFAR-100 binary layout (include/vgg/cifar100.h). */
#include "vgg/cifar100.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vgg/dataset.h"
#include "vgg/output.h"

vgg_status vgg_read_class_names(const char *path, int n,
                                char names[][VGG_CLASS_NAME_MAX],
                                vgg_error *err) {
    FILE *f;
    vgg_status st = vgg_input_open(path, &f, err);
    if (st) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        return vgg_fail(err, st, "%s; expected %d class names, one a line", why,
                        n);
    }
    char line[256];
    int k = 0, lineno = 0;
    while (k < n && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (len == 0) continue;
        if (len >= VGG_CLASS_NAME_MAX) {
            fclose(f);
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: class name on line %d is %zu bytes long; at "
                            "most %d expected",
                            path, lineno, len, VGG_CLASS_NAME_MAX - 1);
        }
        memcpy(names[k], line, len + 1);
        k++;
    }
    fclose(f);
    if (k < n)
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: found %d class names; expected %d", path, k, n);
    return VGG_OK;
}

vgg_status vgg_cifar100_read_file(vgg_dataset *ds, const char *path,
                                  vgg_cifar100_labels kind, int limit,
                                  vgg_error *err) {
    FILE *f;
    vgg_status st0 = vgg_input_open(path, &f, err);
    if (st0) return st0;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        fclose(f);
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot stat", path);
    }
    long long size = (long long)sb.st_size;
    if (size == 0 || size % VGG_CIFAR100_RECORD != 0) {
        fclose(f);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: size %lld bytes is not a positive whole number "
                        "of %d-byte CIFAR-100 records",
                        path, size, VGG_CIFAR100_RECORD);
    }
    long long records = size / VGG_CIFAR100_RECORD;
    if (limit > 0 && records > limit) records = limit;
    size_t newn = (size_t)ds->n + (size_t)records;
    uint8_t *px = realloc(ds->pixels, newn * VGG_CIFAR_PIXELS);
    if (px) ds->pixels = px;
    uint8_t *lb = px ? realloc(ds->labels, newn) : NULL;
    if (lb) ds->labels = lb;
    if (!px || !lb) {
        fclose(f);
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: cannot allocate %zu images",
                        path, newn);
    }
    ds->side = VGG_CIFAR_SIDE;
    const int which = kind == VGG_CIFAR100_LABELS_COARSE ? 0 : 1;
    uint8_t rec[VGG_CIFAR100_RECORD];
    for (long long r = 0; r < records; r++) {
        if (fread(rec, 1, sizeof rec, f) != sizeof rec) {
            fclose(f);
            return vgg_fail(err, VGG_ERR_IO,
                            "%s: short read at record %lld (byte offset %lld)",
                            path, r, r * VGG_CIFAR100_RECORD);
        }
        if (rec[0] >= VGG_CIFAR100_COARSE || rec[1] >= VGG_CIFAR100_FINE) {
            fclose(f);
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: record %lld (byte offset %lld) has coarse "
                            "label %d and fine label %d; expected 0 to 19 "
                            "and 0 to 99 (is this CIFAR-10 data?)",
                            path, r, r * VGG_CIFAR100_RECORD, rec[0], rec[1]);
        }
        ds->labels[ds->n] = rec[which];
        memcpy(ds->pixels + (size_t)ds->n * VGG_CIFAR_PIXELS, rec + 2,
               VGG_CIFAR_PIXELS);
        ds->n++;
    }
    fclose(f);
    return VGG_OK;
}

vgg_status vgg_cifar100_load(vgg_dataset *train, vgg_dataset *test,
                             const char *dir, vgg_cifar100_labels kind,
                             int limit_train, int limit_test, vgg_error *err) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    const int coarse = kind == VGG_CIFAR100_LABELS_COARSE;
    const int k = coarse ? VGG_CIFAR100_COARSE : VGG_CIFAR100_FINE;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s_label_names.txt", dir,
                 coarse ? "coarse" : "fine") >= (int)sizeof path)
        return vgg_fail(err, VGG_ERR_ARG, "--data %s: path too long", dir);
    vgg_status st = vgg_read_class_names(path, k, train->class_names, err);
    if (st) return st;
    memcpy(test->class_names, train->class_names, sizeof train->class_names);
    train->num_classes = test->num_classes = k;
    snprintf(path, sizeof path, "%s/train.bin", dir);
    st = vgg_cifar100_read_file(train, path, kind, limit_train, err);
    if (!st) {
        snprintf(path, sizeof path, "%s/test.bin", dir);
        st = vgg_cifar100_read_file(test, path, kind, limit_test, err);
    }
    if (!st && !limit_train)
        st = vgg_dataset_check_classes(train, dir, "training", err);
    if (!st && !limit_test)
        st = vgg_dataset_check_classes(test, dir, "test", err);
    if (st) {
        vgg_dataset_free(train);
        vgg_dataset_free(test);
    }
    return st;
}
