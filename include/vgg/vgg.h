/* The public API of libvgg: load a trained checkpoint and classify images.
 *
 *   #include <vgg/vgg.h>
 *
 *   vgg_error err = {0};
 *   vgg_classifier *c;
 *   if (vgg_classifier_open(&c, "model.bin", 1, &err)) {
 *       fprintf(stderr, "%s\n", err.msg);
 *       return 1;
 *   }
 *   float logits[VGG_MAX_CLASSES];
 *   if (vgg_classifier_png(c, "cat.png", logits, &err) == VGG_OK) {
 *       vgg_prediction top[3];
 *       int k = vgg_top_k(top, 3, logits, vgg_classifier_classes(c));
 *       for (int i = 0; i < k; i++)
 *           printf("%s %.4f\n", vgg_classifier_class_name(c, top[i].label),
 *                  top[i].prob);
 *   }
 *   vgg_classifier_close(c);
 *
 * Build with `pkg-config --cflags --libs vgg` or, in CMake,
 * `find_package(vgg)` and `target_link_libraries(app PRIVATE vgg::vgg)`
 * (vgg::vgg_static for the static library).
 *
 * Everything else under src/ (the model's layout, the kernels, the
 * checkpoint's reader, the training loop) is internal and may change from
 * one version to the next; this header, vgg/status.h and vgg/predict.h are
 * the whole interface. A vgg_classifier is used by one thread at a time;
 * the library's own loops use OpenMP (OMP_NUM_THREADS, or
 * vgg_set_thread_count). */
#ifndef VGG_VGG_H
#define VGG_VGG_H

#include "vgg/predict.h"
#include "vgg/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest class count a checkpoint of this version can have. */
#define VGG_MAX_CLASSES 100

/* A trained network in evaluation mode (batch-norm running statistics),
 * with its class names. Opaque. */
typedef struct vgg_classifier vgg_classifier;

/* Reads the checkpoint at path (a vggtrain model.bin), checks it (format,
 * checksum, shapes) and builds the network with room for batch_max images
 * a call (1 or more). On failure *out is NULL and err names the file and
 * the fault: VGG_ERR_IO (unreadable), VGG_ERR_FORMAT (not a checkpoint, or
 * damaged), VGG_ERR_ARG (batch_max < 1), VGG_ERR_NOMEM. */
VGG_API vgg_status vgg_classifier_open(vgg_classifier **out, const char *path,
                                       int batch_max, vgg_error *err);
/* Frees c; NULL is fine. */
VGG_API void vgg_classifier_close(vgg_classifier *c);

/* The number of classes (2 to VGG_MAX_CLASSES). */
VGG_API int vgg_classifier_classes(const vgg_classifier *c);
/* The name of class `label` (0 <= label < classes, e.g. "airplane"), or
 * NULL when label is out of range. Owned by c. */
VGG_API const char *vgg_classifier_class_name(const vgg_classifier *c,
                                              int label);
/* The input side S: images are S x S (32 for CIFAR-10). */
VGG_API int vgg_classifier_side(const vgg_classifier *c);
/* The largest batch a call takes (batch_max of vgg_classifier_open). */
VGG_API int vgg_classifier_batch_max(const vgg_classifier *c);

/* Logits of n images (1 <= n <= batch_max). rgb is float32
 * [n][3][S][S]: image-major, then the red, green and blue planes, each
 * row-major, values in [0, 1] (the pixel value / 255); the checkpoint's
 * per-channel normalisation is applied here. logits gets [n][classes]
 * (before softmax; vgg_top_k turns a row into probabilities). This is the
 * same input and output as the ONNX file vggexport writes. */
VGG_API vgg_status vgg_classifier_logits(vgg_classifier *c, const float *rgb,
                                         int n, float *logits, vgg_error *err);

/* Logits of one PNG file (any colour type and size: converted to 8-bit
 * RGB with alpha dropped, and resized to S x S by area averaging when
 * shrinking, bilinear interpolation when enlarging, aspect ratio not
 * kept), as `vggeval MODEL IMAGE.png` computes them. logits gets
 * [classes]. A file that is not a readable PNG is VGG_ERR_IO or
 * VGG_ERR_FORMAT with the path in err. */
VGG_API vgg_status vgg_classifier_png(vgg_classifier *c, const char *path,
                                      float *logits, vgg_error *err);

/* Threads of the library's parallel loops and GEMM (n >= 1). */
VGG_API void vgg_set_thread_count(int n);

/* The library's version, e.g. "0.1.0" (VGG_VERSION_STRING when the header
 * and the library agree). */
VGG_API const char *vgg_version(void);

#ifdef __cplusplus
}
#endif
#endif
