/* The FMA peak probe's loop on ymm registers (fma_loop.h): 12 chains, so
 * that they, b and c fit AVX2's 16 registers. */
#include <immintrin.h>

#include "kernels/fma_loop.h"

float vgg_fma_loop_avx2(double seconds, uint64_t *iters);
#define FMA256(a, b, c) _mm256_fmadd_ps(a, b, c)
VGG_DEFINE_FMA_LOOP(vgg_fma_loop_avx2, 12, __m256, _mm256_set1_ps, FMA256,
                    _mm256_add_ps, _mm256_cvtss_f32)
