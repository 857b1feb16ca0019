/* ONNX export of a trained network (vggexport).
 *
 * The graph is the network in evaluation mode:
 *   input   float32 [N, 3, S, S], RGB in [0, 1] (pixel / 255), N symbolic
 *   Sub(mean) -> Div(std)        the checkpoint's per-channel normalisation
 *   Conv (3x3, pad 1) -> Relu    batch norm folded into each convolution:
 *                                w' = w * g / sqrt(v + eps),
 *                                b' = beta + (b - m) * g / sqrt(v + eps),
 *                                computed in double, stored as float
 *   MaxPool (2x2, stride 2)
 *   Flatten -> Gemm (transB)     the classifier
 *   output  float32 [N, classes], "logits"
 * IR version 8, opset 13 (onnx 1.12 and any later ONNX Runtime). The
 * model's metadata_props hold the class names (key "class_names", a JSON
 * array in label order), the normalisation ("mean", "std"), the epoch and
 * where the weights came from ("source"). Initialisers keep the
 * checkpoint's tensor names (conv1.0.weight, ..., fc1.bias). */
#ifndef VGG_ONNX_H
#define VGG_ONNX_H

#include "vgg/checkpoint.h"
#include "vgg/model.h"
#include "vgg/protobuf.h"
#include "vgg/status.h"

/* Encodes m into out (a fresh vgg_pb; vgg_pb_free it). source names the
 * checkpoint in messages and in the metadata. A layer the graph cannot
 * express is VGG_ERR_FORMAT naming source and the layer. */
vgg_status vgg_onnx_encode(vgg_pb *out, const vgg_model *m,
                           const vgg_ckpt_meta *meta, const char *source,
                           vgg_error *err);

/* vgg_onnx_encode, then writes path atomically (vgg/output.h):
 * on any failure path is untouched and nothing partial is left. */
vgg_status vgg_onnx_save(const char *path, const vgg_model *m,
                         const vgg_ckpt_meta *meta, const char *source,
                         vgg_error *err);

#endif
