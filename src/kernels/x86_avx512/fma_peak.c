/* The FMA peak probe's loop on zmm registers (fma_loop.h): 16 chains. */
#include <immintrin.h>

#include "kernels/fma_loop.h"

float vgg_fma_loop_avx512(double seconds, uint64_t *iters);
#define FMA512(a, b, c) _mm512_fmadd_ps(a, b, c)
VGG_DEFINE_FMA_LOOP(vgg_fma_loop_avx512, 16, __m512, _mm512_set1_ps, FMA512,
                    _mm512_add_ps, _mm512_cvtss_f32)
