/* One loader for every layout (include/vgg/data.h). */
#include "vgg/data.h"

#include <stdlib.h>
#include <string.h>

#include "vgg/augment.h"
#include "vgg/classes.h"
#include "vgg/image.h"

vgg_status vgg_normalize_parse(const char *s, vgg_normalize *out,
                               vgg_error *err) {
    if (s && !strcmp(s, "auto"))
        *out = VGG_NORM_AUTO;
    else if (s && !strcmp(s, "cifar"))
        *out = VGG_NORM_CIFAR;
    else if (s && !strcmp(s, "none"))
        *out = VGG_NORM_NONE;
    else
        return vgg_fail(err, VGG_ERR_ARG,
                        "--normalize %s: expected auto (the training "
                        "images' mean and std), cifar (CIFAR-10's) or none",
                        s ? s : "(none)");
    return VGG_OK;
}

const char *vgg_normalize_name(vgg_normalize n) {
    switch (n) {
    case VGG_NORM_AUTO:
        return "auto";
    case VGG_NORM_CIFAR:
        return "cifar";
    case VGG_NORM_NONE:
        return "none";
    case VGG_NORM_GIVEN:
        return "stored";
    default:
        return "default";
    }
}

void vgg_dataset_set_norm(vgg_dataset *train, vgg_dataset *test,
                          const float mean[3], const float std[3]) {
    for (int c = 0; c < 3; c++) {
        train->mean[c] = test->mean[c] = mean[c];
        train->std[c] = test->std[c] = std[c];
    }
}

vgg_status vgg_dataset_resize(vgg_dataset *ds, int side, vgg_error *err) {
    const int from = vgg_dataset_side(ds);
    if (side == from) return VGG_OK;
    const size_t ib = vgg_dataset_image_bytes(ds);
    const size_t ob = 3 * (size_t)side * side;
    uint8_t *px = malloc((size_t)(ds->n ? ds->n : 1) * ob);
    if (!px)
        return vgg_fail(err, VGG_ERR_NOMEM,
                        "cannot allocate %d images of %dx%d", ds->n, side,
                        side);
    int failed = 0;
#pragma omp parallel for schedule(static) reduction(| : failed)
    for (int i = 0; i < ds->n; i++) {
        vgg_image img = {0};
        vgg_error e;
        const uint8_t *in = ds->pixels + (size_t)i * ib;
        const size_t plane = (size_t)from * from;
        if (vgg_image_init(&img, from, from, 0, 0, 0, &e)) {
            failed = 1;
            continue;
        }
        for (int c = 0; c < 3; c++)
            for (size_t k = 0; k < plane; k++)
                img.rgb[k * 3 + c] = in[c * plane + k];
        failed |=
            vgg_image_to_planar(px + (size_t)i * ob, &img, side, &e) != VGG_OK;
        vgg_image_free(&img);
    }
    if (failed) {
        free(px);
        return vgg_fail(err, VGG_ERR_NOMEM, "cannot resize %d images to %dx%d",
                        ds->n, side, side);
    }
    free(ds->pixels);
    ds->pixels = px;
    ds->side = side;
    return VGG_OK;
}

static vgg_status load_layout(vgg_dataset *train, vgg_dataset *test,
                              const vgg_data_options *o, vgg_data_report *rep,
                              vgg_error *err) {
    switch (rep->layout) {
    case VGG_LAYOUT_CIFAR10: {
        vgg_cifar_options c = {o->dir, o->classes ? o->classes : 10,
                               o->limit_train, o->limit_test};
        if (o->class_names)
            return vgg_cifar_load_named(train, test, &c, o->class_names, err);
        return vgg_cifar_load(train, test, &c, err);
    }
    case VGG_LAYOUT_CIFAR100:
        return vgg_cifar100_load(train, test, o->dir,
                                 (vgg_cifar100_labels)o->labels, o->limit_train,
                                 o->limit_test, err);
    case VGG_LAYOUT_FOLDER: {
        vgg_folder_options f = {0};
        f.dir = o->dir;
        f.side = o->side > 0 ? o->side : VGG_CIFAR_SIDE;
        f.val_split = o->val_split;
        f.seed = o->seed;
        f.skip_bad = o->skip_bad;
        f.limit_train = o->limit_train;
        f.limit_test = o->limit_test;
        f.test_only = o->test_only;
        f.cache = o->cache;
        f.progress = o->progress;
        f.on_bad = o->on_bad;
        f.user = o->user;
        return vgg_folder_load(train, test, &f, &rep->folder, err);
    }
    default:
        return vgg_fail(err, VGG_ERR_FORMAT, "--data %s: unknown layout",
                        o->dir);
    }
}

vgg_status vgg_data_load(vgg_dataset *train, vgg_dataset *test,
                         const vgg_data_options *o, vgg_data_report *rep,
                         vgg_error *err) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    memset(rep, 0, sizeof *rep);
    const int side = o->side > 0 ? o->side : VGG_CIFAR_SIDE;
    vgg_status st = vgg_layout_detect(o->dir, &rep->layout, err);
    if (st) return st;
    const int folder = rep->layout == VGG_LAYOUT_FOLDER;
    if (o->labels_given && rep->layout != VGG_LAYOUT_CIFAR100)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--labels: only for CIFAR-100 data; %s holds %s",
                        o->dir, vgg_layout_name(rep->layout));
    if (o->val_split > 0 && !folder)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--val-split: only for an image folder of class "
                        "folders; %s holds %s with its own test split",
                        o->dir, vgg_layout_name(rep->layout));
    if ((st = load_layout(train, test, o, rep, err))) return st;
    /* CIFAR-10's loader chooses classes itself (keeping its messages). */
    if (rep->layout != VGG_LAYOUT_CIFAR10 && !o->test_only)
        st = vgg_dataset_choose(train, test, o->classes, o->class_names, err);
    if (!st && o->test_only && o->class_names) {
        /* no training split to check against: choose on test alone */
        st = vgg_dataset_choose(NULL, test, 0, o->class_names, err);
        if (!st) {
            memcpy(train->class_names, test->class_names,
                   sizeof test->class_names);
            train->num_classes = test->num_classes;
        }
    }
    if (!st && !folder && side != VGG_CIFAR_SIDE) {
        st = vgg_dataset_resize(train, side, err);
        if (!st) st = vgg_dataset_resize(test, side, err);
    }
    if (!st) {
        vgg_normalize n = o->normalize;
        if (n == VGG_NORM_DEFAULT) n = folder ? VGG_NORM_AUTO : VGG_NORM_CIFAR;
        if (n == VGG_NORM_AUTO && train->n == 0) n = VGG_NORM_CIFAR;
        rep->normalize = n;
        float mean[3], std[3];
        switch (n) {
        case VGG_NORM_AUTO:
            vgg_dataset_stats(train, mean, std);
            break;
        case VGG_NORM_NONE:
            for (int c = 0; c < 3; c++) mean[c] = 0.0f, std[c] = 1.0f;
            break;
        case VGG_NORM_GIVEN:
            memcpy(mean, o->mean, sizeof mean);
            memcpy(std, o->std, sizeof std);
            break;
        default:
            memcpy(mean, vgg_cifar_mean, sizeof mean);
            memcpy(std, vgg_cifar_std, sizeof std);
        }
        vgg_dataset_set_norm(train, test, mean, std);
    }
    if (st) {
        vgg_dataset_free(train);
        vgg_dataset_free(test);
    }
    return st;
}
