/* Batch norm's row loops (src/nn/batchnorm_rows.h) compiled with the
 * AVX2 flags: the same sums as a -march=native build on such a CPU. */
#define BN_ROWS_NAME vgg_bn_rows_avx2
#include "nn/batchnorm_rows.h"
