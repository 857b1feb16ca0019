/* CIFAR-100 in its official binary layout: train.bin (50,000 records) and
 * test.bin (10,000) of 3,074 bytes each (coarse label, fine label, then
 * the 3,072 pixel bytes as in a CIFAR-10 record), and the class names in
 * fine_label_names.txt (100 names) and coarse_label_names.txt (20), one a
 * line. */
#ifndef VGG_CIFAR100_H
#define VGG_CIFAR100_H

#include "vgg/cifar.h"
#include "vgg/status.h"

#define VGG_CIFAR100_RECORD (2 + VGG_CIFAR_PIXELS)
#define VGG_CIFAR100_FINE 100
#define VGG_CIFAR100_COARSE 20

typedef enum vgg_cifar100_labels {
    VGG_CIFAR100_LABELS_FINE = 0, /* --labels fine (the default) */
    VGG_CIFAR100_LABELS_COARSE,   /* --labels coarse */
} vgg_cifar100_labels;

/* Loads dir/train.bin and dir/test.bin with the chosen label kind and its
 * names; at most limit_train / limit_test records each (0: all). Every
 * label is checked against its range (fine 0..99, coarse 0..19). On
 * failure nothing is left allocated and err names the file. */
vgg_status vgg_cifar100_load(vgg_dataset *train, vgg_dataset *test,
                             const char *dir, vgg_cifar100_labels kind,
                             int limit_train, int limit_test, vgg_error *err);

/* Reads one CIFAR-100 binary file into ds (appending); the label kind
 * chooses the byte (0 coarse, 1 fine). */
vgg_status vgg_cifar100_read_file(vgg_dataset *ds, const char *path,
                                  vgg_cifar100_labels kind, int limit,
                                  vgg_error *err);

/* Reads n class names (one a line, blank lines skipped) into names. */
vgg_status vgg_read_class_names(const char *path, int n,
                                char names[][VGG_CLASS_NAME_MAX],
                                vgg_error *err);

#endif
