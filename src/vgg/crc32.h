/* CRC-32 (IEEE 802.3, as zlib's crc32 and Python's zlib.crc32): the
 * checkpoint's data-section checksum. */
#ifndef VGG_CRC32_H
#define VGG_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of n bytes, continuing from crc (start with 0). */
uint32_t vgg_crc32(uint32_t crc, const void *data, size_t n);

#endif
