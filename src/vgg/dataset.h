/* What every layout shares once it is in memory: choosing classes
 * (--classes N, --class-names a,b on any layout), the per-channel
 * statistics (--normalize auto), and which layout a folder holds.
 *
 *   vgg_dataset train, test;   ... loaded by any loader ...
 *   st = vgg_dataset_choose(&train, &test, 3, NULL, &err);     first 3
 *   st = vgg_dataset_choose(&train, &test, 0, "cat,dog", &err); by name
 *   vgg_dataset_stats(&train, mean, std);
 */
#ifndef VGG_DATASET_H
#define VGG_DATASET_H

#include "vgg/cifar.h"
#include "vgg/status.h"

typedef enum vgg_layout {
    VGG_LAYOUT_NONE = 0,
    VGG_LAYOUT_CIFAR10,  /* data_batch_1.bin ... test_batch.bin */
    VGG_LAYOUT_CIFAR100, /* train.bin, test.bin */
    VGG_LAYOUT_FOLDER,   /* train/CLASS/..., test/CLASS/... or CLASS/... */
} vgg_layout;

/* Which layout dir holds, from the names of its entries only:
 * data_batch_1.bin: CIFAR-10; train.bin: CIFAR-100; else a folder with
 * sub-folders: an image folder. VGG_ERR_IO if dir is not a readable
 * folder; VGG_ERR_FORMAT (naming what was looked for) if it holds none. */
vgg_status vgg_layout_detect(const char *dir, vgg_layout *layout,
                             vgg_error *err);
const char *vgg_layout_name(vgg_layout layout);

/* Keeps the images of the chosen classes in both splits and relabels them
 * 0..k-1: with list (comma-separated names, see vgg_classes_parse) the
 * named ones in the order given, else the first `classes` of the current
 * ones (0 or the current count: all). Every chosen class must have images
 * in both splits. train may be NULL (test alone: the names are test's).
 * On failure the sets are unchanged. */
vgg_status vgg_dataset_choose(vgg_dataset *train, vgg_dataset *test,
                              int classes, const char *list, vgg_error *err);

/* Per-channel mean and standard deviation (population) of ds's pixels
 * scaled to [0, 1], in one pass with exact integer sums. An empty set gives
 * mean 0 and std 1. */
void vgg_dataset_stats(const vgg_dataset *ds, float mean[3], float std[3]);

/* Checks that every class 0..num_classes-1 has an image in ds; split names
 * the set in the message ("training", "test"). */
vgg_status vgg_dataset_check_classes(const vgg_dataset *ds, const char *dir,
                                     const char *split, vgg_error *err);

#endif
