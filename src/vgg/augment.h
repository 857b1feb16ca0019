/* Turning dataset records into network input.
 * Training: random crop S from the image zero-padded by S/8 pixels (4 for
 * CIFAR's 32), random horizontal flip (p = 0.5), then per-channel
 * normalisation with the set's mean and std (CIFAR-10's constants when it
 * has none). Test: only the normalisation. Output layout is the
 * network's, CNHW: [3][n][S][S]. */
#ifndef VGG_AUGMENT_H
#define VGG_AUGMENT_H

#include <stdint.h>

#include "vgg/cifar.h"
#include "vgg/rng.h"

extern const float vgg_cifar_mean[3]; /* 0.4914 0.4822 0.4465 */
extern const float vgg_cifar_std[3];  /* 0.2023 0.1994 0.2010 */

/* One image's random choices: crop offset (top-left corner in the padded
 * image, 0..2P each: 0..8 for 32x32) and flip. */
typedef struct vgg_augment_choice {
    uint8_t top, left, flip;
} vgg_augment_choice;

/* Draws n choices from rng, in order, on the calling thread, so that the
 * result does not depend on the thread count. */
void vgg_augment_draw(vgg_augment_choice *ch, int n, vgg_rng *rng);
/* The same for images of side `side` (padding side / 8); side 32 draws
 * exactly what vgg_augment_draw draws. */
void vgg_augment_draw_side(vgg_augment_choice *ch, int n, int side,
                           vgg_rng *rng);

/* The mean and std ds is normalised with (its own or CIFAR-10's). */
void vgg_dataset_norm(const vgg_dataset *ds, float mean[3], float std[3]);

/* Writes images idx[0..n) of ds to out ([3][n][S][S], S = ds's side); labels[i]
 * gets their labels. ch may be NULL (no augmentation: test time). */
void vgg_augment_batch(float *out, uint8_t *labels, const vgg_dataset *ds,
                       const int *idx, int n, const vgg_augment_choice *ch);

/* Applies one augmentation choice to a raw CIFAR record (3x32x32 planar
 * uint8), exactly as vgg_augment_batch does before normalising: crop 32x32
 * at (top, left) from the image zero-padded by 4 (padding is black), then
 * flip horizontally if ch->flip. ch NULL copies the image. */
void vgg_augment_pixels(uint8_t *out, const uint8_t *in,
                        const vgg_augment_choice *ch);

#endif
