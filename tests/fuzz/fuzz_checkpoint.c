/* libFuzzer harness for the checkpoint reader (src/io/checkpoint.c).
 *
 * The input is a whole checkpoint file, written to a scratch file (the
 * reader takes a path). For each input:
 *   1. vgg_checkpoint_read_meta; if it accepts the header, a model is built
 *      from the metadata's configuration (refused here above MAX_PARAMS
 *      parameters, so that no input makes the harness itself allocate
 *      without bound) and vgg_checkpoint_load reads the file into it; a file
 *      that loads is saved again, reloaded, and must give the same arenas;
 *   2. vgg_checkpoint_load into a fixed tiny model (the configuration of
 *      the seed checkpoints), which must be left untouched when it fails.
 * Crashes, leaks, undefined behaviour, timeouts and runaway allocations
 * (-rss_limit_mb, -malloc_limit_mb) are libFuzzer's findings; the checks
 * below abort() on a broken promise of the API. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgg/checkpoint.h"
#include "vgg/model.h"
#include "vgg/rng.h"

#define MAX_PARAMS (4u << 20)

/* The network of the seed checkpoints tiny-2MMM-* (make_corpus.sh). */
#define FIXED_ARCH "2 M M M"
#define FIXED_CLASSES 2

static char dir[256], path[300], path2[300];
static vgg_model *fixed;
static float *fixed_copy;
static size_t fixed_bytes;

static void cleanup(void) {
    unlink(path);
    unlink(path2);
    rmdir(dir);
    vgg_model_free(fixed);
    free(fixed_copy);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
    if (!base) base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_checkpoint.XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("fuzz_checkpoint: mkdtemp");
        abort();
    }
    snprintf(path, sizeof path, "%s/in.safetensors", dir);
    snprintf(path2, sizeof path2, "%s/out.safetensors", dir);
    atexit(cleanup);

    vgg_error err;
    vgg_config cfg;
    vgg_rng rng;
    if (vgg_config_parse(&cfg, FIXED_ARCH, FIXED_CLASSES, &err) ||
        vgg_model_create(&fixed, &cfg, 1, &err)) {
        fprintf(stderr, "fuzz_checkpoint: %s\n", err.msg);
        abort();
    }
    vgg_rng_seed(&rng, 1, 0);
    vgg_model_init(fixed, &rng);
    fixed_bytes = fixed->nparams * sizeof(float);
    fixed_copy = malloc(fixed_bytes);
    if (!fixed_copy) abort();
    memcpy(fixed_copy, fixed->params, fixed_bytes);
    return 0;
}

/* Parameters a configuration implies, without building it (0: no model
 * can be built from it): the library's own walk. */
static uint64_t param_count(const vgg_config *cfg) {
    static vgg_arch walk;
    if (vgg_arch_walk(&walk, cfg, NULL)) return 0;
    return walk.nparams;
}

static int same_model(const vgg_model *a, const vgg_model *b) {
    return a->nparams == b->nparams && a->nstate == b->nstate &&
           !memcmp(a->params, b->params, a->nparams * sizeof(float)) &&
           !memcmp(a->momentum, b->momentum, a->nparams * sizeof(float)) &&
           !memcmp(a->state, b->state, a->nstate * sizeof(float));
}

static void write_input(const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
        perror("fuzz_checkpoint: writing the input");
        abort();
    }
}

/* Steps 1 and the round trip. */
static void from_metadata(void) {
    vgg_error err;
    vgg_ckpt_meta meta;
    if (vgg_checkpoint_read_meta(path, &meta, &err) != VGG_OK) {
        if (!strstr(err.msg, path)) abort(); /* the message names the file */
        return;
    }
    uint64_t np = param_count(&meta.cfg);
    if (meta.cfg.classes < 2 || meta.cfg.classes > VGG_MAX_CLASSES ||
        meta.nhistory < 0 || meta.nhistory > meta.epoch ||
        (meta.nhistory && !meta.history))
        abort();
    vgg_ckpt_meta_free(&meta);
    if (np == 0 || np > MAX_PARAMS) return;

    vgg_model *m = NULL, *m2 = NULL;
    if (vgg_model_create(&m, &meta.cfg, 1, &err)) return;
    vgg_ckpt_meta full;
    if (vgg_checkpoint_load(path, m, &full, &err) == VGG_OK) {
        if (vgg_checkpoint_save(path2, m, &full, &err) != VGG_OK) {
            fprintf(stderr,
                    "fuzz_checkpoint: a loaded checkpoint does not "
                    "save again: %s\n",
                    err.msg);
            abort();
        }
        vgg_ckpt_meta again;
        if (vgg_model_create(&m2, &full.cfg, 1, &err) ||
            vgg_checkpoint_load(path2, m2, &again, &err) != VGG_OK) {
            fprintf(stderr,
                    "fuzz_checkpoint: a re-saved checkpoint does "
                    "not load: %s\n",
                    err.msg);
            abort();
        }
        if (!same_model(m, m2) || again.epoch != full.epoch ||
            again.nhistory != full.nhistory || again.seed != full.seed ||
            again.rng.state != full.rng.state)
            abort();
        vgg_ckpt_meta_free(&again);
        vgg_ckpt_meta_free(&full);
    }
    vgg_model_free(m2);
    vgg_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    write_input(data, size);
    from_metadata();

    /* Step 2: "on failure m is unchanged". */
    vgg_error err;
    if (vgg_checkpoint_load(path, fixed, NULL, &err) == VGG_OK) {
        memcpy(fixed_copy, fixed->params, fixed_bytes);
    } else {
        if (memcmp(fixed_copy, fixed->params, fixed_bytes)) abort();
        if (!strstr(err.msg, path)) abort();
    }
    return 0;
}
