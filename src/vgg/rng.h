/* One explicit random-number state (PCG32, O'Neill 2014), seeded from
 * --seed and passed to initialisation, shuffling and augmentation. Its two
 * 64-bit words are saved in checkpoints so that a resume is exact. */
#ifndef VGG_RNG_H
#define VGG_RNG_H

#include <stdint.h>

typedef struct vgg_rng {
    uint64_t state;
    uint64_t inc; /* always odd */
} vgg_rng;

void vgg_rng_seed(vgg_rng *r, uint64_t seed, uint64_t stream);
uint32_t vgg_rng_u32(vgg_rng *r);
/* Uniform in [0, 1), 24 random bits. */
float vgg_rng_uniform(vgg_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint32_t vgg_rng_below(vgg_rng *r, uint32_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void vgg_rng_shuffle(vgg_rng *r, int *idx, int n);

#endif
