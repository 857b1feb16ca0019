/* Which algorithm computes each convolution pass of a model: direct (one
 * GEMM with im2col), Winograd F(4x4,3x3) or F(2x2,3x3) (vgg/winograd.h),
 * chosen per layer and per pass (forward, input gradient, weight
 * gradient) and kept in vgg_layer.algo. The Winograd scratch (vgg_model.
 * wino) is sized here, once, for the largest layer of the choice. */
#ifndef VGG_CONV_CHOICE_H
#define VGG_CONV_CHOICE_H

#include <stddef.h>

#include "vgg/model.h"
#include "vgg/status.h"

typedef enum vgg_conv_mode {
    VGG_CONV_MODE_DIRECT = 0, /* every pass direct */
    VGG_CONV_MODE_WINOGRAD,   /* F(4x4) where it fits, else F(2x2), else
                                 direct */
    VGG_CONV_MODE_AUTO,       /* the fastest of each pass, measured */
} vgg_conv_mode;

/* "auto", "direct" or "winograd"; a clear error naming `flag` otherwise. */
vgg_status vgg_conv_mode_parse(vgg_conv_mode *out, const char *s,
                               const char *flag, vgg_error *err);
const char *vgg_conv_mode_name(vgg_conv_mode mode);

/* Seconds of each conv pass by each algorithm, as `auto` measured them:
 * sec[(i * VGG_PASS_COUNT + pass) * VGG_CONV_NALGO + algo] for
 * layers[i]; negative where not measured (the algorithm does not fit,
 * the layer is a pool, the pass is not needed). */
typedef struct vgg_conv_times {
    int nlayers;
    double sec[VGG_MAX_LAYERS * VGG_PASS_COUNT * VGG_CONV_NALGO];
} vgg_conv_times;

/* Chooses every conv layer's algorithms and sizes m->wino for them.
 * AUTO times each pass of each layer by each algorithm that fits on the
 * real shapes at batch n (the best of two calls after an untimed one, the
 * algorithms taking turns), on the model's own
 * buffers (their contents are then garbage; the gradients are zeroed),
 * and keeps the fastest; Winograd must beat direct by 5% (direct is the
 * more accurate). train 0: the forward pass only (evaluation). times (may
 * be NULL) gets the measurements. */
vgg_status vgg_model_set_conv(vgg_model *m, vgg_conv_mode mode, int n,
                              int train, vgg_conv_times *times, vgg_error *err);
/* Sizes m->wino for the algorithms already in the layers' algo fields
 * (set by hand, as the tests do). */
vgg_status vgg_model_conv_alloc(vgg_model *m, vgg_error *err);

/* One line of what was chosen, for the programs' start lines: "direct",
 * or per pass the algorithm of each conv layer in order, e.g.
 * "fwd 4444444444422 data d444444444422 wgt dd44444444422" (4: F(4x4),
 * 2: F(2x2), d: direct). */
void vgg_model_conv_summary(const vgg_model *m, char *buf, size_t size);

#endif
