/* Pictures: a grid of training images as the network sees them, learning
 * curves, and a confusion matrix. Text in PNGs uses a built-in 5x7 bitmap
 * font; SVG uses real text.
 *
 * vggtrain --samples FILE.png (show exactly what training sees: the same
 * indices and the same crop/flip choices the epoch uses):
 *   vgg_augment_draw(ch, n, &rng_copy);
 *   vgg_plot_samples(path, &train, idx, ch, n, 8, 3, &err);
 * end of training / --resume:
 *   vgg_plot_curve(path, history, nhistory, &err);   .svg -> SVG, else PNG
 * vggeval --confusion FILE.png:
 *   vgg_evaluate(m, &test, bs, &stats, conf, NULL, &err);
 *   vgg_plot_confusion(path, conf, k, test.class_names, &err);  .svg too
 *
 * Each *_image function draws into a vgg_image (allocated there; free with
 * vgg_image_free) for callers that want the pixels; the others write PNG. */
#ifndef VGG_PLOT_H
#define VGG_PLOT_H

#include <stdint.h>

#include "vgg/augment.h"
#include "vgg/train.h"
#include "vgg/cifar.h"
#include "vgg/image.h"
#include "vgg/status.h"

/* ---- samples grid --------------------------------------------------- */

/* Where things go in a grid of n tiles, cols a row: each tile is the 32x32
 * image scaled by an integer factor (nearest neighbour), with its class
 * name centred under it. Tile i sits at column i % cols, row i / cols. */
typedef struct vgg_grid_layout {
    int n, cols, rows, scale;
    int tile;    /* 32 * scale */
    int pad;     /* margin around and between tiles */
    int label_h; /* height of the name strip under a tile */
    int width, height;
} vgg_grid_layout;

void vgg_grid_layout_init(vgg_grid_layout *g, int n, int cols, int scale);
/* Top-left pixel of tile i's image. */
void vgg_grid_tile_origin(const vgg_grid_layout *g, int i, int *x, int *y);

/* Draws images idx[0..n) of ds, each augmented with ch[i] (ch NULL: as
 * stored), cols a row, scaled by scale (1..16), labelled with
 * ds->class_names[label]. */
vgg_status vgg_plot_samples_image(vgg_image *out, const vgg_dataset *ds,
                                  const int *idx, const vgg_augment_choice *ch,
                                  int n, int cols, int scale, vgg_error *err);
vgg_status vgg_plot_samples(const char *path, const vgg_dataset *ds,
                            const int *idx, const vgg_augment_choice *ch, int n,
                            int cols, int scale, vgg_error *err);

/* ---- learning curves ------------------------------------------------- */

/* Two panels side by side: loss (train and test) and accuracy in percent
 * (train and test) against the epoch, with ticks, axis labels and a
 * legend. Non-finite values are left out (a gap). n >= 1. */
#define VGG_CURVE_WIDTH 1000
#define VGG_CURVE_HEIGHT 420

vgg_status vgg_plot_curve_image(vgg_image *out, const vgg_epoch_record *rec,
                                int n, vgg_error *err);
vgg_status vgg_plot_curve_png(const char *path, const vgg_epoch_record *rec,
                              int n, vgg_error *err);
vgg_status vgg_plot_curve_svg(const char *path, const vgg_epoch_record *rec,
                              int n, vgg_error *err);
/* SVG when path ends in .svg (any case), PNG otherwise. */
vgg_status vgg_plot_curve(const char *path, const vgg_epoch_record *rec, int n,
                          vgg_error *err);

/* ---- confusion matrix ----------------------------------------------- */

/* confusion is k x k counts, row = true class, column = predicted (as
 * vgg_evaluate fills it). Each cell shows its count, shaded by the
 * fraction of its row (white 0 to dark blue 1); rows are labelled with the
 * true class, columns (turned text) with the predicted class; a last
 * column gives each class's accuracy and the title the overall one. */
vgg_status vgg_plot_confusion_image(vgg_image *out, const int *confusion, int k,
                                    const char names[][VGG_CLASS_NAME_MAX],
                                    vgg_error *err);
/* SVG (real text) when path ends in .svg, PNG otherwise. */
vgg_status vgg_plot_confusion(const char *path, const int *confusion, int k,
                              const char names[][VGG_CLASS_NAME_MAX],
                              vgg_error *err);

#endif
