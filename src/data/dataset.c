/* Class selection on any loaded set, per-channel statistics and layout
 * detection (include/vgg/dataset.h). */
#include "vgg/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vgg/classes.h"

static int exists(const char *dir, const char *name, int want_dir) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return 0;
    struct stat sb;
    if (stat(path, &sb) != 0) return 0;
    return want_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode);
}

const char *vgg_layout_name(vgg_layout layout) {
    switch (layout) {
    case VGG_LAYOUT_CIFAR10:
        return "CIFAR-10 binary";
    case VGG_LAYOUT_CIFAR100:
        return "CIFAR-100 binary";
    case VGG_LAYOUT_FOLDER:
        return "image folder";
    default:
        return "none";
    }
}

vgg_status vgg_layout_detect(const char *dir, vgg_layout *layout,
                             vgg_error *err) {
    *layout = VGG_LAYOUT_NONE;
    DIR *d = opendir(dir);
    if (!d)
        return vgg_fail(err, VGG_ERR_IO,
                        "--data %s: cannot open the folder "
                        "(%s)",
                        dir, strerror(errno));
    int subdirs = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        subdirs += exists(dir, e->d_name, 1);
    }
    closedir(d);
    if (exists(dir, "data_batch_1.bin", 0))
        *layout = VGG_LAYOUT_CIFAR10;
    else if (exists(dir, "train.bin", 0))
        *layout = VGG_LAYOUT_CIFAR100;
    else if (subdirs > 0)
        *layout = VGG_LAYOUT_FOLDER;
    else
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "--data %s: no data found; expected CIFAR-10 "
                        "(data_batch_1.bin ...), CIFAR-100 (train.bin, "
                        "test.bin) or an image folder (train/<class>/*, "
                        "test/<class>/*, or <class>/* with --val-split)",
                        dir);
    return VGG_OK;
}

vgg_status vgg_dataset_check_classes(const vgg_dataset *ds, const char *dir,
                                     const char *split, vgg_error *err) {
    int *count = calloc((size_t)ds->num_classes + 1, sizeof *count);
    if (!count) return vgg_fail(err, VGG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < ds->n; i++)
        if (ds->labels[i] < ds->num_classes) count[ds->labels[i]]++;
    for (int c = 0; c < ds->num_classes; c++)
        if (count[c] == 0) {
            free(count);
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: class '%s' has no images in the %s split; "
                            "every class needs images in both splits",
                            dir, ds->class_names[c], split);
        }
    free(count);
    return VGG_OK;
}

/* Compacts ds to the images whose label maps to >= 0, relabelled. */
static void keep_mapped(vgg_dataset *ds, const int *map, int k,
                        const int *labels) {
    size_t bytes = vgg_dataset_image_bytes(ds);
    int n = 0;
    for (int i = 0; i < ds->n; i++) {
        int to = map[ds->labels[i]];
        if (to < 0) continue;
        if (n != i)
            memmove(ds->pixels + (size_t)n * bytes,
                    ds->pixels + (size_t)i * bytes, bytes);
        ds->labels[n++] = (uint8_t)to;
    }
    ds->n = n;
    char names[VGG_MAX_CLASSES][VGG_CLASS_NAME_MAX];
    for (int c = 0; c < k; c++)
        memcpy(names[c], ds->class_names[labels[c]], VGG_CLASS_NAME_MAX);
    memset(ds->class_names, 0, sizeof ds->class_names);
    memcpy(ds->class_names, names, (size_t)k * VGG_CLASS_NAME_MAX);
    ds->num_classes = k;
}

vgg_status vgg_dataset_choose(vgg_dataset *train, vgg_dataset *test,
                              int classes, const char *list, vgg_error *err) {
    const vgg_dataset *ref = train ? train : test;
    int have = ref->num_classes;
    int labels[VGG_MAX_CLASSES], k = 0;
    if (list) {
        vgg_status st =
            vgg_classes_parse(list, ref->class_names, have, labels, &k, err);
        if (st) return st;
    } else {
        if (classes == 0 || classes == have) return VGG_OK;
        if (classes < 2 || classes > have)
            return vgg_fail(err, VGG_ERR_ARG,
                            "--classes %d: expected a number from 2 to %d "
                            "(the data has %d classes)",
                            classes, have, have);
        k = classes;
        for (int c = 0; c < k; c++) labels[c] = c;
    }
    int map[256];
    for (int c = 0; c < 256; c++) map[c] = -1;
    for (int c = 0; c < k; c++) map[labels[c]] = c;
    /* Check before changing anything: every chosen class in both sets. */
    vgg_dataset *sets[2] = {train, test};
    for (int s = 0; s < 2; s++) {
        if (!sets[s]) continue;
        int seen[VGG_MAX_CLASSES] = {0};
        for (int i = 0; i < sets[s]->n; i++)
            if (map[sets[s]->labels[i]] >= 0) seen[map[sets[s]->labels[i]]] = 1;
        for (int c = 0; c < k; c++)
            if (!seen[c])
                return vgg_fail(err, VGG_ERR_FORMAT,
                                "class '%s' has no images in the %s split",
                                ref->class_names[labels[c]],
                                s ? "test" : "training");
    }
    for (int s = 0; s < 2; s++)
        if (sets[s]) keep_mapped(sets[s], map, k, labels);
    return VGG_OK;
}

void vgg_dataset_stats(const vgg_dataset *ds, float mean[3], float std[3]) {
    const size_t plane = vgg_dataset_image_bytes(ds) / 3;
    unsigned long long s[3] = {0, 0, 0}, q[3] = {0, 0, 0};
    for (int c = 0; c < 3; c++) {
        unsigned long long sc = 0, qc = 0;
#pragma omp parallel for reduction(+ : sc, qc) schedule(static)
        for (int i = 0; i < ds->n; i++) {
            const uint8_t *p = ds->pixels + ((size_t)i * 3 + c) * plane;
            unsigned long long a = 0, b = 0;
            for (size_t j = 0; j < plane; j++) {
                a += p[j];
                b += (unsigned)p[j] * p[j];
            }
            sc += a;
            qc += b;
        }
        s[c] = sc;
        q[c] = qc;
    }
    double count = (double)ds->n * (double)plane;
    for (int c = 0; c < 3; c++) {
        if (count == 0) {
            mean[c] = 0.0f;
            std[c] = 1.0f;
            continue;
        }
        double m = (double)s[c] / count;
        double var = (double)q[c] / count - m * m;
        if (var < 0) var = 0;
        mean[c] = (float)(m / 255.0);
        std[c] = (float)(sqrt(var) / 255.0);
        if (std[c] < 1e-6f) std[c] = 1.0f; /* a flat channel: no scaling */
    }
}
