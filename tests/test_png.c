/* PNG writing and reading (every colour type to 8-bit RGB), resizing to
 * 32x32, and clear errors for files that are not PNGs. */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "util.h"
#include "util_pix.h"
#include "vgg/image.h"

static char dir[512];

static const char *tmp(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static uint8_t noise(int i, int salt) {
    return (uint8_t)((i * 2654435761u + (unsigned)salt * 40503u) >> 13);
}

static void test_write_then_read(void **state) {
    (void)state;
    vgg_image img;
    vgg_error err = {0};
    assert_int_equal(vgg_image_init(&img, 37, 23, 0, 0, 0, &err), VGG_OK);
    for (int i = 0; i < 37 * 23 * 3; i++) img.rgb[i] = noise(i, 1);
    const char *path = tmp("rgb.png");
    assert_int_equal(vgg_png_write(path, &img, &err), VGG_OK);
    /* read back with libpng itself */
    int w, h;
    uint8_t *back = tp_read_png_rgb(path, &w, &h);
    assert_non_null(back);
    assert_int_equal(w, 37);
    assert_int_equal(h, 23);
    assert_memory_equal(back, img.rgb, 37 * 23 * 3);
    assert_true(tp_count_not(back, w, h, 0, 0, 0) > 0);
    free(back);
    /* and with ours */
    vgg_image again;
    assert_int_equal(vgg_png_read(path, &again, &err), VGG_OK);
    assert_int_equal(again.width, 37);
    assert_int_equal(again.height, 23);
    assert_memory_equal(again.rgb, img.rgb, 37 * 23 * 3);
    vgg_image_free(&again);
    vgg_image_free(&img);
    vgg_image_free(&img); /* twice is fine */
}

static void test_write_error_names_file(void **state) {
    (void)state;
    vgg_image img;
    vgg_error err = {0};
    assert_int_equal(vgg_image_init(&img, 4, 4, 1, 2, 3, &err), VGG_OK);
    const char *path = tmp("no/such/folder/x.png");
    assert_int_equal(vgg_png_write(path, &img, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, path));
    /* a full device: libpng's write error is caught, not fatal */
    struct stat sb;
    if (stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode)) {
        vgg_image big;
        assert_int_equal(vgg_image_init(&big, 300, 300, 0, 0, 0, &err), VGG_OK);
        for (int i = 0; i < 300 * 300 * 3; i++) big.rgb[i] = noise(i, 9);
        assert_int_equal(vgg_png_write("/dev/full", &big, &err), VGG_ERR_IO);
        assert_non_null(strstr(err.msg, "/dev/full"));
        /* and the device is still there */
        assert_int_equal(stat("/dev/full", &sb), 0);
        assert_true(S_ISCHR(sb.st_mode));
        vgg_image_free(&big);
    }
    vgg_image_free(&img);
}

/* Reads path with vgg_png_read and checks size and every pixel. */
static void expect_rgb(const char *path, int w, int h, const uint8_t *rgb) {
    vgg_image img;
    vgg_error err = {0};
    vgg_status st = vgg_png_read(path, &img, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, VGG_OK);
    assert_int_equal(img.width, w);
    assert_int_equal(img.height, h);
    assert_memory_equal(img.rgb, rgb, (size_t)w * h * 3);
    vgg_image_free(&img);
}

static void test_grey(void **state) {
    (void)state;
    enum { W = 32, H = 32 };
    uint8_t g[W * H], rgb[W * H * 3];
    for (int i = 0; i < W * H; i++) {
        g[i] = noise(i, 2);
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = g[i];
    }
    const char *path = tmp("grey.png");
    assert_int_equal(
        tp_write_png(path, W, H, PNG_COLOR_TYPE_GRAY, 8, g, NULL, 0, 0), 0);
    expect_rgb(path, W, H, rgb);
    /* the CIFAR record: three equal planes */
    uint8_t px[VGG_CIFAR_PIXELS];
    int w = 0, h = 0;
    vgg_error err = {0};
    assert_int_equal(vgg_png_read_cifar(path, px, &w, &h, &err), VGG_OK);
    assert_int_equal(w, 32);
    assert_int_equal(h, 32);
    for (int c = 0; c < 3; c++) assert_memory_equal(px + c * 1024, g, 1024);
}

static void test_grey_low_depth_and_alpha(void **state) {
    (void)state;
    enum { W = 8, H = 3 };
    /* 2-bit grey: samples 0..3 become 0, 85, 170, 255 */
    uint8_t packed[H * 2], rgb[W * H * 3];
    memset(packed, 0, sizeof packed);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (x + y) & 3;
            packed[y * 2 + x / 4] |= (uint8_t)(v << (6 - 2 * (x % 4)));
            for (int c = 0; c < 3; c++)
                rgb[(y * W + x) * 3 + c] = (uint8_t)(v * 85);
        }
    const char *path = tmp("grey2.png");
    assert_int_equal(
        tp_write_png(path, W, H, PNG_COLOR_TYPE_GRAY, 2, packed, NULL, 0, 0),
        0);
    expect_rgb(path, W, H, rgb);
    /* grey + alpha: alpha dropped */
    uint8_t ga[W * H * 2];
    for (int i = 0; i < W * H; i++) {
        ga[2 * i] = noise(i, 3);
        ga[2 * i + 1] = (uint8_t)(i * 11);
        for (int c = 0; c < 3; c++) rgb[3 * i + c] = ga[2 * i];
    }
    path = tmp("greyalpha.png");
    assert_int_equal(
        tp_write_png(path, W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, NULL, 0, 0),
        0);
    expect_rgb(path, W, H, rgb);
}

static void test_palette(void **state) {
    (void)state;
    enum { W = 32, H = 32 };
    const uint8_t pal[4 * 3] = {255, 0, 0, 0, 128, 0, 10, 20, 250, 7, 7, 7};
    uint8_t packed[H * W / 2], rgb[W * H * 3];
    memset(packed, 0, sizeof packed);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (x / 3 + y / 5) % 4;
            packed[y * (W / 2) + x / 2] |= (uint8_t)(v << (x % 2 ? 0 : 4));
            memcpy(rgb + (y * W + x) * 3, pal + 3 * v, 3);
        }
    const char *path = tmp("palette.png");
    assert_int_equal(
        tp_write_png(path, W, H, PNG_COLOR_TYPE_PALETTE, 4, packed, pal, 4, 0),
        0);
    expect_rgb(path, W, H, rgb);
}

static void test_rgba_16bit_interlaced(void **state) {
    (void)state;
    enum { W = 19, H = 13 };
    uint8_t rgba[W * H * 4], rgb[W * H * 3];
    for (int i = 0; i < W * H; i++) {
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = rgba[4 * i + c] = noise(4 * i + c, 4);
        rgba[4 * i + 3] = (uint8_t)(i % 2 ? 0 : 200); /* alpha is dropped */
    }
    const char *path = tmp("rgba.png");
    assert_int_equal(
        tp_write_png(path, W, H, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, NULL, 0, 0),
        0);
    expect_rgb(path, W, H, rgb);

    /* 16-bit RGB, big-endian samples: v -> round(v * 255 / 65535) */
    uint8_t s16[W * H * 6];
    for (int i = 0; i < W * H * 3; i++) {
        unsigned v = (unsigned)noise(i, 5) * 257u + (unsigned)(i % 200);
        if (v > 65535u) v = 65535u;
        s16[2 * i] = (uint8_t)(v >> 8);
        s16[2 * i + 1] = (uint8_t)v;
        rgb[i] = (uint8_t)lround(v * 255.0 / 65535.0);
    }
    path = tmp("rgb16.png");
    assert_int_equal(
        tp_write_png(path, W, H, PNG_COLOR_TYPE_RGB, 16, s16, NULL, 0, 0), 0);
    expect_rgb(path, W, H, rgb);

    /* Adam7 interlaced 8-bit RGB */
    for (int i = 0; i < W * H * 3; i++) rgb[i] = noise(i, 6);
    path = tmp("interlaced.png");
    assert_int_equal(
        tp_write_png(path, W, H, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0, 1), 0);
    expect_rgb(path, W, H, rgb);
}

/* Reference resize in double, written from the definition in image.h. */
static double ref_axis(const double *src, int n_src, int n_dst, int o,
                       int stride) {
    double s = (double)n_src / n_dst;
    if (n_src == n_dst) return src[o * stride];
    if (n_src == 1) return src[0];
    if (n_src > n_dst) {
        double lo = o * s, hi = (o + 1) * s, acc = 0.0;
        for (int j = 0; j < n_src; j++) {
            double a = fmin(hi, j + 1.0) - fmax(lo, (double)j);
            if (a > 0) acc += a * src[j * stride];
        }
        return acc / s;
    }
    double x = (o + 0.5) * s - 0.5;
    x = fmax(0.0, fmin(x, n_src - 1.0));
    int j = (int)floor(x);
    if (j > n_src - 2) j = n_src - 2;
    double f = x - j;
    return (1 - f) * src[j * stride] + f * src[(j + 1) * stride];
}

static void ref_resize(uint8_t *out, const uint8_t *in, int w, int h, int W,
                       int H) {
    double *a = malloc(sizeof(double) * w * h),
           *b = malloc(sizeof(double) * W * h);
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < w * h; i++) a[i] = in[3 * i + c];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < W; x++)
                b[y * W + x] = ref_axis(a + y * w, w, W, x, 1);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                out[3 * (y * W + x) + c] =
                    (uint8_t)lround(ref_axis(b + x, h, H, y, W));
    }
    free(a);
    free(b);
}

static void test_other_sizes(void **state) {
    (void)state;
    vgg_error err = {0};
    /* 64x64 of 2x2 blocks: area averaging gives back the 32x32 image */
    uint8_t small[32 * 32 * 3], big[64 * 64 * 3];
    for (int i = 0; i < 32 * 32 * 3; i++) small[i] = noise(i, 7);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++)
            memcpy(big + (y * 64 + x) * 3, small + ((y / 2) * 32 + x / 2) * 3,
                   3);
    const char *path = tmp("big64.png");
    assert_int_equal(
        tp_write_png(path, 64, 64, PNG_COLOR_TYPE_RGB, 8, big, NULL, 0, 0), 0);
    uint8_t px[VGG_CIFAR_PIXELS];
    int w, h;
    assert_int_equal(vgg_png_read_cifar(path, px, &w, &h, &err), VGG_OK);
    assert_int_equal(w, 64);
    assert_int_equal(h, 64);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 1024; i++)
            assert_int_equal(px[c * 1024 + i], small[3 * i + c]);

    /* odd sizes, shrinking one axis and growing the other, against the
     * reference: within 1 (float vs double rounding) */
    static const int sizes[][2] = {{100, 75}, {20, 50}, {13, 13},
                                   {1, 1},    {33, 31}, {32, 7}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int sw = sizes[t][0], sh = sizes[t][1];
        uint8_t *src = malloc((size_t)sw * sh * 3), ref[32 * 32 * 3];
        for (int i = 0; i < sw * sh * 3; i++) src[i] = noise(i, 8 + (int)t);
        ref_resize(ref, src, sw, sh, 32, 32);
        char name[64];
        snprintf(name, sizeof name, "size%dx%d.png", sw, sh);
        path = tmp(name);
        assert_int_equal(
            tp_write_png(path, sw, sh, PNG_COLOR_TYPE_RGB, 8, src, NULL, 0, 0),
            0);
        assert_int_equal(vgg_png_read_cifar(path, px, &w, &h, &err), VGG_OK);
        assert_int_equal(w, sw);
        assert_int_equal(h, sh);
        int worst = 0;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 1024; i++) {
                int d = abs(px[c * 1024 + i] - ref[3 * i + c]);
                if (d > worst) worst = d;
            }
        if (worst > 1) fprintf(stderr, "%dx%d: off by %d\n", sw, sh, worst);
        assert_true(worst <= 1);
        free(src);
    }

    /* a flat colour stays flat at any size */
    vgg_image flat, out;
    assert_int_equal(vgg_image_init(&flat, 57, 9, 12, 200, 99, &err), VGG_OK);
    assert_int_equal(vgg_image_resize(&out, &flat, 32, 32, &err), VGG_OK);
    assert_int_equal(tp_count_not(out.rgb, 32, 32, 12, 200, 99), 0);
    vgg_image_free(&out);
    vgg_image_free(&flat);

    /* cifar <-> image round trip */
    vgg_image im;
    for (int i = 0; i < VGG_CIFAR_PIXELS; i++) px[i] = noise(i, 20);
    assert_int_equal(vgg_image_from_cifar(&im, px, &err), VGG_OK);
    uint8_t again[VGG_CIFAR_PIXELS];
    assert_int_equal(vgg_image_to_cifar(again, &im, &err), VGG_OK);
    assert_memory_equal(again, px, VGG_CIFAR_PIXELS);
    assert_int_equal(im.rgb[0], px[0]);
    assert_int_equal(im.rgb[1], px[1024]);
    assert_int_equal(im.rgb[2], px[2048]);
    vgg_image_free(&im);
}

static void expect_not_png(const char *name, const void *bytes, size_t n) {
    const char *path = tmp(name);
    assert_int_equal(tp_write_file(path, bytes, n), 0);
    vgg_image img;
    vgg_error err = {0};
    assert_int_equal(vgg_png_read(path, &img, &err), VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, path));
    assert_null(img.rgb);
    uint8_t px[VGG_CIFAR_PIXELS];
    assert_int_equal(vgg_png_read_cifar(path, px, NULL, NULL, &err),
                     VGG_ERR_FORMAT);
    assert_non_null(strstr(err.msg, path));
}

static void test_not_png(void **state) {
    (void)state;
    expect_not_png("notes.txt", "hello, this is text\n", 20);
    expect_not_png("empty.png", "", 0);
    const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',
                            0,    1,    1,    0,    0, 1,  0,   1,   0,   0};
    expect_not_png("photo.jpg", jpeg, sizeof jpeg);
    vgg_image img;
    vgg_error err = {0};
    assert_int_equal(vgg_png_read("photo.jpg", &img, &err), VGG_ERR_IO);
    /* a real PNG cut short, and one with a damaged chunk */
    vgg_image good;
    assert_int_equal(vgg_image_init(&good, 40, 40, 0, 0, 0, &err), VGG_OK);
    for (int i = 0; i < 40 * 40 * 3; i++) good.rgb[i] = noise(i, 30);
    const char *whole = tmp("whole.png");
    assert_int_equal(vgg_png_write(whole, &good, &err), VGG_OK);
    vgg_image_free(&good);
    FILE *f = fopen(whole, "rb");
    assert_non_null(f);
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 200 && n < sizeof buf);
    expect_not_png("cut.png", buf, n / 2);
    buf[40] ^= 0x55; /* inside IHDR / IDAT: CRC mismatch */
    expect_not_png("damaged.png", buf, n);
    /* missing file: an input/output error naming it */
    const char *missing = tmp("missing.png");
    assert_int_equal(vgg_png_read(missing, &img, &err), VGG_ERR_IO);
    assert_non_null(strstr(err.msg, missing));
}

int main(void) {
    const char *d = tu_tmpdir("png");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_then_read),
        cmocka_unit_test(test_write_error_names_file),
        cmocka_unit_test(test_grey),
        cmocka_unit_test(test_grey_low_depth_and_alpha),
        cmocka_unit_test(test_palette),
        cmocka_unit_test(test_rgba_16bit_interlaced),
        cmocka_unit_test(test_other_sizes),
        cmocka_unit_test(test_not_png),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
