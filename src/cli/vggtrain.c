/* vggtrain: trains VGG16-BN on the first N classes of CIFAR-10. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common/args.h"
#include "vgg/augment.h"
#include "vgg/checkpoint.h"
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
    const char *out, *resume; /* checkpoint written each epoch; resumed */
} options;

/* Flags given on the command line, for --resume's defaults and checks. */
static const char *given_flags[64];
static int ngiven;

static void given_add(const char *arg) {
    if (ngiven < 64) given_flags[ngiven++] = arg;
}

static int given(const char *flag) {
    size_t n = strlen(flag);
    for (int i = 0; i < ngiven; i++)
        if (!strncmp(given_flags[i], flag, n) &&
            (given_flags[i][n] == 0 || given_flags[i][n] == '='))
            return 1;
    return 0;
}

/* --resume: adopts the checkpoint's settings for flags not given and
 * refuses flags that contradict it. Returns 0, or an exit status. */
static int resume_options(options *o, vgg_config *cfg, vgg_ckpt_meta *ck) {
    vgg_error err = {0};
    if (vgg_checkpoint_read_meta(o->resume, ck, &err)) {
        fprintf(stderr, "%s: --resume: %s\n", prog, err.msg);
        return 1;
    }
    const char *bad = NULL;
    char mine[64] = "", theirs[256] = "";
#define RESUME_SAME(flag, field, ckval, fmt)                                  \
    if (!bad && given(flag) && o->field != (ckval)) {                         \
        bad = flag;                                                           \
        snprintf(mine, sizeof mine, fmt, o->field);                           \
        snprintf(theirs, sizeof theirs, fmt, ckval);                          \
    }                                                                         \
    o->field = (ckval);
    RESUME_SAME("--classes", classes, ck->cfg.classes, "%d")
    RESUME_SAME("--batch-size", batch_size, ck->batch_size, "%d")
    RESUME_SAME("--lr", lr, ck->sgd.lr, "%g")
    RESUME_SAME("--momentum", momentum, ck->sgd.momentum, "%g")
    RESUME_SAME("--weight-decay", weight_decay, ck->sgd.weight_decay, "%g")
    RESUME_SAME("--seed", seed, ck->seed, "%" PRIu64)
    RESUME_SAME("--limit-train", limit_train, ck->limit_train, "%d")
    RESUME_SAME("--limit-test", limit_test, ck->limit_test, "%d")
#undef RESUME_SAME
    if (!bad && o->arch &&
        (cfg->nlayers != ck->cfg.nlayers ||
         memcmp(cfg->layers, ck->cfg.layers,
                sizeof(int) * (size_t)cfg->nlayers))) {
        bad = "--arch";
        snprintf(mine, sizeof mine, "'%.50s'", o->arch);
        size_t k = (size_t)snprintf(theirs, sizeof theirs, "'");
        for (int i = 0; i < ck->cfg.nlayers && k < sizeof theirs - 8; i++) {
            if (ck->cfg.layers[i] == VGG_POOL)
                k += (size_t)snprintf(theirs + k, sizeof theirs - k, "%sM",
                                      i ? " " : "");
            else
                k += (size_t)snprintf(theirs + k, sizeof theirs - k, "%s%d",
                                      i ? " " : "", ck->cfg.layers[i]);
        }
        snprintf(theirs + k, sizeof theirs - k, "'");
    }
    if (bad) {
        fprintf(stderr,
                "%s: %s %s contradicts the checkpoint %s (which has %s %s); drop the "
                "flag to continue that run, or start a new one without "
                "--resume\n",
                prog, bad, mine, o->resume, bad, theirs);
        vgg_ckpt_meta_free(ck);
        return EXIT_USAGE;
    }
    *cfg = ck->cfg;
    if (o->epochs <= ck->epoch) {
        fprintf(stderr,
                "%s: --epochs %d: %s has already completed epoch %d; --epochs "
                "counts all epochs, so pass more than %d\n",
                prog, o->epochs, o->resume, ck->epoch, ck->epoch);
        vgg_ckpt_meta_free(ck);
        return EXIT_USAGE;
    }
    if (!given("--out")) o->out = o->resume;
    return 0;
}

/* Fails early, not after the first epoch, when --out cannot be written. */
static int out_writable(const char *out) {
    char dir[4096];
    const char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == out ? 1 : (int)(slash - out),
                 out);
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "%s: --out %s: cannot write in folder %s (%s)\n", prog,
                out, dir, strerror(errno));
        return 0;
    }
    return 1;
}

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
"Checkpoints\n"
"  --out FILE           checkpoint written atomically after every epoch\n"
"                       [model.bin; with --resume, the resumed file]\n"
"  --resume FILE        continue the run FILE stopped: weights, momentum,\n"
"                       batch-norm statistics, epoch, random state. --epochs\n"
"                       counts all epochs; flags not given default to the\n"
"                       checkpoint's, and giving --classes, --arch,\n"
"                       --batch-size, --lr, --momentum, --weight-decay,\n"
"                       --seed or --limit-* a different value is an error\n"
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
                 .data = "data/cifar-10-batches-bin", .arch = NULL,
                 .out = "model.bin", .resume = NULL};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = ncpu > 0 ? (int)ncpu : 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int bad = 0;
        given_add(argv[i]);
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
        } else if (args_match(prog, argc, argv, &i, "--out", &v)) {
            bad = !v || !*v;
            o.out = v;
        } else if (args_match(prog, argc, argv, &i, "--resume", &v)) {
            bad = !v || !*v;
            o.resume = v;
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
    vgg_ckpt_meta ck;
    memset(&ck, 0, sizeof ck);
    if (o.resume) {
        int rc = resume_options(&o, &cfg, &ck);
        if (rc) return rc;
    }
    if (!out_writable(o.out)) {
        vgg_ckpt_meta_free(&ck);
        return 1;
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
    if (o.resume) {
        if (vgg_checkpoint_load(o.resume, m, NULL, &err)) {
            fprintf(stderr, "%s: --resume: %s\n", prog, err.msg);
            vgg_model_free(m);
            vgg_dataset_free(&train);
            vgg_dataset_free(&test);
            vgg_ckpt_meta_free(&ck);
            return 1;
        }
        rng = ck.rng;
    } else {
        ck.cfg = cfg;
        for (int c = 0; c < o.classes; c++)
            memcpy(ck.class_names[c], train.class_names[c],
                   sizeof ck.class_names[c]);
        ck.seed = o.seed;
        ck.sgd = (vgg_sgd){o.lr, o.momentum, o.weight_decay};
        ck.batch_size = o.batch_size;
        ck.limit_train = o.limit_train;
        ck.limit_test = o.limit_test;
    }

    printf("vggtrain %s: %zu parameters, %d classes (", VGG_VERSION_STRING,
           m->nparams, o.classes);
    for (int c = 0; c < o.classes; c++)
        printf("%s%s", c ? " " : "", train.class_names[c]);
    printf("), %d training and %d test images, batch %d, %d threads, gemm "
           "%s\n",
           train.n, test.n, o.batch_size, o.threads, vgg_gemm_name());
    if (o.resume)
        printf("resuming %s after epoch %d of %d; checkpoints to %s\n",
               o.resume, ck.epoch, o.epochs, o.out);
    fflush(stdout);

    vgg_sgd sgd = {o.lr, o.momentum, o.weight_decay};
    int status = 0;
    for (int e = ck.epoch + 1; e <= o.epochs; e++) {
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
        /* The live rng is the next epoch's starting state: evaluation
         * draws nothing. */
        vgg_epoch_record rec = {e, sgd.lr, (float)(tr.loss_sum / tr.images),
                                (float)tr.correct / tr.images,
                                (float)(te.loss_sum / te.images),
                                (float)te.correct / te.images, (float)secs,
                                (float)(tr.images / tr.seconds)};
        ck.epoch = e;
        ck.rng = rng;
        if (vgg_ckpt_meta_add_epoch(&ck, &rec, &err) ||
            vgg_checkpoint_save(o.out, m, &ck, &err)) {
            fprintf(stderr, "%s: epoch %d: %s\n", prog, e, err.msg);
            status = 1;
            break;
        }
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
    vgg_ckpt_meta_free(&ck);
    return status;
}
