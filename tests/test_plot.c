/* Pictures: the samples grid (tiles equal to the augmented images, pixel
 * for pixel), learning curves (PNG and SVG), the confusion matrix, and the
 * bitmap font. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>

#include <cmocka.h>

#include "io/font.h"
#include "util.h"
#include "util_pix.h"
#include "vgg/augment.h"
#include "vgg/plot.h"

static char dir[512];

static const char *tmp(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static const char *names10[10] = {"airplane", "automobile", "bird", "cat",
                                  "deer",     "dog",        "frog", "horse",
                                  "ship",     "truck"};

/* n images of smooth colour patterns (so a viewer can tell them apart),
 * labels i % 10. */
static void make_dataset(vgg_dataset *ds, int n) {
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->num_classes = 10;
    ds->pixels = malloc((size_t)n * VGG_CIFAR_PIXELS);
    ds->labels = malloc((size_t)n);
    for (int c = 0; c < 10; c++) strcpy(ds->class_names[c], names10[c]);
    vgg_rng r;
    vgg_rng_seed(&r, 5, 1);
    for (int i = 0; i < n; i++) {
        ds->labels[i] = (uint8_t)(i % 10);
        int fx = 1 + (int)vgg_rng_below(&r, 4),
            fy = 1 + (int)vgg_rng_below(&r, 4);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++) {
                    double v = 128 + 100 * sin(fx * x / 5.0 + c * 2.1 + i) *
                                         cos(fy * y / 6.0 - c);
                    /* a bright marker in the top-left corner shows flips */
                    if (x < 6 && y < 6) v = c == 0 ? 255 : 20;
                    ds->pixels[(size_t)i * VGG_CIFAR_PIXELS +
                               (c * 32 + y) * 32 + x] = (uint8_t)v;
                }
    }
}

/* The crop/flip of augment.h, from its definition: output (y, x) comes from
 * the zero-padded (by 4) image at (y + top, x' + left), x' = 31 - x when
 * flipped. */
static int augmented(const uint8_t *img, const vgg_augment_choice *ch, int c,
                     int y, int x) {
    int xx = ch->flip ? 31 - x : x;
    int py = y + ch->top, pxx = xx + ch->left; /* in the 40x40 padded image */
    if (py < 4 || py >= 36 || pxx < 4 || pxx >= 36) return 0;
    return img[(c * 32 + py - 4) * 32 + pxx - 4];
}

static void test_augment_pixels_match_training(void **state) {
    (void)state;
    vgg_dataset ds;
    make_dataset(&ds, 16);
    int idx[16];
    for (int i = 0; i < 16; i++) idx[i] = 15 - i;
    vgg_augment_choice ch[16];
    vgg_rng r;
    vgg_rng_seed(&r, 11, 3);
    vgg_augment_draw(ch, 16, &r);
    float *batch = malloc(sizeof(float) * 3 * 16 * 1024);
    uint8_t labels[16];
    vgg_augment_batch(batch, labels, &ds, idx, 16, ch);
    uint8_t px[VGG_CIFAR_PIXELS];
    for (int i = 0; i < 16; i++) {
        vgg_augment_pixels(px, ds.pixels + (size_t)idx[i] * VGG_CIFAR_PIXELS,
                           &ch[i]);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++) {
                /* undo the normalisation of what the network gets */
                float v = batch[((size_t)c * 16 + i) * 1024 + p];
                float raw = (v * vgg_cifar_std[c] + vgg_cifar_mean[c]) * 255.0f;
                assert_true(fabsf(raw - px[c * 1024 + p]) < 0.01f);
                assert_int_equal(
                    px[c * 1024 + p],
                    augmented(ds.pixels + (size_t)idx[i] * VGG_CIFAR_PIXELS,
                              &ch[i], c, p / 32, p % 32));
            }
    }
    free(batch);
    vgg_dataset_free(&ds);
}

static void test_samples_grid(void **state) {
    (void)state;
    vgg_dataset ds;
    make_dataset(&ds, 50);
    enum { N = 32, COLS = 8, SCALE = 3 };
    int idx[N];
    for (int i = 0; i < N; i++) idx[i] = (i * 7 + 3) % 50;
    vgg_augment_choice ch[N];
    vgg_rng r;
    vgg_rng_seed(&r, 42, 9);
    vgg_augment_draw(ch, N, &r);
    const char *path = tmp("samples.png");
    vgg_error err = {0};
    vgg_status st = vgg_plot_samples(path, &ds, idx, ch, N, COLS, SCALE, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, VGG_OK);
    int w, h;
    uint8_t *rgb = tp_read_png_rgb(path, &w, &h);
    assert_non_null(rgb);
    vgg_grid_layout g;
    vgg_grid_layout_init(&g, N, COLS, SCALE);
    assert_int_equal(w, g.width);
    assert_int_equal(h, g.height);
    assert_int_equal(g.rows, 4);
    for (int i = 0; i < N; i++) {
        int x0, y0;
        vgg_grid_tile_origin(&g, i, &x0, &y0);
        const uint8_t *img = ds.pixels + (size_t)idx[i] * VGG_CIFAR_PIXELS;
        for (int y = 0; y < 32 * SCALE; y++)
            for (int x = 0; x < 32 * SCALE; x++)
                for (int c = 0; c < 3; c++)
                    assert_int_equal(
                        rgb[((size_t)(y0 + y) * w + x0 + x) * 3 + c],
                        augmented(img, &ch[i], c, y / SCALE, x / SCALE));
        /* the name strip under the tile has ink */
        long ink = 0;
        for (int y = y0 + g.tile; y < y0 + g.tile + g.label_h; y++)
            for (int x = x0; x < x0 + g.tile; x++)
                ink += rgb[((size_t)y * w + x) * 3] < 128;
        assert_true(ink > 10);
    }
    free(rgb);

    /* no augmentation: the stored images; bad arguments are refused */
    assert_int_equal(
        vgg_plot_samples(tmp("plain.png"), &ds, idx, NULL, 10, 5, 2, &err),
        VGG_OK);
    idx[3] = 50;
    assert_int_equal(
        vgg_plot_samples(tmp("bad.png"), &ds, idx, NULL, 10, 5, 2, &err),
        VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "50"));
    assert_int_equal(
        vgg_plot_samples(tmp("bad.png"), &ds, idx, NULL, 0, 5, 2, &err),
        VGG_ERR_ARG);
    vgg_dataset_free(&ds);
}

static void make_history(vgg_epoch_record *rec, int n) {
    for (int i = 0; i < n; i++) {
        double t = i / (double)n;
        rec[i].epoch = i + 1;
        rec[i].lr = 0.01f;
        rec[i].train_loss = (float)(1.9 * exp(-3 * t) + 0.05);
        rec[i].test_loss = (float)(1.7 * exp(-2.5 * t) + 0.35 + 0.03 * sin(i));
        rec[i].train_acc = (float)(1.0 - 0.7 * exp(-3.5 * t));
        rec[i].test_acc = (float)(0.88 - 0.55 * exp(-3 * t) + 0.01 * cos(i));
        rec[i].seconds = 60.0f;
        rec[i].images_per_second = 800.0f;
    }
}

static long count_near(const uint8_t *rgb, int w, int h, int r, int g, int b) {
    long n = 0;
    for (long i = 0; i < (long)w * h; i++)
        n += abs(rgb[3 * i] - r) < 8 && abs(rgb[3 * i + 1] - g) < 8 &&
             abs(rgb[3 * i + 2] - b) < 8;
    return n;
}

static void test_curve(void **state) {
    (void)state;
    vgg_epoch_record rec[30];
    make_history(rec, 30);
    vgg_error err = {0};
    const char *path = tmp("curve.png");
    assert_int_equal(vgg_plot_curve(path, rec, 30, &err), VGG_OK);
    int w, h;
    uint8_t *rgb = tp_read_png_rgb(path, &w, &h);
    assert_non_null(rgb);
    assert_int_equal(w, VGG_CURVE_WIDTH);
    assert_int_equal(h, VGG_CURVE_HEIGHT);
    assert_true(tp_count_not(rgb, w, h, 255, 255, 255) > 5000);
    /* both series drawn, in both panels (left and right halves) */
    assert_true(count_near(rgb, w / 2, h, 31, 119, 180) > 300);
    assert_true(count_near(rgb, w / 2, h, 255, 127, 14) > 300);
    long right_blue = 0;
    for (int y = 0; y < h; y++)
        right_blue += count_near(rgb + ((size_t)y * w + w / 2) * 3, w / 2, 1,
                                 31, 119, 180);
    assert_true(right_blue > 300);
    free(rgb);

    /* one epoch, and a missing test value */
    rec[0].test_loss = NAN;
    assert_int_equal(vgg_plot_curve(tmp("curve1.png"), rec, 1, &err), VGG_OK);
    rec[0].test_loss = 1.0f;
    assert_int_equal(vgg_plot_curve(tmp("none.png"), rec, 0, &err),
                     VGG_ERR_ARG);
    assert_non_null(strstr(err.msg, "none.png"));

    /* SVG: real text, balanced elements */
    path = tmp("curve.svg");
    assert_int_equal(vgg_plot_curve(path, rec, 30, &err), VGG_OK);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char svg[1 << 20];
    size_t n = fread(svg, 1, sizeof svg - 1, f);
    fclose(f);
    svg[n] = 0;
    assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(svg, ">epoch</text>"));
    assert_non_null(strstr(svg, ">Accuracy</text>"));
    assert_non_null(strstr(svg, ">train</text>"));
    assert_non_null(strstr(svg, "</svg>\n"));
    int open = 0, close = 0;
    for (const char *p = svg; (p = strstr(p, "<text")); p++) open++;
    for (const char *p = svg; (p = strstr(p, "</text>")); p++) close++;
    assert_true(open > 20);
    assert_int_equal(open, close);
    /* an unwritable SVG path is an error naming it */
    assert_int_equal(vgg_plot_curve(tmp("no/such/dir/c.svg"), rec, 30, &err),
                     VGG_ERR_IO);
    assert_non_null(strstr(err.msg, "no/such/dir/c.svg"));
}

static void test_confusion(void **state) {
    (void)state;
    char names[10][VGG_CLASS_NAME_MAX];
    for (int c = 0; c < 10; c++) strcpy(names[c], names10[c]);
    int conf[100];
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j++)
            conf[i * 10 + j] = i == j ? 800 + 15 * i : (i * 7 + j * 3) % 40;
    vgg_error err = {0};
    const char *path = tmp("confusion.png");
    assert_int_equal(vgg_plot_confusion(path, conf, 10, names, &err), VGG_OK);
    int w, h;
    uint8_t *rgb = tp_read_png_rgb(path, &w, &h);
    assert_non_null(rgb);
    assert_true(w > 600 && h > 600);
    /* the diagonal cells (58 x 58 pixels, about 80% of their row) are
     * deep blue, the others pale */
    long blue = 0;
    for (long i = 0; i < (long)w * h; i++)
        blue += rgb[3 * i + 2] - rgb[3 * i] > 80;
    assert_true(blue > 10 * 2500 && blue < 10 * 58 * 58 + 500);
    assert_true(tp_count_not(rgb, w, h, 255, 255, 255) > 20000);
    free(rgb);
    /* three classes, SVG, and a bad count */
    int conf3[9] = {50, 3, 0, 7, 40, 2, 1, 1, 47};
    assert_int_equal(
        vgg_plot_confusion(tmp("confusion3.png"), conf3, 3, names, &err),
        VGG_OK);
    assert_int_equal(
        vgg_plot_confusion(tmp("confusion3.svg"), conf3, 3, names, &err),
        VGG_OK);
    conf3[4] = -1;
    assert_int_equal(vgg_plot_confusion(tmp("bad.png"), conf3, 3, names, &err),
                     VGG_ERR_ARG);
}

static void test_font(void **state) {
    (void)state;
    /* every printable character but the space has ink; the space none */
    for (int c = 32; c < 127; c++) {
        unsigned ink = 0;
        for (int r = 0; r < VGG_FONT_H; r++)
            ink |= vgg_font_row((unsigned char)c, r);
        if (c == ' ')
            assert_int_equal(ink, 0);
        else
            assert_true(ink != 0);
    }
    /* other bytes draw as '?' */
    for (int r = 0; r < VGG_FONT_H; r++)
        assert_int_equal(vgg_font_row(200, r), vgg_font_row('?', r));
    assert_int_equal(vgg_font_text_width("abc", 2), (3 * 6 - 1) * 2);
    /* a sheet of every glyph, for people to look at */
    vgg_image img;
    vgg_error err = {0};
    assert_int_equal(vgg_image_init(&img, 16 * 6 * 3 + 12, 6 * 10 * 3 + 12, 255,
                                    255, 255, &err),
                     VGG_OK);
    const uint8_t ink[3] = {0, 0, 0};
    for (int row = 0; row < 6; row++) {
        char line[17] = {0};
        for (int i = 0; i < 16; i++) {
            int c = 32 + row * 16 + i;
            line[i] = (char)(c < 127 ? c : ' ');
        }
        vgg_font_draw(&img, 6, 6 + row * 30, line, ink, 3);
    }
    assert_int_equal(vgg_png_write(tmp("font.png"), &img, &err), VGG_OK);
    vgg_image_free(&img);
}

int main(void) {
    const char *d = tu_tmpdir("plot");
    if (!d) return 1;
    snprintf(dir, sizeof dir, "%s", d);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_augment_pixels_match_training),
        cmocka_unit_test(test_samples_grid),
        cmocka_unit_test(test_curve),
        cmocka_unit_test(test_confusion),
        cmocka_unit_test(test_font),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
