/* Decoding PNG and JPEG by their bytes, the resize filter against
 * hand-computed values, and every bad image the decoders must refuse with
 * a message naming the file. */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "util_jpeg.h"
#include "util_pix.h"
#include "vgg/crc32.h"
#include "vgg/image.h"

static char dir[512];

static const char *tmp(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* A smooth picture that JPEG keeps well. */
static void gradient(uint8_t *rgb, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(40 + 150 * x / (w - 1));
            p[1] = (uint8_t)(30 + 180 * y / (h - 1));
            p[2] = (uint8_t)(200 - 100 * (x + y) / (w + h - 2));
        }
}

static int max_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs(a[i] - b[i]);
        if (d > worst) worst = d;
    }
    return worst;
}

static void test_resize_hand_computed(void **state) {
    (void)state;
    vgg_error err = {0};
    vgg_image src, out;
    /* shrinking 3 -> 2 by area: output 0 covers [0, 1.5) = pixel 0 and
     * half of pixel 1: (0 + 0.5 * 30) / 1.5 = 10; output 1 covers
     * [1.5, 3): (0.5 * 30 + 90) / 1.5 = 70 */
    assert_int_equal(vgg_image_init(&src, 3, 1, 0, 0, 0, &err), VGG_OK);
    const uint8_t row3[3] = {0, 30, 90};
    for (int x = 0; x < 3; x++) memset(src.rgb + 3 * x, row3[x], 3);
    assert_int_equal(vgg_image_resize(&out, &src, 2, 1, &err), VGG_OK);
    assert_int_equal(out.rgb[0], 10);
    assert_int_equal(out.rgb[3], 70);
    assert_int_equal(out.rgb[5], 70);
    vgg_image_free(&out);
    vgg_image_free(&src);
    /* 4 -> 2: plain means of pairs, (10 + 20) / 2 = 15, (30 + 50) / 2 = 40 */
    assert_int_equal(vgg_image_init(&src, 4, 1, 0, 0, 0, &err), VGG_OK);
    const uint8_t row4[4] = {10, 20, 30, 50};
    for (int x = 0; x < 4; x++) memset(src.rgb + 3 * x, row4[x], 3);
    assert_int_equal(vgg_image_resize(&out, &src, 2, 1, &err), VGG_OK);
    assert_int_equal(out.rgb[0], 15);
    assert_int_equal(out.rgb[3], 40);
    vgg_image_free(&out);
    vgg_image_free(&src);
    /* growing 2 -> 4 bilinear with aligned centres: source x = (o + 0.5)
     * / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to 0 .. 1: values
     * 0, 25, 75, 100 between 0 and 100; vertically 1 -> 2 copies */
    assert_int_equal(vgg_image_init(&src, 2, 1, 0, 0, 0, &err), VGG_OK);
    memset(src.rgb + 3, 100, 3);
    assert_int_equal(vgg_image_resize(&out, &src, 4, 2, &err), VGG_OK);
    const uint8_t want[4] = {0, 25, 75, 100};
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++)
            assert_int_equal(out.rgb[(y * 4 + x) * 3 + 1], want[x]);
    vgg_image_free(&out);
    vgg_image_free(&src);
    /* to_planar at 64: planes R, G, B of 64x64 */
    assert_int_equal(vgg_image_init(&src, 64, 64, 7, 8, 9, &err), VGG_OK);
    src.rgb[(5 * 64 + 3) * 3 + 2] = 200;
    uint8_t *px = malloc(3 * 64 * 64);
    assert_int_equal(vgg_image_to_planar(px, &src, 64, &err), VGG_OK);
    assert_int_equal(px[0], 7);
    assert_int_equal(px[64 * 64], 8);
    assert_int_equal(px[2 * 64 * 64 + 5 * 64 + 3], 200);
    assert_int_equal(px[2 * 64 * 64 + 5 * 64 + 4], 9);
    /* 2x2 blocks of a 64x64 image shrink to the 32x32 one exactly */
    assert_int_equal(vgg_image_to_planar(px, &src, 32, &err), VGG_OK);
    assert_int_equal(px[2 * 1024 + 2 * 32 + 1], (9 + 9 + 9 + 200 + 2) / 4);
    free(px);
    vgg_image_free(&src);
}

static void test_jpeg_kinds(void **state) {
    (void)state;
    vgg_error err = {0};
    enum { W = 40, H = 30 };
    uint8_t rgb[W * H * 3];
    gradient(rgb, W, H);
    /* baseline and progressive RGB at quality 100, no subsampling */
    for (int prog = 0; prog < 2; prog++) {
        const char *path = tmp(prog ? "prog.jpg" : "rgb.jpg");
        assert_int_equal(tj_write_jpeg(path, W, H, 3, rgb, 100, prog), 0);
        vgg_image img;
        assert_int_equal(vgg_image_read(path, &img, &err), VGG_OK);
        assert_int_equal(img.width, W);
        assert_int_equal(img.height, H);
        int d = max_diff(img.rgb, rgb, sizeof rgb);
        assert_true(d <= 4);
        vgg_image_free(&img);
    }
    /* grey: replicated */
    uint8_t grey[W * H];
    for (int i = 0; i < W * H; i++) grey[i] = (uint8_t)(20 + i % W * 5);
    assert_int_equal(tj_write_jpeg(tmp("grey.jpg"), W, H, 1, grey, 100, 0), 0);
    vgg_image img;
    assert_int_equal(vgg_image_read(tmp("grey.jpg"), &img, &err), VGG_OK);
    for (int i = 0; i < W * H; i++) {
        assert_int_equal(img.rgb[3 * i], img.rgb[3 * i + 1]);
        assert_int_equal(img.rgb[3 * i], img.rgb[3 * i + 2]);
        assert_true(abs(img.rgb[3 * i] - grey[i]) <= 2);
    }
    vgg_image_free(&img);
    /* CMYK as Adobe writes it (inverted): R = C * K / 255 ... */
    uint8_t cmyk[W * H * 4];
    for (int i = 0; i < W * H; i++) {
        cmyk[4 * i] = 200;
        cmyk[4 * i + 1] = 100;
        cmyk[4 * i + 2] = 50;
        cmyk[4 * i + 3] = 255;
    }
    assert_int_equal(tj_write_jpeg(tmp("cmyk.jpg"), W, H, 4, cmyk, 100, 0), 0);
    assert_int_equal(vgg_image_read(tmp("cmyk.jpg"), &img, &err), VGG_OK);
    assert_true(abs(img.rgb[0] - 200) <= 2);
    assert_true(abs(img.rgb[1] - 100) <= 2);
    assert_true(abs(img.rgb[2] - 50) <= 2);
    vgg_image_free(&img);
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*n);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void test_format_by_bytes(void **state) {
    (void)state;
    vgg_error err = {0};
    enum { W = 12, H = 9 };
    uint8_t rgb[W * H * 3];
    gradient(rgb, W, H);
    /* a PNG named .jpg and a JPEG named .png both decode */
    assert_int_equal(tp_write_png(tmp("really-png.jpg"), W, H,
                                  PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0, 0),
                     0);
    assert_int_equal(tj_write_jpeg(tmp("really-jpeg.png"), W, H, 3, rgb, 95, 0),
                     0);
    vgg_image img;
    assert_int_equal(vgg_image_read(tmp("really-png.jpg"), &img, &err), VGG_OK);
    assert_memory_equal(img.rgb, rgb, sizeof rgb);
    vgg_image_free(&img);
    assert_int_equal(vgg_image_read(tmp("really-jpeg.png"), &img, &err),
                     VGG_OK);
    assert_true(max_diff(img.rgb, rgb, sizeof rgb) <= 12);
    vgg_image_free(&img);
    size_t n;
    uint8_t *b = slurp(tmp("really-jpeg.png"), &n);
    assert_int_equal(vgg_image_sniff(b, n), VGG_IMAGE_JPEG);
    assert_int_equal(vgg_image_sniff(b, 2), VGG_IMAGE_UNKNOWN);
    free(b);
    b = slurp(tmp("really-png.jpg"), &n);
    assert_int_equal(vgg_image_sniff(b, n), VGG_IMAGE_PNG);
    /* grey+alpha 16-bit PNG from memory */
    free(b);
    uint8_t ga[W * H * 4];
    for (int i = 0; i < W * H; i++) {
        ga[4 * i] = (uint8_t)i, ga[4 * i + 1] = 0;
        ga[4 * i + 2] = 0x80, ga[4 * i + 3] = 0;
    }
    assert_int_equal(tp_write_png(tmp("ga16.png"), W, H,
                                  PNG_COLOR_TYPE_GRAY_ALPHA, 16, ga, NULL, 0,
                                  0),
                     0);
    b = slurp(tmp("ga16.png"), &n);
    assert_int_equal(vgg_image_decode(b, n, "ga16", &img, &err), VGG_OK);
    assert_int_equal(img.rgb[3 * 5], 5); /* 0x0500 * 255 / 65535 = 4.98 */
    assert_int_equal(img.rgb[3 * 5 + 2], 5);
    vgg_image_free(&img);
    free(b);
}

/* Expects vgg_image_read(path) to fail with st and a message holding the
 * path and `what`. */
static void expect_bad(const char *path, vgg_status st, const char *what) {
    vgg_image img = {(int)0xdead, 1, (uint8_t *)&img};
    vgg_error err = {0};
    vgg_status got = vgg_image_read(path, &img, &err);
    if (got != st || !strstr(err.msg, path) || !strstr(err.msg, what))
        fprintf(stderr, "%s: got %d: %s\n", path, got, err.msg);
    assert_int_equal(got, st);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, what));
    assert_null(img.rgb);
    assert_int_equal(img.width, 0);
}

/* A PNG of w x h whose data never comes: IHDR, then an IDAT chunk header,
 * which is as far as png_read_info reads. */
static void write_png_header(const char *path, uint32_t w, uint32_t h) {
    uint8_t b[8 + 25 + 8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    uint8_t *c = b + 8;
    c[3] = 13;
    memcpy(c + 4, "IHDR", 4);
    for (int i = 0; i < 4; i++) {
        c[8 + i] = (uint8_t)(w >> (24 - 8 * i));
        c[12 + i] = (uint8_t)(h >> (24 - 8 * i));
    }
    c[16] = 8; /* depth */
    c[17] = 2; /* RGB */
    uint32_t crc = vgg_crc32(0, c + 4, 17);
    for (int i = 0; i < 4; i++) c[21 + i] = (uint8_t)(crc >> (24 - 8 * i));
    uint8_t *d = b + 33;
    d[3] = 100;
    memcpy(d + 4, "IDAT", 4);
    assert_int_equal(tp_write_file(path, b, sizeof b), 0);
}

/* Patches the first SOF0 marker's height and width. */
static void patch_jpeg_size(uint8_t *b, size_t n, int w, int h) {
    for (size_t i = 2; i + 9 < n; i++)
        if (b[i] == 0xFF && b[i + 1] == 0xC0) {
            b[i + 5] = (uint8_t)(h >> 8), b[i + 6] = (uint8_t)h;
            b[i + 7] = (uint8_t)(w >> 8), b[i + 8] = (uint8_t)w;
            return;
        }
    fail_msg("no SOF0 marker");
}

static void test_bad_images(void **state) {
    (void)state;
    enum { W = 40, H = 30 };
    uint8_t rgb[W * H * 3];
    gradient(rgb, W, H);
    assert_int_equal(tj_write_jpeg(tmp("ok.jpg"), W, H, 3, rgb, 90, 0), 0);
    assert_int_equal(tp_write_png(tmp("ok.png"), W, H, PNG_COLOR_TYPE_RGB, 8,
                                  rgb, NULL, 0, 0),
                     0);
    size_t nj, np;
    uint8_t *jpg = slurp(tmp("ok.jpg"), &nj), *png = slurp(tmp("ok.png"), &np);

    /* truncated */
    assert_int_equal(tp_write_file(tmp("cut.jpg"), jpg, nj / 2), 0);
    expect_bad(tmp("cut.jpg"), VGG_ERR_FORMAT, "damaged or unsupported JPEG");
    assert_int_equal(tp_write_file(tmp("cut.png"), png, np / 2), 0);
    expect_bad(tmp("cut.png"), VGG_ERR_FORMAT, "damaged or unsupported PNG");
    assert_int_equal(tp_write_file(tmp("sig-only.jpg"), jpg, 3), 0);
    expect_bad(tmp("sig-only.jpg"), VGG_ERR_FORMAT, "JPEG");
    /* corrupt: a Huffman table's counts overwritten (JPEG has no
     * checksum: damage that still parses as entropy-coded data decodes to
     * wrong pixels in every decoder; damage to the structure is caught) */
    uint8_t *bad = malloc(nj);
    memcpy(bad, jpg, nj);
    for (size_t i = 2; i + 6 < nj; i++)
        if (bad[i] == 0xFF && bad[i + 1] == 0xC4) {
            bad[i + 5] ^= 0xFF;
            bad[i + 6] ^= 0xFF;
            break;
        }
    assert_int_equal(tp_write_file(tmp("corrupt.jpg"), bad, nj), 0);
    expect_bad(tmp("corrupt.jpg"), VGG_ERR_FORMAT, "JPEG");
    memcpy(bad, png, np < nj ? np : nj);
    assert_true(np > 80);
    for (size_t i = 60; i < 80; i++) bad[i] ^= 0x5A;
    assert_int_equal(tp_write_file(tmp("corrupt.png"), bad, np < nj ? np : nj),
                     0);
    expect_bad(tmp("corrupt.png"), VGG_ERR_FORMAT, "PNG");
    free(bad);
    /* claims to be an image and is not */
    assert_int_equal(tp_write_file(tmp("text.jpg"), "hello\n", 6), 0);
    expect_bad(tmp("text.jpg"), VGG_ERR_FORMAT, "not a PNG or JPEG");
    assert_int_equal(tp_write_file(tmp("empty.png"), "", 0), 0);
    expect_bad(tmp("empty.png"), VGG_ERR_FORMAT, "not a PNG or JPEG");
    /* too large: refused from the header (the data is not there) */
    write_png_header(tmp("bomb.png"), 10000, 10000);
    expect_bad(tmp("bomb.png"), VGG_ERR_FORMAT, "larger than the limit");
    uint8_t *big = malloc(nj);
    memcpy(big, jpg, nj);
    patch_jpeg_size(big, nj, 9000, 9000);
    assert_int_equal(tp_write_file(tmp("bomb.jpg"), big, nj), 0);
    expect_bad(tmp("bomb.jpg"), VGG_ERR_FORMAT, "9000x9000 pixels is larger");
    /* 0x0 and 1x1 */
    write_png_header(tmp("zero.png"), 0, 0);
    expect_bad(tmp("zero.png"), VGG_ERR_FORMAT, "PNG");
    memcpy(big, jpg, nj);
    patch_jpeg_size(big, nj, 0, 0);
    assert_int_equal(tp_write_file(tmp("zero.jpg"), big, nj), 0);
    expect_bad(tmp("zero.jpg"), VGG_ERR_FORMAT, "JPEG");
    free(big);
    uint8_t one[3] = {1, 2, 3};
    assert_int_equal(tp_write_png(tmp("one.png"), 1, 1, PNG_COLOR_TYPE_RGB, 8,
                                  one, NULL, 0, 0),
                     0);
    expect_bad(tmp("one.png"), VGG_ERR_FORMAT, "1x1 pixels; expected at least");
    assert_int_equal(tj_write_jpeg(tmp("one.jpg"), 1, 1, 3, one, 90, 0), 0);
    expect_bad(tmp("one.jpg"), VGG_ERR_FORMAT, "1x1 pixels; expected at least");
    /* a lower limit through the decoder's argument */
    vgg_image img;
    vgg_error err = {0};
    assert_int_equal(
        vgg_jpeg_decode(jpg, nj, "small-limit", W * H - 1, &img, &err),
        VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "40x30 pixels is larger than the limit"));
    assert_int_equal(
        vgg_png_decode(png, np, "small-limit", W * H - 1, &img, &err),
        VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "40x30 pixels is larger than the limit"));
    assert_int_equal(vgg_png_decode(png, np, "exact", W * H, &img, &err),
                     VGG_OK);
    vgg_image_free(&img);
    /* not files */
    expect_bad(tmp("missing.png"), VGG_ERR_IO, "cannot open");
    expect_bad(dir, VGG_ERR_IO, "not a regular file");
    assert_int_equal(symlink("loop.jpg", tmp("loop.jpg")), 0);
    expect_bad(tmp("loop.jpg"), VGG_ERR_IO, "symbolic-link loop");
    assert_int_equal(mkfifo(tmp("fifo.png"), 0600), 0);
    expect_bad(tmp("fifo.png"), VGG_ERR_IO, "not a regular file");
    free(jpg);
    free(png);
}

int main(void) {
    const char *d = tu_tmpdir("images");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_hand_computed),
        cmocka_unit_test(test_jpeg_kinds),
        cmocka_unit_test(test_format_by_bytes),
        cmocka_unit_test(test_bad_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
