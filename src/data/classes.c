/* Class selection by name and the loader for a chosen subset. The subset
 * loader reuses vgg_cifar_read_file one batch file at a time (all ten
 * classes into a scratch set, about 30 MB for an official batch) and keeps
 * the chosen records, so src/data/cifar.c stays as it is. */
#include "vgg/classes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list_names(char *buf, size_t n,
                       const char names[][VGG_CLASS_NAME_MAX], int nnames) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < nnames && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "," : "",
                                 names[i]);
}

vgg_status vgg_classes_parse(const char *list,
                             const char names[][VGG_CLASS_NAME_MAX], int nnames,
                             int *labels, int *k, vgg_error *err) {
    char valid[VGG_MAX_CLASSES * VGG_CLASS_NAME_MAX + 16];
    list_names(valid, sizeof valid, names, nnames);
    const char *v = list ? list : "";
    int n = 0;
    const char *p = v;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        size_t len = (size_t)(b - a);
        if (len == 0)
            return vgg_fail(err, VGG_ERR_ARG,
                            "--class-names %s: empty name at position %d; "
                            "expected names separated by commas, from: %s",
                            v, n + 1, valid);
        int found = -1;
        for (int i = 0; i < nnames; i++)
            if (strlen(names[i]) == len && memcmp(names[i], a, len) == 0)
                found = i;
        if (found < 0)
            return vgg_fail(err, VGG_ERR_ARG,
                            "--class-names %s: unknown class '%.*s'; the "
                            "classes are: %s",
                            v, (int)len, a, valid);
        for (int i = 0; i < n; i++)
            if (labels[i] == found)
                return vgg_fail(err, VGG_ERR_ARG,
                                "--class-names %s: '%s' is given twice; "
                                "name each class once",
                                v, names[found]);
        if (n == VGG_MAX_CLASSES) /* unreachable: names are distinct */
            return vgg_fail(err, VGG_ERR_ARG,
                            "--class-names %s: more than %d classes", v,
                            VGG_MAX_CLASSES);
        labels[n++] = found;
        if (!*end) break;
        p = end + 1;
    }
    if (n < 2)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--class-names %s: one class; expected at least 2 "
                        "names separated by commas, from: %s",
                        v, valid);
    *k = n;
    return VGG_OK;
}

/* Appends the records of path whose label is chosen (map[label] >= 0),
 * relabelled, up to limit records in ds (0: no limit). */
static vgg_status read_mapped(vgg_dataset *ds, const char *path,
                              const int map[VGG_CIFAR_MAX_CLASSES], int limit,
                              vgg_error *err) {
    vgg_dataset tmp;
    memset(&tmp, 0, sizeof tmp);
    vgg_status st =
        vgg_cifar_read_file(&tmp, path, VGG_CIFAR_MAX_CLASSES, 0, err);
    if (st) {
        vgg_dataset_free(&tmp);
        return st;
    }
    int keep = 0;
    for (int i = 0; i < tmp.n; i++) keep += map[tmp.labels[i]] >= 0;
    if (limit > 0 && keep > limit - ds->n) keep = limit - ds->n;
    if (keep > 0) {
        size_t newn = (size_t)ds->n + (size_t)keep;
        uint8_t *px = realloc(ds->pixels, newn * VGG_CIFAR_PIXELS);
        if (px) ds->pixels = px;
        uint8_t *lb = px ? realloc(ds->labels, newn) : NULL;
        if (lb) ds->labels = lb;
        if (!px || !lb) {
            vgg_dataset_free(&tmp);
            return vgg_fail(err, VGG_ERR_NOMEM,
                            "%s: cannot allocate %zu images", path, newn);
        }
        for (int i = 0, kept = 0; i < tmp.n && kept < keep; i++) {
            int to = map[tmp.labels[i]];
            if (to < 0) continue;
            ds->labels[ds->n] = (uint8_t)to;
            memcpy(ds->pixels + (size_t)ds->n * VGG_CIFAR_PIXELS,
                   tmp.pixels + (size_t)i * VGG_CIFAR_PIXELS, VGG_CIFAR_PIXELS);
            ds->n++;
            kept++;
        }
    }
    vgg_dataset_free(&tmp);
    return VGG_OK;
}

static vgg_status load_split(vgg_dataset *ds, const char *dir,
                             const char *const *files, int nfiles,
                             const int map[VGG_CIFAR_MAX_CLASSES], int k,
                             int limit, const char *split, const char *flag,
                             vgg_error *err) {
    char path[4096];
    for (int i = 0; i < nfiles; i++) {
        if (limit > 0 && ds->n >= limit) break;
        if (snprintf(path, sizeof path, "%s/%s", dir, files[i]) >=
            (int)sizeof path)
            return vgg_fail(err, VGG_ERR_ARG, "--data %s: path too long", dir);
        vgg_status st = read_mapped(ds, path, map, limit, err);
        if (st) return st;
    }
    int count[VGG_CIFAR_MAX_CLASSES] = {0};
    for (int i = 0; i < ds->n; i++) count[ds->labels[i]]++;
    for (int c = 0; c < k; c++)
        if (count[c] == 0)
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: class '%s' has no images in the %s split "
                            "(--class-names%s); raise the limit or check the "
                            "data",
                            dir, ds->class_names[c], split, flag);
    return VGG_OK;
}

vgg_status vgg_cifar_load_classes(vgg_dataset *train, vgg_dataset *test,
                                  const vgg_cifar_options *opt,
                                  const int *labels, int k, vgg_error *err) {
    static const char *const train_files[] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
        "data_batch_4.bin", "data_batch_5.bin"};
    static const char *const test_files[] = {"test_batch.bin"};
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (k < 2 || k > VGG_CIFAR_MAX_CLASSES)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--class-names: %d classes; expected 2 to %d", k,
                        VGG_CIFAR_MAX_CLASSES);
    int map[VGG_CIFAR_MAX_CLASSES];
    for (int c = 0; c < VGG_CIFAR_MAX_CLASSES; c++) map[c] = -1;
    for (int i = 0; i < k; i++) {
        if (labels[i] < 0 || labels[i] >= VGG_CIFAR_MAX_CLASSES ||
            map[labels[i]] >= 0)
            return vgg_fail(err, VGG_ERR_ARG,
                            "--class-names: label %d (entry %d) is out of "
                            "range or repeated; expected distinct labels 0 "
                            "to 9",
                            labels[i], i + 1);
        map[labels[i]] = i;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/batches.meta.txt", opt->dir);
    vgg_dataset meta;
    memset(&meta, 0, sizeof meta);
    vgg_status st = vgg_cifar_read_meta(&meta, path, err);
    if (st) return st;
    for (int i = 0; i < k; i++) {
        memcpy(train->class_names[i], meta.class_names[labels[i]],
               VGG_CLASS_NAME_MAX);
        memcpy(test->class_names[i], meta.class_names[labels[i]],
               VGG_CLASS_NAME_MAX);
    }
    train->num_classes = test->num_classes = k;
    st = load_split(train, opt->dir, train_files, 5, map, k, opt->limit_train,
                    "training", opt->limit_train ? ", --limit-train" : "", err);
    if (!st)
        st = load_split(test, opt->dir, test_files, 1, map, k, opt->limit_test,
                        "test", opt->limit_test ? ", --limit-test" : "", err);
    if (st) {
        vgg_dataset_free(train);
        vgg_dataset_free(test);
    }
    return st;
}

vgg_status vgg_cifar_load_named(vgg_dataset *train, vgg_dataset *test,
                                const vgg_cifar_options *opt, const char *list,
                                vgg_error *err) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char path[4096];
    snprintf(path, sizeof path, "%s/batches.meta.txt", opt->dir);
    vgg_dataset meta;
    memset(&meta, 0, sizeof meta);
    vgg_status st = vgg_cifar_read_meta(&meta, path, err);
    if (st) return st;
    int labels[VGG_CIFAR_MAX_CLASSES], k = 0;
    st = vgg_classes_parse(list, meta.class_names, VGG_CIFAR_MAX_CLASSES,
                           labels, &k, err);
    if (st) return st;
    return vgg_cifar_load_classes(train, test, opt, labels, k, err);
}
