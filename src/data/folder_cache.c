/* The decoded-image cache of an image folder (vgg_folder_options.cache):
 * one file holding both splits' records as decoded, valid while every
 * file in the list has the size and modification time it had.
 *
 * Layout (little-endian):
 *   "VGGCACHE" u32 version  u32 side  u64 key
 *   u32 ntrain u32 ntest u32 skipped u32 bad u32 resized
 *   labels of train (ntrain bytes), of test (ntest bytes),
 *   pixels of train (ntrain x 3 x side x side), of test.
 * key: FNV-1a over the loader's settings and, for every listed file in
 * order, its path, split, label, size and modification time (ns), so
 * that any added, removed, renamed, changed or re-labelled file, or other
 * settings, give another key and the cache is not used. */
#include "imagefolder_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vgg/output.h"

#define CACHE_VERSION 1u

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t fnv_u64(uint64_t h, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    return fnv(h, b, 8);
}

int folder_cache_key(const folder_cache_item *items, int n,
                     const char *const *classes, int nclasses,
                     const uint64_t *settings, int nsettings, uint64_t *key) {
    uint64_t h = 14695981039346656037ull;
    h = fnv(h, "vggtrain image cache", 20);
    for (int i = 0; i < nsettings; i++) h = fnv_u64(h, settings[i]);
    for (int c = 0; c < nclasses; c++)
        h = fnv(h, classes[c], strlen(classes[c]) + 1);
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (stat(items[i].path, &sb) != 0) return -1;
        h = fnv(h, items[i].path, strlen(items[i].path) + 1);
        h = fnv_u64(h,
                    (uint64_t)items[i].split << 32 | (uint32_t)items[i].label);
        h = fnv_u64(h, (uint64_t)sb.st_size);
        h = fnv_u64(h, (uint64_t)sb.st_mtim.tv_sec);
        h = fnv_u64(h, (uint64_t)sb.st_mtim.tv_nsec);
    }
    *key = h;
    return 0;
}

static void put_u32(uint8_t *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

enum { HEADER = 8 + 4 + 4 + 8 + 5 * 4 };

int folder_cache_read(const char *path, uint64_t key, int side,
                      folder_cache_data *d) {
    FILE *f; /* a regular file only: a FIFO given as the cache never blocks */
    if (vgg_input_open(path, &f, NULL)) return -1;
    uint8_t h[HEADER];
    int ok = fread(h, 1, HEADER, f) == HEADER && !memcmp(h, "VGGCACHE", 8) &&
             get_u32(h + 8) == CACHE_VERSION &&
             get_u32(h + 12) == (uint32_t)side;
    uint64_t k = 0;
    for (int i = 0; ok && i < 8; i++) k |= (uint64_t)h[16 + i] << (8 * i);
    ok = ok && k == key;
    uint32_t n[2] = {ok ? get_u32(h + 24) : 0, ok ? get_u32(h + 28) : 0};
    ok = ok && n[0] <= (uint32_t)d->cap[0] && n[1] <= (uint32_t)d->cap[1];
    const size_t bytes = 3 * (size_t)side * side;
    for (int s = 0; ok && s < 2; s++)
        ok = fread(d->labels[s], 1, n[s], f) == n[s];
    for (int s = 0; ok && s < 2; s++)
        ok = fread(d->pixels[s], bytes, n[s], f) == n[s];
    ok = ok && fgetc(f) == EOF; /* nothing after: the whole file matches */
    fclose(f);
    if (!ok) return -1;
    d->n[0] = (int)n[0];
    d->n[1] = (int)n[1];
    d->skipped = (int)get_u32(h + 32);
    d->bad = (int)get_u32(h + 36);
    d->resized = (int)get_u32(h + 40);
    return 0;
}

vgg_status folder_cache_write(const char *path, uint64_t key, int side,
                              const folder_cache_data *d, vgg_error *err) {
    vgg_output o;
    vgg_status st =
        vgg_output_open(&o, path, "image cache", VGG_OUTPUT_REPLACE, err);
    if (st) return st;
    uint8_t h[HEADER];
    memcpy(h, "VGGCACHE", 8);
    put_u32(h + 8, CACHE_VERSION);
    put_u32(h + 12, (uint32_t)side);
    for (int i = 0; i < 8; i++) h[16 + i] = (uint8_t)(key >> (8 * i));
    put_u32(h + 24, (uint32_t)d->n[0]);
    put_u32(h + 28, (uint32_t)d->n[1]);
    put_u32(h + 32, (uint32_t)d->skipped);
    put_u32(h + 36, (uint32_t)d->bad);
    put_u32(h + 40, (uint32_t)d->resized);
    const size_t bytes = 3 * (size_t)side * side;
    vgg_output_write(&o, h, HEADER);
    for (int s = 0; s < 2; s++)
        vgg_output_write(&o, d->labels[s], (size_t)d->n[s]);
    for (int s = 0; s < 2; s++)
        vgg_output_write(&o, d->pixels[s], (size_t)d->n[s] * bytes);
    return vgg_output_close(&o, err);
}
