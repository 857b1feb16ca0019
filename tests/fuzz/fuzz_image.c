/* libFuzzer harness for the image decoders (src/data/decode.c, jpeg.c,
 * src/io/png.c) and the resize to the network's input (resize.c).
 *
 * The input is one file's bytes, decoded from memory by vgg_image_decode
 * (PNG or JPEG by the first bytes), then once more by the decoder its
 * bytes name with a limit of 4,096 pixels, so that the limit's refusal
 * path runs on real headers.
 *
 * Besides "no crash, no leak, no undefined behaviour, no hang", it checks
 * what the decoders promise: success gives at least 2x2 pixels within the
 * limits and a buffer that really holds width x height x 3 bytes (every
 * byte is read, and the image is resized to 32x32 and 64x64); failure
 * leaves no image and a message naming the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vgg/image.h"

static const char *const NAME = "fuzz-input";

static void check_image(const vgg_image *img, long limit) {
    if (!img->rgb || img->width < 1 || img->height < 1) abort();
    if ((long)img->width * img->height > limit) abort();
    unsigned sum = 0;
    for (size_t i = 0; i < (size_t)img->width * img->height * 3; i++)
        sum += img->rgb[i];
    (void)sum;
}

static void check_failure(const vgg_image *img, const vgg_error *err) {
    if (img->rgb || img->width || img->height) abort();
    if (!strstr(err->msg, NAME)) abort(); /* the message names the file */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vgg_error err;
    vgg_image img;
    if (vgg_image_decode(data, size, NAME, &img, &err) == VGG_OK) {
        check_image(&img, VGG_IMAGE_MAX_PIXELS);
        if (img.width < 2 || img.height < 2) abort();
        static uint8_t px[3 * 64 * 64];
        if (vgg_image_to_planar(px, &img, 32, &err) != VGG_OK) abort();
        if (vgg_image_to_planar(px, &img, 64, &err) != VGG_OK) abort();
        vgg_image_free(&img);
    } else {
        check_failure(&img, &err);
    }
    /* each decoder on its own with a limit of 4,096 pixels */
    const long limit = 4096;
    vgg_status st = vgg_image_sniff(data, size) == VGG_IMAGE_JPEG
                        ? vgg_jpeg_decode(data, size, NAME, limit, &img, &err)
                        : vgg_png_decode(data, size, NAME, limit, &img, &err);
    if (st == VGG_OK) {
        check_image(&img, limit);
        vgg_image_free(&img);
    } else {
        check_failure(&img, &err);
    }
    return 0;
}
