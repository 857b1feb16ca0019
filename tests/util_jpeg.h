/* Test helper: writes JPEGs with libjpeg directly (any component count,
 * no chroma subsampling, a chosen quality), so that the library's decoder
 * is checked against another path through libjpeg. */
#ifndef VGG_TEST_UTIL_JPEG_H
#define VGG_TEST_UTIL_JPEG_H

#include <stdint.h>

/* comps 1 (grey), 3 (RGB, stored as YCbCr) or 4 (CMYK as Adobe writes
 * it, inverted); data is h rows of w * comps samples. progressive: a
 * multi-scan file. Returns 0 on success. */
int tj_write_jpeg(const char *path, int w, int h, int comps,
                  const uint8_t *data, int quality, int progressive);

#endif
