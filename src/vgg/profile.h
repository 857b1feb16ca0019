/* Where a step's time goes. The kernels add their wall-clock seconds to
 * one process-wide table; the benchmark resets and reads it. */
#ifndef VGG_PROFILE_H
#define VGG_PROFILE_H

typedef enum vgg_prof_kind {
    VGG_PROF_GEMM = 0,
    VGG_PROF_IM2COL, /* im2col, col2im, Winograd tile transforms */
    VGG_PROF_BN,     /* batch norm, fused with ReLU */
    VGG_PROF_POOL,
    VGG_PROF_OTHER, /* bias, linear glue, loss, SGD, input */
    VGG_PROF_COMM,  /* gradient allreduce across processes */
    VGG_PROF_COUNT
} vgg_prof_kind;

typedef struct vgg_profile {
    double seconds[VGG_PROF_COUNT];
    double gemm_flops;
} vgg_profile;

extern vgg_profile vgg_prof;

double vgg_now(void); /* monotonic seconds */
void vgg_prof_reset(void);
const char *vgg_prof_name(vgg_prof_kind k);

#endif
