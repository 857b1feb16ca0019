/* Shared test helpers: scratch folders, synthetic CIFAR files, random
 * fills. */
#ifndef VGG_TEST_UTIL_H
#define VGG_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "vgg/rng.h"

/* Makes a fresh folder under $TMPDIR (or /tmp); returns a static path. */
const char *tu_tmpdir(const char *tag);
/* Writes n CIFAR records to path; label of record i is labels[i % nl];
 * pixels are pseudo-random from seed, with a class-dependent bias so that
 * a network can learn them. Returns 0 on success. */
int tu_write_cifar(const char *path, int n, const uint8_t *labels, int nl,
                   uint64_t seed);
/* Writes a full synthetic CIFAR folder: batches.meta.txt, data_batch_1..5
 * with per_batch records each and test_batch with ntest records, labels
 * cycling 0..classes-1. Returns 0 on success. */
int tu_write_cifar_dir(const char *dir, int per_batch, int ntest, int classes);
void tu_fill_uniform(float *x, size_t n, float lo, float hi, vgg_rng *rng);
double tu_max_rel_diff(const float *a, const float *b, size_t n,
                       double floor_abs);
/* 1 when the tests that run once per kernel should run kernel `name`: all
 * of them unless VGG_TEST_KERNELS lists some (comma-separated), as the
 * aarch64 run under qemu does (scripts/cross-aarch64) to stay within
 * minutes. The portable kernel stays the reference either way. */
int tu_kernel_wanted(const char *name);

#endif
