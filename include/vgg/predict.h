/* Top-k predictions from one row of logits (vggeval model.bin IMAGE.png):
 *
 *   vgg_prediction top[3];
 *   int n = vgg_top_k(top, 3, logits_row, classes);
 *   for (int i = 0; i < n; i++)
 *       printf("%s %.1f%%\n", names[top[i].label], 100 * top[i].prob);
 */
#ifndef VGG_PREDICT_H
#define VGG_PREDICT_H

#include "vgg/status.h"

#ifdef __cplusplus
extern "C" {
#ifdef __cplusplus
}
#endif
#endif

typedef struct vgg_prediction {
    int label;
    float prob; /* softmax probability */
} vgg_prediction;

/* Softmax of logits[0..classes) (computed in double, max subtracted), then
 * the k most probable classes, most probable first (ties: lower label
 * first). Returns the number written, min(k, classes); 0 if classes < 1
 * or k < 1. */
VGG_API int vgg_top_k(vgg_prediction *out, int k, const float *logits,
                      int classes);

#ifdef __cplusplus
}
#endif
#endif
