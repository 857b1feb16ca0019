/* A tiny built-in bitmap font for text in PNG pictures: printable ASCII
 * (32-126), each glyph 5x7 pixels above the baseline plus 2 rows of
 * descender, drawn in a 6x10 cell (one column and one row of spacing).
 * Other bytes draw as '?'. scale multiplies every pixel (nearest
 * neighbour). Drawing clips to the image. Private to src/io. */
#ifndef VGG_IO_FONT_H
#define VGG_IO_FONT_H

#include <stdint.h>

#include "vgg/image.h"

#define VGG_FONT_W 5 /* glyph width */
#define VGG_FONT_H 9 /* glyph height, descender included */
#define VGG_FONT_ASCENT 7
#define VGG_FONT_ADVANCE 6
#define VGG_FONT_LINE 10

/* Row r (0 = top) of the glyph for c, as 5 bits, bit 4 the leftmost. */
unsigned vgg_font_row(unsigned char c, int r);

/* Pixel width and height of text at scale (one line). */
int vgg_font_text_width(const char *text, int scale);
int vgg_font_text_height(int scale);

/* Draws text with its cell's top-left corner at (x, y). */
void vgg_font_draw(vgg_image *img, int x, int y, const char *text,
                   const uint8_t rgb[3], int scale);

/* Draws text turned 90 degrees anticlockwise (read from bottom to top),
 * the cell's bottom-left corner at (x, y): the text runs upwards from y
 * and occupies columns x .. x + text_height - 1. */
void vgg_font_draw_up(vgg_image *img, int x, int y, const char *text,
                      const uint8_t rgb[3], int scale);

#endif
