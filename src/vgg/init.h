/* Starting from a trained model (vggtrain --init FILE): the convolution
 * and batch-norm tensors (conv*.*: weights, biases, batch-norm weight,
 * bias, running mean and variance, num_batches_tracked) are read from a
 * safetensors file, a vggtrain checkpoint or any file with the same names
 * and shapes (PyTorch's state_dict of the reference VGG class saved with
 * safetensors.torch.save_file). The classifier (fc1.*) keeps the fresh
 * initialisation the model already has, for the new class count, and
 * momentum is zero: a new run, not a resumed one. Other tensors in the
 * file (fc1.*, optimizer.*) are ignored. */
#ifndef VGG_INIT_H
#define VGG_INIT_H

#include "vgg/model.h"
#include "vgg/status.h"

/* Loads every conv*.* tensor of m from path. Each must be present with
 * dtype F32 (I64 for num_batches_tracked, which may be missing: then 0)
 * and m's shape; a missing tensor, another dtype or shape is
 * VGG_ERR_MISMATCH naming the tensor and both shapes. Everything is read
 * and checked before m is touched: on failure m is unchanged. *loaded
 * (may be NULL) gets the number of tensors taken from the file. */
vgg_status vgg_model_init_features(vgg_model *m, const char *path, int *loaded,
                                   vgg_error *err);

#endif
