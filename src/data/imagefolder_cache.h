/* Private to src/data: the decoded-image cache of imagefolder.c (see
 * folder_cache.c for the file layout and the key). */
#ifndef VGG_IMAGEFOLDER_CACHE_H
#define VGG_IMAGEFOLDER_CACHE_H

#include <stdint.h>

#include "vgg/status.h"

typedef struct folder_cache_item {
    const char *path;
    int label, split;
} folder_cache_item;

typedef struct folder_cache_data {
    uint8_t *labels[2], *pixels[2]; /* training, test; room for cap[s] */
    int cap[2], n[2];
    int skipped, bad, resized;
} folder_cache_data;

/* The key of a file list and the loader's settings; -1 when a file
 * cannot be stat'ed (then no cache is used). */
int folder_cache_key(const folder_cache_item *items, int n,
                     const char *const *classes, int nclasses,
                     const uint64_t *settings, int nsettings, uint64_t *key);

/* Fills d from path when it holds exactly this key and side; -1 (d
 * untouched but for buffer contents) otherwise. */
int folder_cache_read(const char *path, uint64_t key, int side,
                      folder_cache_data *d);

/* Writes d to path atomically. */
vgg_status folder_cache_write(const char *path, uint64_t key, int side,
                              const folder_cache_data *d, vgg_error *err);

#endif
