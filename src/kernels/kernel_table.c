/* The table of kernels (kernel.h), best first: the GEMM takes the first
 * one this CPU supports, unless VGG_GEMM or vgg_gemm_select names another.
 * An instruction set is a folder under src/kernels/ and one line here
 * (docs/kernels.md); the folders of another architecture are not
 * compiled (CMakeLists.txt), hence the #if. */
#include <stddef.h>
#include <string.h>

#include "kernel.h"

extern const vgg_kernel vgg_kernel_generic;
#if defined(__x86_64__)
extern const vgg_kernel vgg_kernel_avx512, vgg_kernel_avx2;
#endif
#if defined(__aarch64__)
extern const vgg_kernel vgg_kernel_neon;
#endif

static const vgg_kernel *const table[] = {
#if defined(__x86_64__)
    &vgg_kernel_avx512,  &vgg_kernel_avx2,
#endif
#if defined(__aarch64__)
    &vgg_kernel_neon,
#endif
    &vgg_kernel_generic, NULL,
};

const vgg_kernel *const *vgg_kernels(void) { return table; }

const vgg_kernel *vgg_kernel_find(const char *name) {
    for (int i = 0; name && table[i]; i++)
        if (strcmp(table[i]->name, name) == 0) return table[i];
    return NULL;
}

const vgg_kernel *vgg_kernel_best(void) {
    static const vgg_kernel *best; /* the CPU does not change */
    if (!best) {
        const vgg_kernel *k = NULL;
        for (int i = 0; table[i] && !k; i++)
            if (table[i]->supported()) k = table[i];
        best = k;
    }
    return best;
}
