/* --data DIR for every layout in one call: detects the layout
 * (vgg_layout_detect), loads it, applies the class choice, brings the
 * images to the network's side and sets the normalisation.
 *
 *   vgg_data_options o = {.dir = "photos", .side = 64};
 *   vgg_data_report rep;
 *   st = vgg_data_load(&train, &test, &o, &rep, &err);
 *   // train.mean / train.std hold what the network is fed with
 */
#ifndef VGG_DATA_H
#define VGG_DATA_H

#include <stdint.h>

#include "vgg/cifar.h"
#include "vgg/cifar100.h"
#include "vgg/dataset.h"
#include "vgg/imagefolder.h"
#include "vgg/status.h"

typedef enum vgg_normalize {
    VGG_NORM_DEFAULT = 0, /* auto for image folders, cifar for CIFAR */
    VGG_NORM_AUTO,        /* the training split's own mean and std */
    VGG_NORM_CIFAR,       /* CIFAR-10's constants (the recipe's) */
    VGG_NORM_NONE,        /* mean 0, std 1: the network sees v / 255 */
    VGG_NORM_GIVEN,       /* opt->mean / opt->std (from a checkpoint) */
} vgg_normalize;

typedef struct vgg_data_options {
    const char *dir;
    int classes;                 /* 0: every class of the data */
    const char *class_names;     /* or a comma-separated choice (NULL) */
    int limit_train, limit_test; /* 0: all */
    int side;                    /* network input side; 0: 32 */
    int labels;                  /* CIFAR-100: VGG_CIFAR100_LABELS_* */
    int labels_given;            /* --labels was given (CIFAR-100 only) */
    double val_split;            /* image folders of one split */
    uint64_t seed;               /* for val_split */
    int skip_bad;                /* image folders: skip bad images */
    int test_only;               /* image folders: decode the test split only
                                    (train is left empty) */
    const char *cache;           /* image folders: vgg_folder_options.cache */
    vgg_normalize normalize;
    float mean[3], std[3]; /* for VGG_NORM_GIVEN */
    vgg_folder_progress progress;
    vgg_folder_warning on_bad;
    void *user;
} vgg_data_options;

typedef struct vgg_data_report {
    vgg_layout layout;
    vgg_folder_report folder; /* image folders only */
    vgg_normalize normalize;  /* what was applied (DEFAULT resolved) */
} vgg_data_report;

vgg_status vgg_data_load(vgg_dataset *train, vgg_dataset *test,
                         const vgg_data_options *opt, vgg_data_report *rep,
                         vgg_error *err);

/* "auto", "cifar", "none" (--normalize). */
vgg_status vgg_normalize_parse(const char *s, vgg_normalize *out,
                               vgg_error *err);
const char *vgg_normalize_name(vgg_normalize n);

/* Resizes every image of ds to side x side in place (the filter of
 * include/vgg/image.h); nothing changes on failure. */
vgg_status vgg_dataset_resize(vgg_dataset *ds, int side, vgg_error *err);

/* Sets the normalisation of both sets to mean / std. */
void vgg_dataset_set_norm(vgg_dataset *train, vgg_dataset *test,
                          const float mean[3], const float std[3]);

#endif
