/* A safetensors writer for the C sides of the PyTorch scripts
 * (torch_dump, torch_replay): float32 tensors collected in order, then
 * written as one file (an 8-byte little-endian header length, the JSON
 * header padded with spaces to 8 bytes, the data). Test helpers, not part
 * of the library: out of memory exits. */
#ifndef VGG_TESTS_ST_OUT_H
#define VGG_TESTS_ST_OUT_H

#include <stdint.h>

/* A new tensor of this name and shape (ndim <= 5; 0: a scalar); returns
 * its storage, zeroed, to be filled before st_write. */
float *st_add(const char *name, int ndim, const int64_t *shape);

/* Writes every tensor added so far to path and forgets them; 0, or -1
 * with a message naming path. */
int st_write(const char *path);

/* [C][N][S] (the network's layout) to [N][C][S] (PyTorch's). */
void st_cnhw_to_nchw(float *dst, const float *src, int C, int N, int S);

#endif
