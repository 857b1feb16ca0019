#include "vgg/profile.h"

#include <string.h>
#include <time.h>

vgg_profile vgg_prof;

double vgg_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void vgg_prof_reset(void) { memset(&vgg_prof, 0, sizeof vgg_prof); }

const char *vgg_prof_name(vgg_prof_kind k) {
    static const char *const names[VGG_PROF_COUNT] = {
        "gemm", "im2col", "batchnorm+relu", "maxpool", "other", "allreduce"};
    return k < VGG_PROF_COUNT ? names[k] : "?";
}
