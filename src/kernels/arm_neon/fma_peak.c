/* The FMA peak probe's loop on q registers (fma_loop.h): 16 chains, which
 * with b and c fit NEON's 32 registers and cover 4 FMA pipes of latency
 * 4 (Neoverse V1, Apple's cores). */
#include <arm_neon.h>

#include "kernels/fma_loop.h"

float vgg_fma_loop_neon(double seconds, uint64_t *iters);
#define FMA128(a, b, c) vfmaq_f32(c, a, b)
#define LANE0(v) vgetq_lane_f32(v, 0)
VGG_DEFINE_FMA_LOOP(vgg_fma_loop_neon, 16, float32x4_t, vdupq_n_f32, FMA128,
                    vaddq_f32, LANE0)
