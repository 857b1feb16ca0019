#include "vgg/augment.h"

const float vgg_cifar_mean[3] = {0.4914f, 0.4822f, 0.4465f};
const float vgg_cifar_std[3] = {0.2023f, 0.1994f, 0.2010f};

void vgg_augment_draw(vgg_augment_choice *ch, int n, vgg_rng *rng) {
    for (int i = 0; i < n; i++) {
        ch[i].top = (uint8_t)vgg_rng_below(rng, 9);
        ch[i].left = (uint8_t)vgg_rng_below(rng, 9);
        ch[i].flip = (uint8_t)vgg_rng_below(rng, 2);
    }
}

/* The crop and flip of one choice: output pixel (y, x) of an S x S image
 * comes from (y + dy, flip ? S-1-x+dx : x+dx) of the unpadded image, or
 * is padding where that falls outside. Both writers below use it. */
typedef struct crop {
    int dy, dx, flip;
} crop;

static inline crop crop_of(const vgg_augment_choice *ch, int P) {
    return ch ? (crop){ch->top - P, ch->left - P, ch->flip} : (crop){0, 0, 0};
}

static inline int crop_x(crop k, int S, int x) {
    return (k.flip ? S - 1 - x : x) + k.dx;
}

void vgg_augment_pixels(uint8_t *out, const uint8_t *in,
                        const vgg_augment_choice *ch) {
    const int S = VGG_CIFAR_SIDE, P = 4;
    const crop k = crop_of(ch, P);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++) {
            int sy = y + k.dy;
            for (int x = 0; x < S; x++) {
                int sx = crop_x(k, S, x);
                out[(c * S + y) * S + x] =
                    sy >= 0 && sy < S && sx >= 0 && sx < S
                        ? in[(c * S + sy) * S + sx]
                        : 0;
            }
        }
}

void vgg_augment_batch(float *out, uint8_t *labels, const vgg_dataset *ds,
                       const int *idx, int n, const vgg_augment_choice *ch) {
    const int S = VGG_CIFAR_SIDE, P = 4;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const uint8_t *img = ds->pixels + (size_t)idx[i] * VGG_CIFAR_PIXELS;
        labels[i] = ds->labels[idx[i]];
        const crop k = crop_of(ch ? &ch[i] : NULL, P);
        for (int c = 0; c < 3; c++) {
            /* (v/255 - mean)/std = v*scale + shift. torchvision pads the
             * image with black before normalising, so a padded pixel
             * becomes (0 - mean)/std, not 0. */
            float scale = 1.0f / (255.0f * vgg_cifar_std[c]);
            float shift = -vgg_cifar_mean[c] / vgg_cifar_std[c];
            const uint8_t *plane = img + c * S * S;
            float *o = out + ((size_t)c * n + i) * S * S;
            for (int y = 0; y < S; y++) {
                int sy = y + k.dy;
                for (int x = 0; x < S; x++) {
                    int sx = crop_x(k, S, x);
                    float v = 0.0f;
                    if (sy >= 0 && sy < S && sx >= 0 && sx < S)
                        v = (float)plane[sy * S + sx];
                    o[y * S + x] = v * scale + shift;
                }
            }
        }
    }
}
