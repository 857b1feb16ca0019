#include "vgg/augment.h"

const float vgg_cifar_mean[3] = {0.4914f, 0.4822f, 0.4465f};
const float vgg_cifar_std[3] = {0.2023f, 0.1994f, 0.2010f};

void vgg_augment_draw_side(vgg_augment_choice *ch, int n, int side,
                           vgg_rng *rng) {
    const uint32_t choices = 2 * (uint32_t)(side / 8) + 1;
    for (int i = 0; i < n; i++) {
        ch[i].top = (uint8_t)vgg_rng_below(rng, choices);
        ch[i].left = (uint8_t)vgg_rng_below(rng, choices);
        ch[i].flip = (uint8_t)vgg_rng_below(rng, 2);
    }
}

void vgg_augment_draw(vgg_augment_choice *ch, int n, vgg_rng *rng) {
    vgg_augment_draw_side(ch, n, VGG_CIFAR_SIDE, rng);
}

void vgg_dataset_norm(const vgg_dataset *ds, float mean[3], float std[3]) {
    const int own = ds->std[0] > 0.0f;
    for (int c = 0; c < 3; c++) {
        mean[c] = own ? ds->mean[c] : vgg_cifar_mean[c];
        std[c] = own ? ds->std[c] : vgg_cifar_std[c];
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
    const int S = vgg_dataset_side(ds), P = S / 8;
    const size_t bytes = vgg_dataset_image_bytes(ds), plane_n = (size_t)S * S;
    float mean[3], std[3];
    vgg_dataset_norm(ds, mean, std);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const uint8_t *img = ds->pixels + (size_t)idx[i] * bytes;
        labels[i] = ds->labels[idx[i]];
        const crop k = crop_of(ch ? &ch[i] : NULL, P);
        for (int c = 0; c < 3; c++) {
            /* (v/255 - mean)/std = v*scale + shift. torchvision pads the
             * image with black before normalising, so a padded pixel
             * becomes (0 - mean)/std, not 0. */
            float scale = 1.0f / (255.0f * std[c]);
            float shift = -mean[c] / std[c];
            const uint8_t *plane = img + c * plane_n;
            float *o = out + ((size_t)c * n + i) * plane_n;
            for (int y = 0; y < S; y++) {
                int sy = y + k.dy;
                for (int x = 0; x < S; x++) {
                    int sx = crop_x(k, S, x);
                    float v = 0.0f;
                    if (sy >= 0 && sy < S && sx >= 0 && sx < S)
                        v = (float)plane[(size_t)sy * S + sx];
                    o[(size_t)y * S + x] = v * scale + shift;
                }
            }
        }
    }
}
