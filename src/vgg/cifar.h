/* CIFAR-10 in its official binary layout: data_batch_1..5.bin and
 * test_batch.bin hold 3,073-byte records (one label byte, then the 1,024
 * red, 1,024 green and 1,024 blue values of a 32x32 image, each plane
 * row-major); batches.meta.txt holds the ten class names, one a line. */
#ifndef VGG_CIFAR_H
#define VGG_CIFAR_H

#include <stddef.h>
#include <stdint.h>

#include "vgg/status.h"

#define VGG_CIFAR_SIDE 32
#define VGG_CIFAR_PIXELS (3 * 32 * 32)
#define VGG_CIFAR_RECORD (1 + VGG_CIFAR_PIXELS)
#define VGG_CIFAR_MAX_CLASSES 10
#define VGG_MAX_CLASSES 100 /* any layout (CIFAR-100's fine labels) */
#define VGG_CLASS_NAME_MAX 32

/* Images in memory, whatever layout they came from: n records of
 * 3 x side x side bytes, planes R, G, B, each row-major, as a CIFAR record
 * without its label byte. side is 32 for the CIFAR layouts; 0 (a zeroed
 * set) also means 32. */
typedef struct vgg_dataset {
    int n;           /* images */
    uint8_t *pixels; /* n x 3 x side x side, planes R, G, B, row-major */
    uint8_t *labels; /* n, each below num_classes */
    int num_classes;
    int side;
    /* Per-channel normalisation of (v / 255): (v / 255 - mean) / std.
     * std[0] == 0 (a zeroed set): CIFAR-10's constants, vgg_cifar_mean /
     * vgg_cifar_std. --normalize none is mean 0, std 1. */
    float mean[3], std[3];
    char class_names[VGG_MAX_CLASSES][VGG_CLASS_NAME_MAX];
} vgg_dataset;

/* ds->side, or 32 for a set that does not say. */
static inline int vgg_dataset_side(const vgg_dataset *ds) {
    return ds->side > 0 ? ds->side : VGG_CIFAR_SIDE;
}
/* Bytes of one image of ds: 3 x side x side. */
static inline size_t vgg_dataset_image_bytes(const vgg_dataset *ds) {
    size_t s = (size_t)vgg_dataset_side(ds);
    return 3 * s * s;
}

typedef struct vgg_cifar_options {
    const char *dir; /* folder with the .bin files and batches.meta.txt */
    int classes;     /* keep records whose label is below this (2..10) */
    int limit_train; /* 0: all; else the first N after class filtering */
    int limit_test;
} vgg_cifar_options;

/* Loads the training split (five data batches) and the test split. On
 * failure nothing is left allocated and err names the file and the fault. */
vgg_status vgg_cifar_load(vgg_dataset *train, vgg_dataset *test,
                          const vgg_cifar_options *opt, vgg_error *err);

/* Reads one CIFAR binary file, keeping records with label < classes, at
 * most limit of them (0: no limit), appending to ds. */
vgg_status vgg_cifar_read_file(vgg_dataset *ds, const char *path, int classes,
                               int limit, vgg_error *err);

/* Reads the class names of batches.meta.txt into ds->class_names. */
vgg_status vgg_cifar_read_meta(vgg_dataset *ds, const char *path,
                               vgg_error *err);

void vgg_dataset_free(vgg_dataset *ds);

#endif
