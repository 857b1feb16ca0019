/* PNG in and out, and the conversion of any image to a CIFAR record.
 *
 *   vgg_image img = {0};
 *   if (vgg_png_read(path, &img, &err)) ...         any PNG -> 8-bit RGB
 *   uint8_t px[VGG_CIFAR_PIXELS];
 *   vgg_image_to_cifar(px, &img);                    -> 3x32x32, planar
 *   vgg_image_free(&img);
 * or in one call: vgg_png_read_cifar(path, px, &w, &h, &err).
 *
 *   vgg_png_write(path, &img, &err);                 8-bit RGB PNG
 *
 * Layouts: a vgg_image is interleaved RGB, row-major, top row first
 * (rgb[(y * width + x) * 3 + c]); a CIFAR record is planar, the 1,024 red
 * values, then green, then blue, each plane row-major (px[c*1024 + y*32 +
 * x]).
 *
 * Reading converts every PNG colour type to 8-bit RGB: grey is replicated
 * into R, G and B; palettes are expanded; 1, 2 and 4-bit samples are scaled
 * to 8 bits; 16-bit samples are scaled to 8 bits (v * 255 / 65535,
 * rounded); alpha (an alpha channel or a tRNS chunk) is dropped, as PIL's
 * Image.convert("RGB") does, so a picture gives the same input here as in a
 * PyTorch pipeline. Gamma and colour-profile chunks are ignored.
 *
 * Resizing (vgg_image_resize, vgg_image_to_cifar) is separable, each axis
 * on its own: an axis that shrinks uses area averaging (every output pixel
 * is the mean of the source pixels it covers, fractional pixels weighted by
 * their covered part), an axis that grows uses bilinear interpolation with
 * pixel centres aligned (source x = (x + 0.5) * src / dst - 0.5, clamped at
 * the edges), an axis of equal size is copied. Results are rounded to the
 * nearest integer. The aspect ratio is not kept: a 64x48 picture is
 * squeezed to 32x32, as transforms.Resize((32, 32)) does. */
#ifndef VGG_IMAGE_H
#define VGG_IMAGE_H

#include <stdint.h>

#include "vgg/cifar.h"
#include "vgg/status.h"

#define VGG_IMAGE_MAX_SIDE 16384 /* larger PNGs are refused on reading */

typedef struct vgg_image {
    int width, height;
    uint8_t *rgb; /* height x width x 3, interleaved, owned */
} vgg_image;

/* Allocates a width x height image filled with the colour (r, g, b). */
vgg_status vgg_image_init(vgg_image *img, int width, int height, uint8_t r,
                          uint8_t g, uint8_t b, vgg_error *err);
/* Frees img->rgb; a zeroed or already freed image is fine. */
void vgg_image_free(vgg_image *img);

/* Writes img as an 8-bit RGB PNG. Every libpng error is caught and
 * reported with the path; a partly written file is removed. */
vgg_status vgg_png_write(const char *path, const vgg_image *img,
                         vgg_error *err);

/* Reads any PNG into img (8-bit RGB, see above). A file that is not a PNG,
 * or a damaged one, is VGG_ERR_FORMAT with the path in the message. */
vgg_status vgg_png_read(const char *path, vgg_image *img, vgg_error *err);

/* Resizes src to width x height into dst (allocated here; see above for
 * the method). */
vgg_status vgg_image_resize(vgg_image *dst, const vgg_image *src, int width,
                            int height, vgg_error *err);

/* Writes img as a CIFAR record (3x32x32 planar), resizing it first if it is
 * not 32x32. Returns VGG_ERR_NOMEM only. */
vgg_status vgg_image_to_cifar(uint8_t *px, const vgg_image *img,
                              vgg_error *err);

/* The inverse: a CIFAR record (3x32x32 planar) to a 32x32 image
 * (allocated here). */
vgg_status vgg_image_from_cifar(vgg_image *img, const uint8_t *px,
                                vgg_error *err);

/* vgg_png_read + vgg_image_to_cifar. width and height (may be NULL) get the
 * PNG's original size, so a caller can say that it was resized. */
vgg_status vgg_png_read_cifar(const char *path, uint8_t *px, int *width,
                              int *height, vgg_error *err);

#endif
