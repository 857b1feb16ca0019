/* Test helpers for pictures: write PNGs of any colour type with libpng
 * directly, and read PNGs back with libpng's simplified API, so that the
 * library's own reader and writer are checked against something else. */
#ifndef VGG_TEST_UTIL_PIX_H
#define VGG_TEST_UTIL_PIX_H

#include <stddef.h>
#include <stdint.h>

/* Writes a PNG from raw rows: rows[y] holds the packed samples of row y as
 * libpng expects them for color_type / bit_depth (16-bit samples big
 * endian). palette (n entries of r, g, b) only for palette images.
 * interlace: 0 none, 1 Adam7. Returns 0 on success. */
int tp_write_png_raw(const char *path, int w, int h, int color_type,
                     int bit_depth, const uint8_t *const *rows,
                     const uint8_t *palette, int npalette, int interlace);
/* Same, rows packed one after the other (stride from w, type and depth). */
int tp_write_png(const char *path, int w, int h, int color_type, int bit_depth,
                 const uint8_t *data, const uint8_t *palette, int npalette,
                 int interlace);
/* Reads any PNG as 8-bit RGB (interleaved); returns malloc'd pixels or
 * NULL. */
uint8_t *tp_read_png_rgb(const char *path, int *w, int *h);
/* Pixels of rgb (w x h) that differ from the colour (r, g, b). */
long tp_count_not(const uint8_t *rgb, int w, int h, int r, int g, int b);
/* Pixels equal to (r, g, b). */
long tp_count_eq(const uint8_t *rgb, int w, int h, int r, int g, int b);
/* Writes bytes to path; 0 on success. */
int tp_write_file(const char *path, const void *data, size_t n);

#endif
