/* Every allocation of model creation, a first training step and an
 * evaluation made to fail in turn, as SQLite tests its out-of-memory
 * paths (a counting allocator: src/core/alloc.c). Each failure must give
 * a clear VGG_ERR_NOMEM with a message, or be absorbed by a fallback (the
 * GEMM's packing buffers: OpenBLAS computes the product), never a crash or
 * a write out of bounds (the sanitizer build runs this too). The GEMM's
 * buffers are freed before each run, so that every run allocates them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "vgg/cifar.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/rng.h"
#include "vgg/train.h"

enum { NIMG = 6, BATCH = 3 };

/* Create, one epoch of NIMG images (two steps), evaluate, free. Returns the
 * first status, with its message in err. */
static vgg_status run(const vgg_dataset *ds, vgg_error *err) {
    vgg_config cfg;
    vgg_status st = vgg_config_parse(&cfg, "8 M 16 M", 3, err);
    if (st) return st;
    vgg_model *m = NULL;
    if ((st = vgg_model_create(&m, &cfg, BATCH, err))) return st;
    vgg_rng rng;
    vgg_rng_seed(&rng, 1, 1);
    vgg_model_init(m, &rng);
    vgg_sgd opt = {0.01f, 0.9f, 5e-4f};
    vgg_epoch_stats stats;
    st = vgg_train_epoch(m, ds, BATCH, &opt, &rng, &stats, NULL, NULL, err);
    if (!st) st = vgg_evaluate(m, ds, BATCH, &stats, NULL, NULL, err);
    vgg_model_free(m);
    return st;
}

static void test_each_allocation_fails(void **state) {
    (void)state;
    static uint8_t pixels[NIMG * VGG_CIFAR_PIXELS], labels[NIMG];
    vgg_rng r;
    vgg_rng_seed(&r, 2, 2);
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)(vgg_rng_u32(&r) >> 24);
    for (int i = 0; i < NIMG; i++) labels[i] = (uint8_t)(i % 3);
    vgg_dataset ds = {
        .n = NIMG, .pixels = pixels, .labels = labels, .num_classes = 3};

    for (const char *const *g = (const char *const[]){"auto", "openblas", NULL};
         *g; g++) {
        assert_int_equal(vgg_gemm_select(*g, NULL), VGG_OK);
        vgg_error err = {0};
        vgg_gemm_free_buffers();
        vgg_alloc_fail_at(0, 0);
        assert_int_equal(run(&ds, &err), VGG_OK);
        const long n = vgg_alloc_fail_at(0, 0);
        assert_true(n > 10);
        int failed = 0, absorbed = 0;
        for (long k = 1; k <= n; k++) {
            vgg_gemm_free_buffers();
            vgg_alloc_fail_at(k, 0);
            memset(&err, 0, sizeof err);
            vgg_status st = run(&ds, &err);
            vgg_alloc_fail_at(0, 0);
            if (st == VGG_OK) {
                absorbed++;
                continue;
            }
            if (st != VGG_ERR_NOMEM || !err.msg[0])
                fprintf(stderr,
                        "  gemm %s, allocation %ld of %ld: status %d "
                        "(%s) \"%s\"\n",
                        *g, k, n, st, vgg_status_to_string(st), err.msg);
            assert_int_equal(st, VGG_ERR_NOMEM);
            assert_true(err.msg[0] != '\0');
            failed++;
        }
        /* and every allocation from some point on failing, too */
        for (long k = 1; k <= n; k += n / 7 + 1) {
            vgg_gemm_free_buffers();
            vgg_alloc_fail_at(k, 1);
            memset(&err, 0, sizeof err);
            vgg_status st = run(&ds, &err);
            vgg_alloc_fail_at(0, 0);
            assert_true(st == VGG_OK || st == VGG_ERR_NOMEM);
        }
        print_message("  gemm %s: %ld allocations; %d failures reported, %d "
                      "absorbed by a fallback\n",
                      vgg_gemm_name(), n, failed, absorbed);
    }
    vgg_gemm_select("auto", NULL);
}

int main(void) {
    vgg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_allocation_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
