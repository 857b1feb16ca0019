/* vggtrain's command line: defaults, --help and parsing. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/common/args.h"
#include "cli/train_options.h"
#include "vgg/model.h"

static const char *prog = "vggtrain";

/* Flags given on the command line, for --resume's defaults and checks. */
static const char *given_flags[64];
static int ngiven;

static void given_add(const char *arg) {
    if (ngiven < 64) given_flags[ngiven++] = arg;
}

int train_given(const char *flag) {
    size_t n = strlen(flag);
    for (int i = 0; i < ngiven; i++)
        if (!strncmp(given_flags[i], flag, n) &&
            (given_flags[i][n] == 0 || given_flags[i][n] == '='))
            return 1;
    return 0;
}

void train_options_init(options *o) {
    *o = (options){.epochs = 50,
                   .classes = 3,
                   .batch_size = 128,
                   .eval_batch_size = 100,
                   .lr = 0.01f,
                   .momentum = 0.9f,
                   .weight_decay = 5e-4f,
                   .seed = 1,
                   .mpi_timeout = 60,
                   .data = "data/cifar-10-batches-bin",
                   .out = "model.bin",
                   .image_size = 32};
    vgg_schedule_init(&o->sched, o->lr);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = ncpu > 0 ? (int)ncpu : 1;
}

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: vggtrain [options]\n"
        "Trains VGG16 with batch norm on CIFAR-10 classes, or any image "
        "classes,\n"
        "and prints, each epoch, the training loss and accuracy and the test "
        "loss\n"
        "and accuracy; writes a checkpoint after every epoch.\n"
        "\n"
        "Data\n"
        "  --data DIR           one of (recognised from its files):\n"
        "                       CIFAR-10 binary (data_batch_1..5.bin,\n"
        "                       test_batch.bin, batches.meta.txt);\n"
        "                       CIFAR-100 binary (train.bin, test.bin,\n"
        "                       fine_label_names.txt, "
        "coarse_label_names.txt);\n"
        "                       an image folder: DIR/train/CLASS/* and\n"
        "                       DIR/test/CLASS/*, or DIR/CLASS/* with "
        "--val-split;\n"
        "                       PNG and JPEG files, chosen by their bytes, "
        "any\n"
        "                       size; class names are the folder names, "
        "sorted\n"
        "                       [data/cifar-10-batches-bin; "
        "scripts/get-cifar10]\n"
        "  --classes N          the first N classes, 2 to 100 [3; image "
        "folders\n"
        "                       and CIFAR-100: all]\n"
        "  --class-names LIST   these classes instead, e.g. "
        "airplane,cat,ship;\n"
        "                       labels become 0..k-1 in the order given\n"
        "  --labels KIND        CIFAR-100: fine (100 classes) or coarse (20) "
        "[fine]\n"
        "  --val-split F        image folder without train/ and test/: this\n"
        "                       fraction of each class is the test split "
        "(drawn\n"
        "                       with --seed)\n"
        "  --image-size S       network input S x S, a multiple of 32; images "
        "are\n"
        "                       resized to it (area averaging down, bilinear "
        "up);\n"
        "                       the classifier reads 512 x (S/32)^2 features "
        "and\n"
        "                       training pads by S/8 before its random crop "
        "[32]\n"
        "  --normalize MODE     auto (the training images' per-channel mean "
        "and\n"
        "                       std), cifar (CIFAR-10's) or none [auto for "
        "image\n"
        "                       folders, cifar otherwise]; stored in the "
        "checkpoint\n"
        "  --skip-bad-images    skip damaged, too large (over 64 megapixels) "
        "or\n"
        "                       tiny (below 2x2) images with a warning instead "
        "of\n"
        "                       stopping\n"
        "  --cache FILE         image folders: keep the decoded images in "
        "FILE\n"
        "                       (e.g. beside the data) and read them from "
        "there\n"
        "                       while every file keeps its size and "
        "modification\n"
        "                       time and the flags that shape the data are the "
        "same\n"
        "  --limit-train N      use only the first N training images after "
        "class\n"
        "                       selection (image folders: one from each class "
        "in\n"
        "                       turn) (0: all) [0]\n"
        "  --limit-test N       the same for the test split [0]\n"
        "Training\n"
        "  --epochs N           total epochs (with --resume, including those "
        "done)\n"
        "                       [50]\n"
        "  --batch-size N       training batch [128]\n"
        "  --eval-batch-size N  test batch [100]\n"
        "  --lr X               (base) learning rate [0.01]\n"
        "  --lr-schedule S      constant, step or cosine [constant]\n"
        "  --lr-steps E1,E2..   step: multiply the rate by --lr-gamma after "
        "these\n"
        "                       epochs\n"
        "  --lr-gamma X         step's factor [0.1]\n"
        "  --lr-min X           cosine's final rate [0]\n"
        "  --warmup N           epochs of linear warm-up before the schedule "
        "[0]\n"
        "  --momentum X         SGD momentum [0.9]\n"
        "  --weight-decay X     L2 decay on every parameter [5e-4]\n"
        "  --seed N             seeds initialisation, shuffling, augmentation "
        "[1]\n"
        "  --threads N          threads for GEMM and kernels [all cores]\n"
        "  --conv MODE          convolution algorithm: direct, winograd "
        "(F(4x4),\n"
        "                       F(2x2) on 2x2 maps) or auto (each layer's "
        "pass\n"
        "                       by the faster, measured at start-up) [direct]\n"
        "  --arch NAME|'TABLE'  the network: vgg11, vgg13, vgg16, vgg19 (the\n"
        "                       paper's A, B, D, E), vgg16c (C: 1x1 "
        "convolutions\n"
        "                       in blocks 3-5), each with batch norm, or with\n"
        "                       -nobn (vgg16-nobn) without, /D after that to\n"
        "                       divide the widths by D (vgg16/8); or a table "
        "of widths\n"
        "                       (3x3 convolutions), W:1 (1x1) and M "
        "(max-pool)\n"
        "                       [vgg16: 64 64 M 128 128 M 256 256 256 M 512 "
        "512\n"
        "                       512 M 512 512 512 M]\n"
        "  --head linear|fc:W   classifier: one Linear(features, classes), or\n"
        "                       Linear-ReLU-Dropout(0.5) twice with W units, "
        "then\n"
        "                       Linear (the paper's, W 4096) [linear]\n"
        "  --sync-bn            with mpirun: batch-norm statistics over the "
        "global\n"
        "                       batch, not each process's share\n"
        "  --no-overlap         with mpirun: sum the gradients after the "
        "backward\n"
        "                       pass instead of layer by layer during it\n"
        "  --mpi-timeout S      with mpirun: end the job when the ranks have "
        "not\n"
        "                       met for S seconds (a lost host or network; 0:\n"
        "                       wait forever) [60]\n"
        "Output\n"
        "  --out FILE           checkpoint written atomically after every "
        "epoch\n"
        "                       [model.bin; with --resume, the resumed file]\n"
        "  --resume FILE        continue the run FILE stopped: weights, "
        "momentum,\n"
        "                       batch-norm statistics, epoch, random state. "
        "Flags not\n"
        "                       given default to the checkpoint's, the "
        "learning-rate\n"
        "                       schedule's among them (schedule flags given "
        "change\n"
        "                       it from there on); giving --classes, --arch, "
        "--head,\n"
        "                       --batch-size, --lr, --momentum, "
        "--weight-decay,\n"
        "                       --seed or --limit-* a different value is an "
        "error\n"
        "  --init FILE          start from the convolution and batch-norm "
        "tensors\n"
        "                       of FILE (a vggtrain checkpoint, or any "
        "safetensors\n"
        "                       file with the same names and shapes) with a "
        "new\n"
        "                       classifier for these classes and a fresh "
        "optimizer:\n"
        "                       fine-tuning; --resume continues a run instead\n"
        "  --log FILE           append one row per epoch: CSV, or JSON Lines "
        "if FILE\n"
        "                       ends in .jsonl or .json\n"
        "  --batch-log FILE     append one row per training batch (epoch, "
        "batch,\n"
        "                       lr, loss, acc, seconds), CSV or JSON Lines as\n"
        "                       --log; written when its epoch is saved, so a\n"
        "                       resumed run repeats no rows\n"
        "  --curve FILE         learning curve, PNG or (.svg) SVG, redrawn "
        "every\n"
        "                       epoch [none]\n"
        "  --samples FILE       before training, a PNG grid of augmented "
        "training\n"
        "                       images with their classes\n"
        "  --quiet              print only the final result\n"
        "  --help, --version\n"
        "\n"
        "On a terminal a progress line is redrawn during each epoch. Ctrl-C "
        "(or\n"
        "SIGTERM) finishes the current batch, keeps the last checkpoint and "
        "says\n"
        "how to resume; a second one exits at once.\n"
        "Exit status: 0 done, 1 runtime error, 2 usage error, 3 diverged,\n"
        "128+signal when interrupted.\n");
}

/* The learning-rate schedule's flags (--lr-schedule, --lr-steps, ...),
 * with or without =VALUE: copies the flag's name to flag. */
static int schedule_flag(const char *arg, char *flag, size_t n) {
    snprintf(flag, n, "%.*s", (int)strcspn(arg, "="), arg);
    return vgg_schedule_is_flag(flag);
}

int train_parse_args(options *o, int argc, char **argv) {
    char flag[64];
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int bad = 0;
        given_add(argv[i]);
        vgg_error err = {0};
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(argv[i], "--version")) {
#ifdef VGG_HAVE_MPI
            printf("vggtrain %s (MPI)\n", VGG_VERSION_STRING);
#else
            printf("vggtrain %s\n", VGG_VERSION_STRING);
#endif
            return -1;
        } else if (!strcmp(argv[i], "--quiet")) {
            o->quiet = 1;
        } else if (!strcmp(argv[i], "--sync-bn")) {
            o->sync_bn = 1;
        } else if (!strcmp(argv[i], "--no-overlap")) {
            o->no_overlap = 1;
        } else if (!strcmp(argv[i], "--skip-bad-images")) {
            o->skip_bad = 1;
        } else if (args_match(prog, argc, argv, &i, "--image-size", &v)) {
            bad = !v ||
                  args_int(prog, "--image-size", v, 32, 512, &o->image_size);
            if (!bad && o->image_size % 32) {
                fprintf(stderr,
                        "%s: --image-size %s: expected a multiple of 32 "
                        "(the five pools halve it five times)\n",
                        prog, v);
                bad = 1;
            }
        } else if (args_match(prog, argc, argv, &i, "--normalize", &v)) {
            bad = !v || (strcmp(v, "auto") && strcmp(v, "cifar") &&
                         strcmp(v, "none"));
            if (bad && v)
                fprintf(stderr,
                        "%s: --normalize %s: expected auto, cifar or none\n",
                        prog, v);
            o->normalize = v;
        } else if (args_match(prog, argc, argv, &i, "--labels", &v)) {
            bad = !v || (strcmp(v, "fine") && strcmp(v, "coarse"));
            if (bad && v)
                fprintf(stderr,
                        "%s: --labels %s: expected fine or coarse "
                        "(CIFAR-100's label kinds)\n",
                        prog, v);
            o->labels = v;
        } else if (args_match(prog, argc, argv, &i, "--val-split", &v)) {
            bad = !v || args_float(prog, "--val-split", v, 0.001, 0.999,
                                   &o->val_split);
        } else if (args_match(prog, argc, argv, &i, "--epochs", &v)) {
            bad = !v || args_int(prog, "--epochs", v, 1, 100000, &o->epochs);
        } else if (args_match(prog, argc, argv, &i, "--classes", &v)) {
            bad = !v || args_int(prog, "--classes", v, 2, 100, &o->classes);
        } else if (args_match(prog, argc, argv, &i, "--batch-size", &v)) {
            bad = !v ||
                  args_int(prog, "--batch-size", v, 1, 4096, &o->batch_size);
        } else if (args_match(prog, argc, argv, &i, "--eval-batch-size", &v)) {
            bad = !v || args_int(prog, "--eval-batch-size", v, 1, 4096,
                                 &o->eval_batch_size);
        } else if (args_match(prog, argc, argv, &i, "--threads", &v)) {
            bad = !v || args_int(prog, "--threads", v, 1, 256, &o->threads);
        } else if (args_match(prog, argc, argv, &i, "--limit-train", &v)) {
            bad = !v || args_int(prog, "--limit-train", v, 0, 1000000,
                                 &o->limit_train);
        } else if (args_match(prog, argc, argv, &i, "--limit-test", &v)) {
            bad = !v ||
                  args_int(prog, "--limit-test", v, 0, 1000000, &o->limit_test);
        } else if (args_match(prog, argc, argv, &i, "--lr", &v)) {
            bad = !v || args_float(prog, "--lr", v, 1e-12, 100.0, &o->lr);
        } else if (args_match(prog, argc, argv, &i, "--momentum", &v)) {
            bad = !v ||
                  args_float(prog, "--momentum", v, 0.0, 0.9999, &o->momentum);
        } else if (args_match(prog, argc, argv, &i, "--weight-decay", &v)) {
            bad = !v || args_float(prog, "--weight-decay", v, 0.0, 1.0,
                                   &o->weight_decay);
        } else if (args_match(prog, argc, argv, &i, "--mpi-timeout", &v)) {
            bad = !v || args_float(prog, "--mpi-timeout", v, 0.0, 1e6,
                                   &o->mpi_timeout);
        } else if (args_match(prog, argc, argv, &i, "--conv", &v)) {
            vgg_error err;
            bad = !v || vgg_conv_mode_parse(&o->conv, v, "--conv", &err);
            if (v && bad) fprintf(stderr, "%s: %s\n", prog, err.msg);
        } else if (args_match(prog, argc, argv, &i, "--seed", &v)) {
            bad = !v || args_u64(prog, "--seed", v, &o->seed);
        } else if (args_match(prog, argc, argv, &i, "--data", &v)) {
            bad = args_path(prog, "--data", v) != 0;
            o->data = v;
        } else if (args_match(prog, argc, argv, &i, "--arch", &v)) {
            bad = !v;
            o->arch = v;
        } else if (args_match(prog, argc, argv, &i, "--head", &v)) {
            bad = !v;
            o->head = v;
        } else if (args_match(prog, argc, argv, &i, "--class-names", &v)) {
            bad = args_path(prog, "--class-names", v) != 0;
            o->class_names = v;
        } else if (args_match(prog, argc, argv, &i, "--out", &v)) {
            bad = args_path(prog, "--out", v) != 0;
            o->out = v;
        } else if (args_match(prog, argc, argv, &i, "--resume", &v)) {
            bad = args_path(prog, "--resume", v) != 0;
            o->resume = v;
        } else if (args_match(prog, argc, argv, &i, "--cache", &v)) {
            bad = args_path(prog, "--cache", v) != 0;
            o->cache = v;
        } else if (args_match(prog, argc, argv, &i, "--init", &v)) {
            bad = args_path(prog, "--init", v) != 0;
            o->init = v;
        } else if (args_match(prog, argc, argv, &i, "--log", &v)) {
            bad = args_path(prog, "--log", v) != 0;
            o->log = v;
        } else if (args_match(prog, argc, argv, &i, "--batch-log", &v)) {
            bad = args_path(prog, "--batch-log", v) != 0;
            o->batch_log = v;
        } else if (args_match(prog, argc, argv, &i, "--curve", &v)) {
            bad = args_path(prog, "--curve", v) != 0;
            o->curve = v;
        } else if (args_match(prog, argc, argv, &i, "--samples", &v)) {
            bad = args_path(prog, "--samples", v) != 0;
            o->samples = v;
        } else if (schedule_flag(argv[i], flag, sizeof flag)) {
            if (args_match(prog, argc, argv, &i, flag, &v) && v &&
                vgg_schedule_set(&o->sched, flag, v, &err)) {
                fprintf(stderr, "%s: %s\n", prog, err.msg);
                bad = 1;
            } else if (!v) {
                bad = 1;
            } else if (o->nsched == 16) {
                fprintf(stderr,
                        "%s: %s %s: more than 16 schedule flags; "
                        "give each once\n",
                        prog, flag, v);
                bad = 1;
            } else {
                snprintf(o->sched_flag[o->nsched], sizeof o->sched_flag[0],
                         "%s", flag);
                o->sched_val[o->nsched++] = v;
            }
        } else {
            fprintf(stderr, "%s: unknown option '%s'; see --help\n", prog,
                    argv[i]);
            return EXIT_USAGE;
        }
        if (bad) return EXIT_USAGE;
    }
    if (o->init && o->resume) {
        fprintf(stderr,
                "%s: --init starts a new run from a model's features and "
                "--resume continues a run; give one\n",
                prog);
        return EXIT_USAGE;
    }
    if (o->class_names && train_given("--classes")) {
        fprintf(stderr,
                "%s: --classes and --class-names both choose the classes; "
                "give one\n",
                prog);
        return EXIT_USAGE;
    }
    return 0;
}
