/* The safetensors container (private to src/io): an 8-byte little-endian
 * header length N, N bytes of JSON space-padded so that 8 + N is a
 * multiple of 8, then the data section. The JSON object maps each tensor's
 * name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into
 * the data section) and may hold a "__metadata__" object of strings.
 *
 * This file knows the container only: what the tensors and the metadata
 * mean is checkpoint.c's and checkpoint_meta.c's business. */
#ifndef VGG_IO_SAFETENSORS_H
#define VGG_IO_SAFETENSORS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "vgg/status.h"

/* ---- writing ---- */

typedef struct vgg_st_entry {
    const char *name;
    const char *dtype; /* "F32", "I64", ... */
    const int64_t *shape;
    int ndim;
    const void *data; /* bytes of data, stored in this order */
    size_t bytes;
} vgg_st_entry;

/* Writes the n entries, back to back in the order given, with metadata
 * (an object, or NULL; its reference is taken) as __metadata__, through
 * vgg_output (atomic: path is replaced only by a whole file). what names
 * the file in messages ("checkpoint"). A header larger than max_header
 * bytes is refused. */
vgg_status vgg_st_write(const char *path, const char *what, json_t *metadata,
                        const vgg_st_entry *e, int n, uint64_t max_header,
                        vgg_error *err);

/* ---- reading ---- */

typedef struct vgg_st_file {
    FILE *f;
    uint64_t file_bytes, header_bytes, data_bytes;
    json_t *root; /* the parsed header: any JSON value */
} vgg_st_file;

/* Opens a regular file, checks its header length against max_header and
 * the file's size, and parses the header's JSON. On success s->f is open
 * at the data section's start; on failure s is closed. */
vgg_status vgg_st_open(vgg_st_file *s, const char *path, uint64_t max_header,
                       vgg_error *err);

/* Reads the whole data section (s->data_bytes) into buf. */
vgg_status vgg_st_read_data(vgg_st_file *s, const char *path, void *buf,
                            vgg_error *err);

void vgg_st_close(vgg_st_file *s);

/* One tensor's byte range in the data section, for the tiling check. */
typedef struct vgg_st_span {
    const char *name;
    uint64_t begin, end;
} vgg_st_span;

/* Checks that the n spans tile [0, data_bytes) exactly: no overlap, no
 * gap, nothing past the end. Reorders spans by begin. */
vgg_status vgg_st_check_tiling(const char *path, vgg_st_span *spans, int n,
                               uint64_t data_bytes, vgg_error *err);

#endif
