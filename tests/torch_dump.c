/* torch_dump: the C side of scripts/torch_agreement.py (not a CTest test).
 *
 *   torch_dump CHECKPOINT BATCH OUT MODE [THREADS [CONV]]
 *
 * Loads CHECKPOINT, reads BATCH (CIFAR binary records, every label below
 * the model's class count), normalises it as the test split is (no
 * augmentation) and runs one pass, its convolutions by CONV (direct,
 * winograd or auto, as vggtrain --conv; direct by default). MODE eval: running
 * statistics, writes input and logits. MODE train: batch statistics, then
 * backward, and writes in addition every layer's output, every parameter
 * gradient and the updated running statistics. OUT is a safetensors file,
 * float32, in PyTorch's layouts: loss [] (mean over the batch)   input
 * [N,3,32,32]   logits [N,K] layers.<i>.out [N,C,H,W]        (i: index in the
 * table; conv entries after BN + ReLU, M entries after pool) grad.<name> (the
 * parameter's shape)   state.<name> (running mean/var) sgd.<name> (train: the
 * parameter after one SGD step with the checkpoint's lr, momentum and weight
 * decay) dropout.<j>.keep [N,W]          (fc:W head: hidden layer j's mask, 1
 *                                    kept, 0 dropped; key 0x5eed)
 * Exit status 0, or 1 with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgg/augment.h"
#include "vgg/checkpoint.h"
#include "vgg/conv_choice.h"
#include "vgg/cifar.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/train.h"

#include "st_out.h"

/* torch_dump --walk SPEC HEAD CLASSES [nobn]: the library's walk of a
 * configuration (vgg_arch_walk) as JSON on stdout, for the scripts to
 * build the same network from: the table as a checkpoint stores it, the
 * layers and the tensors in order. */
static int walk(int argc, char **argv) {
    vgg_config cfg;
    vgg_error err = {0};
    vgg_arch *a = malloc(sizeof *a);
    if (argc < 5 || argc > 6 || !a ||
        vgg_config_parse(&cfg, argv[2], atoi(argv[4]), &err) ||
        vgg_config_set_head(&cfg, argv[3], &err)) {
        fprintf(stderr, "torch_dump --walk SPEC HEAD CLASSES [nobn]: %s\n",
                err.msg);
        return 2;
    }
    if (argc == 6) cfg.no_bn = !strcmp(argv[5], "nobn");
    if (vgg_arch_walk(a, &cfg, &err)) {
        fprintf(stderr, "torch_dump: %s\n", err.msg);
        return 1;
    }
    char table[VGG_MAX_LAYERS * 8 + 1], head[32];
    vgg_config_format(table, sizeof table, &cfg);
    vgg_config_format_head(head, sizeof head, &cfg);
    static const char *kinds[] = {"conv", "pool", "linear"};
    printf("{\"arch\": \"%s\", \"batch_norm\": %s, \"head\": \"%s\", "
           "\"macs\": %.0f, \"layers\": [",
           table, cfg.no_bn ? "false" : "true", head, a->macs);
    for (int i = 0; i < a->nlayers; i++) {
        const vgg_arch_layer *L = &a->layers[i];
        printf("%s{\"kind\": \"%s\", \"cin\": %d, \"cout\": %d, "
               "\"side\": %d, \"kernel\": %d, \"bn\": %d, \"dropout\": %d}",
               i ? ", " : "", kinds[L->kind], L->cin, L->cout, L->side,
               L->kernel, L->bn, L->dropout);
    }
    printf("], \"tensors\": [");
    for (int i = 0; i < a->ntensors; i++) {
        const vgg_tensor *t = &a->tensors[i];
        printf("%s[\"%s\", [", i ? ", " : "", t->name);
        for (int d = 0; d < t->ndim; d++)
            printf("%s%lld", d ? ", " : "", (long long)t->shape[d]);
        printf("]]");
    }
    printf("]}\n");
    free(a);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--walk")) return walk(argc, argv);
    if (argc < 5 || argc > 7 ||
        (strcmp(argv[4], "train") && strcmp(argv[4], "eval"))) {
        fprintf(stderr, "usage: torch_dump CHECKPOINT BATCH OUT train|eval "
                        "[THREADS [CONV]]\n");
        return 2;
    }
    const char *ckpt = argv[1], *batch = argv[2], *out = argv[3];
    const int train = !strcmp(argv[4], "train");
    vgg_set_threads(argc >= 6 ? atoi(argv[5]) : 1);

    vgg_error err = {0};
    vgg_ckpt_meta meta;
    vgg_dataset ds;
    memset(&ds, 0, sizeof ds);
    if (vgg_checkpoint_read_meta(ckpt, &meta, &err) ||
        vgg_cifar_read_file(&ds, batch, VGG_CIFAR_MAX_CLASSES, 0, &err)) {
        fprintf(stderr, "torch_dump: %s\n", err.msg);
        return 1;
    }
    const int N = ds.n, K = meta.cfg.classes;
    for (int i = 0; i < N; i++)
        if (ds.labels[i] >= K) {
            fprintf(stderr,
                    "torch_dump: %s: image %d has label %d; the model "
                    "has %d classes\n",
                    batch, i, ds.labels[i], K);
            return 1;
        }
    vgg_model *m = NULL;
    vgg_conv_mode conv = VGG_CONV_MODE_DIRECT;
    if (vgg_model_create(&m, &meta.cfg, N, &err) ||
        vgg_checkpoint_load(ckpt, m, NULL, &err) ||
        (argc == 7 && vgg_conv_mode_parse(&conv, argv[6], "CONV", &err)) ||
        vgg_model_set_conv(m, conv, N, train, NULL, &err)) {
        fprintf(stderr, "torch_dump: %s\n", err.msg);
        return 1;
    }
    int *idx = malloc(sizeof(int) * (size_t)N);
    for (int i = 0; i < N; i++) idx[i] = i;
    vgg_augment_batch(m->input, m->labels, &ds, idx, N, NULL);

    int64_t s4[4] = {N, 3, 32, 32};
    st_cnhw_to_nchw(st_add("input", 4, s4), m->input, 3, N, 32 * 32);
    int correct = 0;
    /* dropout (fc:W head): a fixed key; the masks are written out */
    m->dropout_on = train;
    m->dropout_key = 0x5eedULL;
    double loss = vgg_model_forward(m, N, train, &correct);
    if (train) {
        vgg_model_zero_grad(m);
        vgg_model_backward(m, N);
    }
    st_add("loss", 0, NULL)[0] = (float)(loss / N);
    int64_t s2[2] = {N, K};
    memcpy(st_add("logits", 2, s2), m->logits, sizeof(float) * (size_t)N * K);
    if (train) {
        for (int i = 0; i < m->nlayers; i++) {
            const vgg_layer *L = &m->layers[i];
            int side = L->kind == VGG_LAYER_POOL ? L->H / 2 : L->H;
            int64_t s[4] = {N, L->cout, side, side};
            char name[64];
            snprintf(name, sizeof name, "layers.%d.out", i);
            st_cnhw_to_nchw(st_add(name, 4, s), L->out, L->cout, N,
                            side * side);
        }
        for (int j = 0; j + 1 < m->nfc; j++) {
            const vgg_fc *F = &m->fc[j];
            int64_t s[2] = {N, F->cout};
            char name[64];
            snprintf(name, sizeof name, "dropout.%d.keep", j);
            float *k = st_add(name, 2, s);
            for (long u = 0; u < (long)N * F->cout; u++) k[u] = F->keep[u];
        }
        for (int i = 0; i < m->ntensors; i++) {
            const vgg_tensor *t = &m->tensors[i];
            char name[80];
            if (t->kind == VGG_TENSOR_PARAM) {
                snprintf(name, sizeof name, "grad.%s", t->name);
                memcpy(st_add(name, t->ndim, t->shape), m->grads + t->offset,
                       sizeof(float) * t->numel);
            } else if (t->kind == VGG_TENSOR_BUFFER) {
                snprintf(name, sizeof name, "state.%s", t->name);
                memcpy(st_add(name, t->ndim, t->shape), m->state + t->offset,
                       sizeof(float) * t->numel);
            }
        }
    }
    if (train) { /* then one SGD step with the checkpoint's settings */
        vgg_sgd_step(m, &meta.sgd);
        for (int i = 0; i < m->ntensors; i++) {
            const vgg_tensor *t = &m->tensors[i];
            char name[80];
            if (t->kind != VGG_TENSOR_PARAM) continue;
            snprintf(name, sizeof name, "sgd.%s", t->name);
            memcpy(st_add(name, t->ndim, t->shape), m->params + t->offset,
                   sizeof(float) * t->numel);
        }
    }
    int rc = st_write(out) ? 1 : 0;
    char conv_line[160];
    vgg_model_conv_summary(m, conv_line, sizeof conv_line);
    printf("torch_dump: %s: %d images, %s, conv %s, loss %.6f, %d correct\n",
           out, N, argv[4], conv_line, loss / N, correct);
    free(idx);
    vgg_model_free(m);
    vgg_dataset_free(&ds);
    vgg_ckpt_meta_free(&meta);
    return rc;
}
