/* Choosing classes by name (--class-names airplane,cat,ship) and loading
 * only them, relabelled 0..k-1 in the order given.
 *
 *   int labels[VGG_CIFAR_MAX_CLASSES], k;
 *   st = vgg_classes_parse(list, names_from_meta, 10, labels, &k, &err);
 *   st = vgg_cifar_load_classes(&train, &test, &opt, labels, k, &err);
 * or both at once (reads DIR/batches.meta.txt for the names):
 *   st = vgg_cifar_load_named(&train, &test, &opt, "airplane,cat,ship", &err);
 *
 * Afterwards ds->num_classes is k, ds->labels are 0..k-1 and
 * ds->class_names[0..k-1] are the chosen names (what the checkpoint
 * records); "cat,airplane" makes cat 0 and airplane 1. */
#ifndef VGG_CLASSES_H
#define VGG_CLASSES_H

#include "vgg/cifar.h"
#include "vgg/status.h"

/* Parses a comma-separated list of class names against names[0..nnames)
 * (exact, case-sensitive; spaces around a name are ignored). labels gets
 * the original label of each chosen name, in the order given; *k their
 * count. Errors (VGG_ERR_ARG, naming --class-names): an unknown name (the
 * message lists the valid ones), a name given twice, fewer than 2 names,
 * an empty entry. */
vgg_status vgg_classes_parse(const char *list,
                             const char names[][VGG_CLASS_NAME_MAX], int nnames,
                             int *labels, int *k, vgg_error *err);

/* Like vgg_cifar_load, keeping only records whose label is one of
 * labels[0..k) (original labels, distinct, 0..9) and giving them the label
 * of their position in that list. opt->dir and the limits are used
 * (limits count kept records), opt->classes is ignored. Every chosen class
 * must have images in both splits. On failure nothing is left allocated. */
vgg_status vgg_cifar_load_classes(vgg_dataset *train, vgg_dataset *test,
                                  const vgg_cifar_options *opt,
                                  const int *labels, int k, vgg_error *err);

/* vgg_classes_parse against opt->dir/batches.meta.txt, then
 * vgg_cifar_load_classes. */
vgg_status vgg_cifar_load_named(vgg_dataset *train, vgg_dataset *test,
                                const vgg_cifar_options *opt, const char *list,
                                vgg_error *err);

#endif
