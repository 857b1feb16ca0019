#include "vgg/rng.h"

void vgg_rng_seed(vgg_rng *r, uint64_t seed, uint64_t stream) {
    r->state = 0;
    r->inc = (stream << 1u) | 1u;
    vgg_rng_u32(r);
    r->state += seed;
    vgg_rng_u32(r);
}

uint32_t vgg_rng_u32(vgg_rng *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

float vgg_rng_uniform(vgg_rng *r) {
    return (float)(vgg_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

uint32_t vgg_rng_below(vgg_rng *r, uint32_t n) {
    /* Lemire-free rejection: discard the top partial range. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = vgg_rng_u32(r);
        if (x >= threshold) return x % n;
    }
}

void vgg_rng_shuffle(vgg_rng *r, int *idx, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)vgg_rng_below(r, (uint32_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
