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
/* Decompression-bomb limit of vgg_image_decode / vgg_image_read: a header
 * announcing more pixels than this (64 megapixels, 192 MB as RGB) is
 * refused before anything is allocated for the pixels. */
#define VGG_IMAGE_MAX_PIXELS (64L * 1024 * 1024)
/* ... and a file larger than this is refused before it is read. */
#define VGG_IMAGE_MAX_FILE (256L * 1024 * 1024)

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

/* Writes img as one planar record of 3 x side x side (a vgg_dataset
 * image), resizing it first if it is not side x side. */
vgg_status vgg_image_to_planar(uint8_t *px, const vgg_image *img, int side,
                               vgg_error *err);

typedef enum vgg_image_format {
    VGG_IMAGE_UNKNOWN = 0,
    VGG_IMAGE_PNG,  /* 89 50 4E 47 0D 0A 1A 0A */
    VGG_IMAGE_JPEG, /* FF D8 FF */
} vgg_image_format;

/* The format from the first bytes (n of them), never the file name. */
vgg_image_format vgg_image_sniff(const uint8_t *data, size_t n);

/* Decoders of a file's bytes held in memory; name is used in messages
 * only. Both give 8-bit RGB as vgg_png_read does (JPEG: grey replicated,
 * YCbCr converted by libjpeg-turbo's accurate integer transform, CMYK and
 * YCCK converted as Adobe writes them), refuse a header announcing more
 * than max_pixels pixels (0: VGG_IMAGE_MAX_PIXELS) before allocating, and
 * treat every libpng or libjpeg warning (a truncated file, corrupt data)
 * as an error, so that no partly decoded image is returned. */
vgg_status vgg_png_decode(const uint8_t *data, size_t n, const char *name,
                          long max_pixels, vgg_image *img, vgg_error *err);
vgg_status vgg_jpeg_decode(const uint8_t *data, size_t n, const char *name,
                           long max_pixels, vgg_image *img, vgg_error *err);

/* PNG or JPEG by the first bytes. Besides the decoders' checks it refuses
 * images smaller than 2x2 pixels (0x0 cannot be encoded; 1x1 carries no
 * picture). Errors are VGG_ERR_FORMAT naming `name`. */
vgg_status vgg_image_decode(const uint8_t *data, size_t n, const char *name,
                            vgg_image *img, vgg_error *err);

/* Reads path (a regular file of at most VGG_IMAGE_MAX_FILE bytes) and
 * decodes it with vgg_image_decode. A missing or unreadable file, a
 * folder, a symbolic-link loop are VGG_ERR_IO naming the path. */
vgg_status vgg_image_read(const char *path, vgg_image *img, vgg_error *err);

/* Reads a whole regular file of at most max bytes into *data (malloc'd,
 * *n bytes). Opens with O_NONBLOCK so that a FIFO cannot hang it. */
vgg_status vgg_file_read_all(const char *path, size_t max, uint8_t **data,
                             size_t *n, vgg_error *err);

/* vgg_png_read + vgg_image_to_cifar. width and height (may be NULL) get the
 * PNG's original size, so a caller can say that it was resized. */
vgg_status vgg_png_read_cifar(const char *path, uint8_t *px, int *width,
                              int *height, vgg_error *err);

#endif
