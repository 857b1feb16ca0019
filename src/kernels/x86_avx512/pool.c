/* The 2x2 stride-2 max-pool's rows in AVX-512 (the seam's pool_row and
 * unpool_row, see kernel.h; the loops over rows are src/nn/pool.c's).
 * Compiled with the AVX-512 flags (CMakeLists.txt). */
#include <immintrin.h>
#include <stdint.h>

/* The masks of the first 2n floats (n <= 16 windows) as two vectors. */
static inline void pair_masks(int n, __mmask16 *lo, __mmask16 *hi) {
    *lo = (__mmask16)(n >= 8 ? 0xFFFFu : (1u << 2 * n) - 1u);
    *hi = (__mmask16)(n > 8 ? (1u << 2 * (n - 8)) - 1u : 0u);
}

/* Sixteen windows from x0 (n <= 16 of them), the scalar loop's selects on
 * whole vectors; GCC left that loop scalar (its float compares may trap
 * unless -fno-trapping-math), at about 3 GB/s. */
static inline void pool16(float *o, uint8_t *a, const float *r0,
                          const float *r1, int n) {
    __mmask16 mlo, mhi;
    pair_masks(n, &mlo, &mhi);
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                         22, 24, 26, 28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    __m512 v[4];
    for (int row = 0; row < 2; row++) {
        const float *src = row ? r1 : r0;
        __m512 lo = _mm512_maskz_loadu_ps(mlo, src);
        __m512 hi = _mm512_maskz_loadu_ps(mhi, src + 16);
        v[2 * row] = _mm512_permutex2var_ps(lo, ev, hi);
        v[2 * row + 1] = _mm512_permutex2var_ps(lo, od, hi);
    }
    __m512 best = v[0];
    __m512i k = _mm512_setzero_si512();
    for (int j = 1; j < 4; j++) {
        __mmask16 gt = _mm512_cmp_ps_mask(v[j], best, _CMP_GT_OQ);
        best = _mm512_mask_mov_ps(best, gt, v[j]);
        k = _mm512_mask_mov_epi32(k, gt, _mm512_set1_epi32(j));
    }
    const __mmask16 m = (__mmask16)((1u << n) - 1u);
    _mm512_mask_storeu_ps(o, m, best);
    _mm512_mask_cvtepi32_storeu_epi8(a, m, k);
}

void vgg_pool_row_avx512(float *o, uint8_t *arg, const float *r0,
                         const float *r1, int n) {
    for (int x = 0; x < n; x += 16)
        pool16(o + x, arg + x, r0 + 2 * x, r1 + 2 * x, n - x < 16 ? n - x : 16);
}

/* Sixteen windows from x0 (n <= 16 of them): their gradients spread to the
 * two input rows, interleaved in registers (GCC did not vectorise the
 * scalar loop's interleaved stores: it ran at about 3 GB/s). */
static inline void unpool16(float *r0, float *r1, const float *g,
                            const uint8_t *a, int n) {
    const __mmask16 m = (__mmask16)((1u << n) - 1u);
    const __m512i k = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, a));
    const __m512 gv = _mm512_maskz_loadu_ps(m, g);
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                         21, 6, 22, 7, 23);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    __mmask16 mlo, mhi;
    pair_masks(n, &mlo, &mhi);
    for (int row = 0; row < 2; row++) {
        __m512 e = _mm512_maskz_mov_ps(
            _mm512_cmpeq_epi32_mask(k, _mm512_set1_epi32(2 * row)), gv);
        __m512 o = _mm512_maskz_mov_ps(
            _mm512_cmpeq_epi32_mask(k, _mm512_set1_epi32(2 * row + 1)), gv);
        float *d = row ? r1 : r0;
        _mm512_mask_storeu_ps(d, mlo, _mm512_permutex2var_ps(e, lo, o));
        _mm512_mask_storeu_ps(d + 16, mhi, _mm512_permutex2var_ps(e, hi, o));
    }
}

void vgg_unpool_row_avx512(float *r0, float *r1, const float *g,
                           const uint8_t *arg, int n) {
    for (int x = 0; x < n; x += 16)
        unpool16(r0 + 2 * x, r1 + 2 * x, g + x, arg + x,
                 n - x < 16 ? n - x : 16);
}
