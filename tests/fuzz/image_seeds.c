/* Writes the generated part of the image fuzzer's seed corpus into the
 * folder given: small PNGs of every colour type and JPEGs of every kind
 * the decoder converts, through libpng and libjpeg directly (the test
 * helpers tests/util_pix.c and tests/util_jpeg.c). Built and run by
 * tests/fuzz/make_corpus.sh; not part of the build. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_jpeg.h"
#include "util_pix.h"

static char dir[512];

static const char *at(const char *name) {
    static char path[2][1024];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static void fill(uint8_t *p, size_t n, unsigned salt) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 37u + salt * 101u + (i / 7) * 13u) & 0xFF);
}

/* Copies the first half of from to to. */
static int truncate_copy(const char *from, const char *to) {
    FILE *f = fopen(from, "rb");
    if (!f) return -1;
    uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    n /= 2;
    return tp_write_file(to, buf, n);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: image_seeds DIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    uint8_t px[16 * 16 * 8],
        pal[3 * 4] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 30};
    int rc = 0;
    fill(px, sizeof px, 1);
    rc |= tp_write_png(at("rgb-8x8.png"), 8, 8, PNG_COLOR_TYPE_RGB, 8, px, NULL,
                       0, 0);
    rc |= tp_write_png(at("grey-1bit-9x7.png"), 9, 7, PNG_COLOR_TYPE_GRAY, 1,
                       px, NULL, 0, 0);
    for (int i = 0; i < 64; i++) px[i] &= 3;
    rc |= tp_write_png(at("palette-8x8.png"), 8, 8, PNG_COLOR_TYPE_PALETTE, 8,
                       px, pal, 4, 0);
    fill(px, sizeof px, 2);
    rc |= tp_write_png(at("rgba16-interlaced-6x5.png"), 6, 5,
                       PNG_COLOR_TYPE_RGBA, 16, px, NULL, 0, 1);
    rc |= tp_write_png(at("grey-alpha-4x4.png"), 4, 4,
                       PNG_COLOR_TYPE_GRAY_ALPHA, 8, px, NULL, 0, 0);
    rc |= tp_write_png(at("one-pixel.png"), 1, 1, PNG_COLOR_TYPE_RGB, 8, px,
                       NULL, 0, 0);
    for (size_t i = 0; i < 16 * 16 * 3; i++)
        px[i] = (uint8_t)(i % 48 * 5); /* smooth: compresses well */
    rc |= tj_write_jpeg(at("rgb-16x16.jpg"), 16, 16, 3, px, 75, 0);
    rc |= tj_write_jpeg(at("rgb-progressive-16x16.jpg"), 16, 16, 3, px, 75, 1);
    rc |= tj_write_jpeg(at("grey-12x9.jpg"), 12, 9, 1, px, 75, 0);
    rc |= tj_write_jpeg(at("cmyk-8x8.jpg"), 8, 8, 4, px, 75, 0);
    rc |= truncate_copy(at("rgb-16x16.jpg"), at("rgb-truncated.jpg"));
    rc |= truncate_copy(at("rgb-8x8.png"), at("rgb-truncated.png"));
    if (rc) fprintf(stderr, "image_seeds: writing into %s failed\n", dir);
    return rc ? 1 : 0;
}
