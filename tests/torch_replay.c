/* torch_replay: the C side of scripts/torch_replay.py (not a CTest test).
 *
 *   torch_replay DATA_DIR CLASSES SEED STEPS BATCH OUT [THREADS]
 *
 * Starts a training as vggtrain --classes CLASSES --seed SEED --batch-size
 * BATCH does (the same initialisation from the seed, the same shuffle and
 * augmentation draws, the recipe's SGD: lr 0.01, momentum 0.9, weight decay
 * 5e-4) on the training split of DATA_DIR, runs its first STEPS batches
 * (across epochs as vggtrain does, scoring the test split after each
 * whole epoch) and writes OUT, a safetensors file (float32, PyTorch's
 * layouts and names):
 *   init.<name>          every parameter and running statistic before the
 *                        first step
 *   input [STEPS,B,3,32,32], labels [STEPS,B]   each batch as trained on
 *                        (augmented, normalised; labels as floats; an
 *                        epoch's short last batch padded with zeros)
 *   count [STEPS]        images in each batch
 *   loss [STEPS]         each batch's mean loss, before its update
 *   batches_per_epoch [] the epoch's batch count
 *   test_acc [E]         test accuracy after each whole epoch (E may be 0)
 *   final.<name>         the parameters after the last step
 * so that PyTorch can take the same steps from the same weights on the
 * same batches and compare. Exit status 0, 1 with a message, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgg/cifar.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/rng.h"
#include "vgg/train.h"

#include "st_out.h"

typedef struct replay {
    vgg_model *m;
    int steps, batch, done;               /* done: steps of earlier epochs */
    float *input, *labels, *count, *loss; /* st_add'ed (zeroed) storage */
    vgg_epoch_stats before;               /* the epoch's sums so far */
} replay;

static int on_batch(void *user, int b, int nb, const vgg_epoch_stats *s) {
    (void)nb;
    replay *r = user;
    if (b == 1) memset(&r->before, 0, sizeof r->before);
    const int B = r->batch, i = r->done + b - 1;
    const int n = s->images - r->before.images;
    /* m->input [3][n][32x32] and m->labels still hold batch b (the update
     * does not touch them) */
    st_cnhw_to_nchw(r->input + (size_t)i * B * 3 * 1024, r->m->input, 3, n,
                    1024);
    for (int j = 0; j < n; j++)
        r->labels[(size_t)i * B + j] = (float)r->m->labels[j];
    r->count[i] = (float)n;
    r->loss[i] = (float)((s->loss_sum - r->before.loss_sum) / n);
    r->before = *s;
    return i + 1 >= r->steps;
}

static void add_tensors(const vgg_model *m, const char *prefix, int buffers) {
    for (int i = 0; i < m->ntensors; i++) {
        const vgg_tensor *t = &m->tensors[i];
        const float *src = t->kind == VGG_TENSOR_PARAM               ? m->params
                           : t->kind == VGG_TENSOR_BUFFER && buffers ? m->state
                                                                     : NULL;
        if (!src) continue;
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix, t->name);
        memcpy(st_add(name, t->ndim, t->shape), src + t->offset,
               sizeof(float) * t->numel);
    }
}

static int arg_int(const char *what, const char *s, int lo, int hi) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < lo || v > hi) {
        fprintf(stderr, "torch_replay: %s %s: expected an integer %d to %d\n",
                what, s, lo, hi);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv) {
    if (argc < 7 || argc > 8) {
        fprintf(stderr, "usage: torch_replay DATA_DIR CLASSES SEED STEPS "
                        "BATCH OUT [THREADS]\n");
        return 2;
    }
    const char *dir = argv[1], *out = argv[6];
    const int classes = arg_int("CLASSES", argv[2], 2, 10);
    const int seed = arg_int("SEED", argv[3], 0, 2147483647);
    const int steps = arg_int("STEPS", argv[4], 1, 10000);
    const int B = arg_int("BATCH", argv[5], 1, 1024);
    vgg_set_threads(argc == 8 ? arg_int("THREADS", argv[7], 1, 256) : 1);

    vgg_error err = {0};
    vgg_dataset train, test;
    vgg_cifar_options copt = {dir, classes, 0, 0};
    if (vgg_cifar_load(&train, &test, &copt, &err)) {
        fprintf(stderr, "torch_replay: %s\n", err.msg);
        return 1;
    }
    if (B > train.n) {
        fprintf(stderr,
                "torch_replay: batches of %d images: the training "
                "split has only %d\n",
                B, train.n);
        vgg_dataset_free(&train);
        vgg_dataset_free(&test);
        return 1;
    }
    vgg_config cfg = vgg_config_vgg16(train.num_classes);
    vgg_model *m = NULL;
    if (vgg_model_create(&m, &cfg, B > 100 ? B : 100, &err)) {
        fprintf(stderr, "torch_replay: %s\n", err.msg);
        vgg_dataset_free(&train);
        vgg_dataset_free(&test);
        return 1;
    }
    /* as vggtrain: one generator, initialisation first, then the epoch's
     * shuffle and draws */
    vgg_rng rng;
    vgg_rng_seed(&rng, (uint64_t)seed, 0);
    vgg_model_init(m, &rng);
    add_tensors(m, "init", 1);

    const int nb = (train.n + B - 1) / B, epochs = steps / nb;
    replay r = {.m = m, .steps = steps, .batch = B};
    int64_t si[5] = {steps, B, 3, 32, 32}, sl[2] = {steps, B}, s1[1] = {steps};
    int64_t se[1] = {epochs};
    r.input = st_add("input", 5, si);
    r.labels = st_add("labels", 2, sl);
    r.count = st_add("count", 1, s1);
    r.loss = st_add("loss", 1, s1);
    st_add("batches_per_epoch", 0, NULL)[0] = (float)nb;
    float *test_acc = st_add("test_acc", 1, se);
    const vgg_sgd opt = {0.01f, 0.9f, 5e-4f};
    for (int e = 0; r.done < steps; e++) {
        vgg_epoch_stats stats;
        vgg_status st = vgg_train_epoch(m, &train, B, &opt, &rng, &stats,
                                        on_batch, &r, &err);
        if (st == VGG_OK && e < epochs)
            st = vgg_evaluate(m, &test, 100, &stats, NULL, NULL, &err);
        if (st != VGG_OK && st != VGG_ERR_INTERRUPTED) {
            fprintf(stderr, "torch_replay: %s\n", err.msg);
            st_write("/dev/null"); /* frees the tensors */
            vgg_model_free(m);
            vgg_dataset_free(&train);
            vgg_dataset_free(&test);
            return 1;
        }
        if (e < epochs) {
            test_acc[e] = (float)stats.correct / (float)stats.images;
            printf("torch_replay: epoch %d: test_acc %.2f%%\n", e + 1,
                   100.0 * test_acc[e]);
            fflush(stdout);
        }
        r.done += nb;
    }
    add_tensors(m, "final", 0);
    const double last = r.loss[steps - 1];
    int rc = st_write(out) ? 1 : 0;
    if (!rc)
        printf("torch_replay: %s: seed %d, %d steps of %d images, last loss "
               "%.6f\n",
               out, seed, steps, B, last);
    vgg_model_free(m);
    vgg_dataset_free(&train);
    vgg_dataset_free(&test);
    return rc;
}
