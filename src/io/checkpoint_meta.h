/* A checkpoint's __metadata__ (private to src/io): the run's settings and
 * history as JSON strings, written and read back with every field
 * checked. docs/checkpoint-format.md lists the fields. */
#ifndef VGG_IO_CHECKPOINT_META_H
#define VGG_IO_CHECKPOINT_META_H

#include <jansson.h>
#include <stdint.h>

#include "vgg/checkpoint.h"

/* What saving requires of meta against the model it describes: the same
 * configuration, a schedule that reads back, finite history, class names
 * without commas. */
vgg_status vgg_ckpt_meta_check(const char *path, const vgg_model *m,
                               const vgg_ckpt_meta *meta, vgg_error *err);

/* The __metadata__ object of meta, with crc as its checksum; NULL when out
 * of memory. */
json_t *vgg_ckpt_meta_json(const vgg_ckpt_meta *meta, uint32_t crc);

/* Fills meta and *crc from a __metadata__ object. data_bytes is the size
 * of the file's data section, which the configuration must account for. */
vgg_status vgg_ckpt_meta_parse(const char *path, json_t *md,
                               uint64_t data_bytes, vgg_ckpt_meta *meta,
                               uint32_t *crc, vgg_error *err);

#endif
