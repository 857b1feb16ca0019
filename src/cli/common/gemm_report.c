/* VGG_GEMM=check's report: one line a GEMM call on stderr,
 * "gemm-check M N K transa transb ratio" (see vgg_gemm_check). */
#include <stdio.h>

#include "cli/common/args.h"
#include "vgg/gemm.h"

static void print_check(int M, int N, int K, int transa, int transb,
                        double ratio, void *ctx) {
    (void)ctx;
    if (ratio != ratio)
        fprintf(stderr, "gemm-check %d %d %d %d %d skipped (out of memory)\n",
                M, N, K, transa, transb);
    else
        fprintf(stderr, "gemm-check %d %d %d %d %d %.3g\n", M, N, K, transa,
                transb, ratio);
}

void cli_gemm_report(void) { vgg_gemm_set_check_report(print_check, NULL); }
