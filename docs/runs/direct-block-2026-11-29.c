/* A harness kept for the record (docs/gemm.md, "Intel, fourth session of
 * 2026-11-29"): layer 1's forward (64 x 64 channels, 32 x 32 images), one
 * thread, per 64-pixel panel either the im2col panel packed and run through
 * kernel_nv4 (packed), or a block of four image rows a channel packed and
 * read by the taps straight from it (direct; with a third argument, three
 * copies of the block shifted by dx = -1, 0, +1 so that every load is
 * aligned and unmasked). Build as scripts/kernel-bench builds
 * kernel_bench.c, with -include scripts/bench_conv.h; run: dc NPANELS [x3]. */
#include "gemm_avx512.c"
#include <stdio.h>
#include "vgg/gemm.h"
#include "vgg/profile.h"

#define CS 160 /* floats per channel in the block: 16 pad + 4 rows x 32 + 16 */

/* C[mr][64] = a . B where B row (c, t) = x[c] shifted by tap t over two
 * image rows of 32, read from blk (4 rows a channel, zero rows outside). */
static void dkern32(int C, const float *restrict a, const float *restrict blk,
                    float *restrict c, long ldc, int mr) {
    __m512 acc[6][4];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
    for (int ch = 0; ch < C; ch++) {
        const float *bc = blk + (long)ch * CS + 16;
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) {
            const int dy = t / 3 - 1, dx = t % 3 - 1;
            __m512 bv[4];
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) {
                const float *src = bc + (1 + (v >> 1) + dy) * 32 + 16 * (v & 1) + dx;
                if (dx == -1 && !(v & 1))
                    bv[v] = _mm512_maskz_loadu_ps(0xFFFE, src);
                else if (dx == 1 && (v & 1))
                    bv[v] = _mm512_maskz_loadu_ps(0x7FFF, src);
                else
                    bv[v] = _mm512_loadu_ps(src);
            }
#pragma GCC unroll 6
            for (int i = 0; i < 6; i++) {
                __m512 av = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
                for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
            }
            a += 6;
        }
    }
    store_tile(&acc[0][0], 4, c, ldc, mr, 0xFFFF, 1.0f, 0.0f);
}

/* block for the 64 pixels from j0 (two whole rows of one 32 x 32 image) */
static void pack_block32(float *restrict blk, const float *x, long npix, int C, long j0) {
    const int W = 32, H = 32;
    int y0 = (int)((j0 / W) % H);
    for (int c = 0; c < C; c++) {
        float *b = blk + (long)c * CS + 16;
        const float *xc = x + (long)c * npix + j0;
        for (int r = 0; r < 4; r++) {
            int y = y0 - 1 + r;
            if (y < 0 || y >= H) {
                _mm512_storeu_ps(b + r * 32, _mm512_setzero_ps());
                _mm512_storeu_ps(b + r * 32 + 16, _mm512_setzero_ps());
            } else {
                const float *s = xc + (r - 1) * W;
                _mm512_storeu_ps(b + r * 32, _mm512_loadu_ps(s));
                _mm512_storeu_ps(b + r * 32 + 16, _mm512_loadu_ps(s + 16));
            }
        }
    }
}

/* three copies of the block, shifted by dx = -1, 0, +1, edges zeroed */
#define CS3 (3 * 128)
static void pack_block32x3(float *restrict blk, const float *x, long npix, int C, long j0) {
    const int W = 32, H = 32;
    int y0 = (int)((j0 / W) % H);
    for (int c = 0; c < C; c++) {
        const float *xc = x + (long)c * npix + j0;
        for (int d = 0; d < 3; d++) {
            float *b = blk + (long)c * CS3 + d * 128;
            for (int r = 0; r < 4; r++) {
                int y = y0 - 1 + r;
                if (y < 0 || y >= H) {
                    _mm512_store_ps(b + r * 32, _mm512_setzero_ps());
                    _mm512_store_ps(b + r * 32 + 16, _mm512_setzero_ps());
                } else {
                    const float *s = xc + (r - 1) * W + (d - 1);
                    _mm512_store_ps(b + r * 32, _mm512_maskz_loadu_ps(d == 0 ? 0xFFFE : 0xFFFF, s));
                    _mm512_store_ps(b + r * 32 + 16, _mm512_maskz_loadu_ps(d == 2 ? 0x7FFF : 0xFFFF, s + 16));
                }
            }
        }
    }
}
static void dkern32x3(int C, const float *restrict a, const float *restrict blk,
                      float *restrict c, long ldc, int mr) {
    __m512 acc[6][4];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
    for (int ch = 0; ch < C; ch++) {
        const float *bc = blk + (long)ch * CS3;
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) {
            const int dy = t / 3 - 1, dx = t % 3 - 1;
            __m512 bv[4];
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++)
                bv[v] = _mm512_load_ps(bc + (dx + 1) * 128 + (1 + (v >> 1) + dy) * 32 + 16 * (v & 1));
#pragma GCC unroll 6
            for (int i = 0; i < 6; i++) {
                __m512 av = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
                for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
            }
            a += 6;
        }
    }
    store_tile(&acc[0][0], 4, c, ldc, mr, 0xFFFF, 1.0f, 0.0f);
}

int main(int argc, char **argv) {
    const int C = 64, M = 64, N = 128, H = 32, W = 32;
    const long npix = (long)N * H * W;
    const int K = C * 9, npanel = argc > 1 ? atoi(argv[1]) : 512;
    float *x = aligned_alloc(64, sizeof(float) * C * npix);
    float *w = aligned_alloc(64, sizeof(float) * M * K);
    for (long i = 0; i < C * npix; i++) x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    for (long i = 0; i < (long)M * K; i++) w[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
    float *pa = aligned_alloc(64, sizeof(float) * 66 * K);
    pack_rows_kmajor(pa, w, K, M, K, MR);
    float *pb = aligned_alloc(64, sizeof(float) * NR * K);
    float *blk = aligned_alloc(64, sizeof(float) * CS3 * C);
    int v3 = argc > 2;
    float *c1 = aligned_alloc(64, sizeof(float) * M * npix);
    float *c2 = aligned_alloc(64, sizeof(float) * M * npix);
    memset(c1, 0, sizeof(float) * M * npix); memset(c2, 0, sizeof(float) * M * npix);
    vgg_im2col_src s = {x, C, N, H, W};
    double best[2] = {0, 0}, all[2][15];
    for (int round = 0; round < 15; round++) {
        for (int which = 0; which < 2; which++) {
            double t0 = vgg_now();
            for (int p = 0; p < npanel; p++) {
                long j0 = (long)p * 64;
                float *c = which ? c2 : c1;
                if (!which) {
                    pack_im2col_cols(pb, &s, j0, 64, 0, K);
                    for (int ir = 0; ir < M; ir += MR)
                        tile(K, pa + (long)ir * K, pb, c + ir * npix + j0, npix, imin(MR, M - ir), 64, 1.0f, 0.0f);
                } else {
                    if (v3) {
                    pack_block32x3(blk, x, npix, C, j0);
                    for (int ir = 0; ir < M; ir += MR)
                        dkern32x3(C, pa + (long)ir * K, blk, c + ir * npix + j0, npix, imin(MR, M - ir));
                    } else {
                    pack_block32(blk, x, npix, C, j0);
                    for (int ir = 0; ir < M; ir += MR)
                        dkern32(C, pa + (long)ir * K, blk, c + ir * npix + j0, npix, imin(MR, M - ir));
                    }
                }
            }
            double t = vgg_now() - t0;
            all[which][round] = 2.0 * M * K * 64.0 * npanel / t / 1e9;
        }
    }
    for (int w2 = 0; w2 < 2; w2++) { qsort(all[w2], 15, sizeof(double), cmp_double); best[w2] = all[w2][7]; }
    long bad = 0;
    for (long i = 0; i < (long)M * npix; i++) if (memcmp(&c1[i], &c2[i], 4)) bad++;
    double pk = vgg_fma_peak(1, 0.2);
    printf("packed %.1f GF/s  direct %.1f GF/s  ratio %.3f  peak1 %.1f  mismatches %ld\n", best[0], best[1], best[1] / best[0], pk, bad);
    return 0;
}
