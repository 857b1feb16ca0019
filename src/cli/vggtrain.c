/* vggtrain: trains VGG16-BN on the first N classes of CIFAR-10. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common/args.h"
#include "vgg/augment.h"
#include "vgg/cifar.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/profile.h"
#include "vgg/rng.h"
#include "vgg/train.h"

static const char *prog = "vggtrain";

typedef struct options {
    int epochs, classes, batch_size, eval_batch_size, threads;
    int limit_train, limit_test;
    float lr, momentum, weight_decay;
    uint64_t seed;
    const char *data, *arch;
} options;

static void usage(FILE *f) {
    fprintf(f,
"usage: vggtrain [options]\n"
"Trains VGG16 with batch norm on the first N classes of CIFAR-10 and prints,\n"
"each epoch, the training loss and accuracy and the test loss and accuracy.\n"
"\n"
"Data\n"
"  --data DIR           CIFAR-10 binary folder (data_batch_1..5.bin,\n"
"                       test_batch.bin, batches.meta.txt)\n"
"                       [data/cifar-10-batches-bin]\n"
"  --classes N          keep labels 0..N-1, N from 2 to 10 [3]\n"
"  --limit-train N      use only the first N training images after class\n"
"                       filtering (0: all) [0]\n"
"  --limit-test N       the same for the test split [0]\n"
"Training\n"
"  --epochs N           epochs to train [50]\n"
"  --batch-size N       training batch [128]\n"
"  --eval-batch-size N  test batch [100]\n"
"  --lr X               learning rate [0.01]\n"
"  --momentum X         SGD momentum [0.9]\n"
"  --weight-decay X     L2 decay on every parameter [5e-4]\n"
"  --seed N             seeds initialisation, shuffling, augmentation [1]\n"
"  --threads N          threads for GEMM and kernels [all cores]\n"
"  --arch 'TABLE'       network table [VGG16: 64 64 M 128 128 M 256 256 256 M\n"
"                       512 512 512 M 512 512 512 M]\n"
"Other\n"
"  --help               this text\n"
"  --version            the version\n"
"\n"
"Exit status: 0 done, 1 runtime error, 2 usage error.\n");
}

int main(int argc, char **argv) {
    options o = {.epochs = 50, .classes = 3, .batch_size = 128,
                 .eval_batch_size = 100, .threads = 0, .lr = 0.01f,
                 .momentum = 0.9f, .weight_decay = 5e-4f, .seed = 1,
                 .data = "data/cifar-10-batches-bin", .arch = NULL};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = ncpu > 0 ? (int)ncpu : 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int bad = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("vggtrain %s\n", VGG_VERSION_STRING);
            return 0;
        } else if (args_match(prog, argc, argv, &i, "--epochs", &v)) {
            bad = !v || args_int(prog, "--epochs", v, 1, 100000, &o.epochs);
        } else if (args_match(prog, argc, argv, &i, "--classes", &v)) {
            bad = !v || args_int(prog, "--classes", v, 2, 10, &o.classes);
        } else if (args_match(prog, argc, argv, &i, "--batch-size", &v)) {
            bad = !v || args_int(prog, "--batch-size", v, 1, 4096, &o.batch_size);
        } else if (args_match(prog, argc, argv, &i, "--eval-batch-size", &v)) {
            bad = !v || args_int(prog, "--eval-batch-size", v, 1, 4096,
                                 &o.eval_batch_size);
        } else if (args_match(prog, argc, argv, &i, "--threads", &v)) {
            bad = !v || args_int(prog, "--threads", v, 1, 256, &o.threads);
        } else if (args_match(prog, argc, argv, &i, "--limit-train", &v)) {
            bad = !v || args_int(prog, "--limit-train", v, 0, 1000000,
                                 &o.limit_train);
        } else if (args_match(prog, argc, argv, &i, "--limit-test", &v)) {
            bad = !v || args_int(prog, "--limit-test", v, 0, 1000000,
                                 &o.limit_test);
        } else if (args_match(prog, argc, argv, &i, "--lr", &v)) {
            bad = !v || args_float(prog, "--lr", v, 1e-12, 100.0, &o.lr);
        } else if (args_match(prog, argc, argv, &i, "--momentum", &v)) {
            bad = !v || args_float(prog, "--momentum", v, 0.0, 0.9999,
                                   &o.momentum);
        } else if (args_match(prog, argc, argv, &i, "--weight-decay", &v)) {
            bad = !v || args_float(prog, "--weight-decay", v, 0.0, 1.0,
                                   &o.weight_decay);
        } else if (args_match(prog, argc, argv, &i, "--seed", &v)) {
            bad = !v || args_u64(prog, "--seed", v, &o.seed);
        } else if (args_match(prog, argc, argv, &i, "--data", &v)) {
            bad = !v;
            o.data = v;
        } else if (args_match(prog, argc, argv, &i, "--arch", &v)) {
            bad = !v;
            o.arch = v;
        } else {
            fprintf(stderr, "%s: unknown option '%s'; see --help\n", prog,
                    argv[i]);
            return EXIT_USAGE;
        }
        if (bad) return EXIT_USAGE;
    }

    vgg_error err = {0};
    vgg_set_threads(o.threads);
    vgg_config cfg = vgg_config_vgg16(o.classes);
    if (o.arch && vgg_config_parse(&cfg, o.arch, o.classes, &err)) {
        fprintf(stderr, "%s: --arch: %s\n", prog, err.msg);
        return EXIT_USAGE;
    }

    vgg_dataset train, test;
    vgg_cifar_options copt = {o.data, o.classes, o.limit_train, o.limit_test};
    if (vgg_cifar_load(&train, &test, &copt, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        if (err.status == VGG_ERR_IO)
            fprintf(stderr,
                    "%s: put the CIFAR-10 binary version in %s (see "
                    "scripts/get-cifar10) or pass --data DIR\n",
                    prog, o.data);
        return 1;
    }

    vgg_model *m = NULL;
    int bmax = o.batch_size > o.eval_batch_size ? o.batch_size
                                                : o.eval_batch_size;
    if (vgg_model_create(&m, &cfg, bmax, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        vgg_dataset_free(&train);
        vgg_dataset_free(&test);
        return 1;
    }
    vgg_rng rng;
    vgg_rng_seed(&rng, o.seed, 0);
    vgg_model_init(m, &rng);

    printf("vggtrain %s: %zu parameters, %d classes (", VGG_VERSION_STRING,
           m->nparams, o.classes);
    for (int c = 0; c < o.classes; c++)
        printf("%s%s", c ? " " : "", train.class_names[c]);
    printf("), %d training and %d test images, batch %d, %d threads, gemm "
           "%s\n",
           train.n, test.n, o.batch_size, o.threads, vgg_gemm_name());
    fflush(stdout);

    vgg_sgd sgd = {o.lr, o.momentum, o.weight_decay};
    int status = 0;
    for (int e = 1; e <= o.epochs; e++) {
        vgg_epoch_stats tr, te;
        double t0 = vgg_now();
        if (vgg_train_epoch(m, &train, o.batch_size, &sgd, &rng, &tr, NULL,
                            NULL, &err) ||
            vgg_evaluate(m, &test, o.eval_batch_size, &te, NULL, NULL, &err)) {
            fprintf(stderr, "%s: epoch %d: %s\n", prog, e, err.msg);
            status = 1;
            break;
        }
        double secs = vgg_now() - t0;
        printf("epoch %d/%d  train_loss %.4f  train_acc %.2f%%  test_loss "
               "%.4f  test_acc %.2f%%  time %.1fs  %.0f img/s\n",
               e, o.epochs, tr.loss_sum / tr.images,
               100.0 * tr.correct / tr.images, te.loss_sum / te.images,
               100.0 * te.correct / te.images, secs, tr.images / tr.seconds);
        fflush(stdout);
        if (getenv("VGG_PROFILE")) {
            for (int k = 0; k < VGG_PROF_COUNT; k++)
                fprintf(stderr, "  %s %.2fs", vgg_prof_name(k), vgg_prof.seconds[k]);
            fprintf(stderr, "  gemm %.1f GFLOP/s\n", vgg_prof.gemm_flops / vgg_prof.seconds[0] / 1e9);
            vgg_prof_reset();
        }
    }
    vgg_model_free(m);
    vgg_dataset_free(&train);
    vgg_dataset_free(&test);
    return status;
}
