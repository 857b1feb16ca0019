/* vggtrain: trains VGG16-BN on CIFAR-10 classes and writes checkpoints.
 * Exit status: 0 done, 1 runtime error, 2 usage error, 3 training diverged,
 * 128+signal when interrupted (130 for Ctrl-C). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common/args.h"
#include "cli/dist.h"
#include "vgg/augment.h"
#include "vgg/checkpoint.h"
#include "vgg/cifar.h"
#include "vgg/classes.h"
#include "vgg/gemm.h"
#include "vgg/metrics.h"
#include "vgg/path.h"
#include "vgg/model.h"
#include "vgg/plot.h"
#include "vgg/profile.h"
#include "vgg/rng.h"
#include "vgg/schedule.h"
#include "vgg/train.h"

enum { EXIT_DIVERGED = 3 };

static const char *prog = "vggtrain";

typedef struct options {
    int epochs, classes, batch_size, eval_batch_size, threads;
    int limit_train, limit_test;
    float lr, momentum, weight_decay;
    uint64_t seed;
    const char *data, *arch;
    const char *out, *resume; /* checkpoint written each epoch; resumed */
    const char *class_names;  /* --class-names a,b,c */
    const char *log, *batch_log, *samples, *curve;
    int quiet, sync_bn, no_overlap;
    vgg_schedule sched;
    /* the schedule flags given, in order, to lay over a resumed run's */
    int nsched;
    char sched_flag[16][64];
    const char *sched_val[16];
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
    vgg_path_folder(out, dir, sizeof dir);
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "%s: --out %s: cannot write in folder %s (%s)\n", prog,
                out, dir, strerror(errno));
        return 0;
    }
    return 1;
}


/* ---- signals: the first finishes the batch and stops; the second exits
 * at once (checkpoints are written atomically, so the last one stays
 * whole whatever happens). ---- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
    if (stop_signal) {
        static const char msg[] =
            "\nvggtrain: second signal, exiting now; the last checkpoint is "
            "intact\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(128 + sig);
    }
    stop_signal = sig;
}

static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- progress ---- */

typedef struct progress {
    int tty, epoch, epochs;
    double epoch_start, eval_seconds;
    const proc *P;
    /* --batch-log: this epoch's rows (NULL: not asked for), and the
     * running sums at the last batch */
    vgg_batch_record *rows;
    int nrows;
    float lr;
    vgg_epoch_stats prev;
} progress;

/* The signal that stops the run; with several processes, any process's
 * (all stop at the same batch). */
static int stop_now(const proc *p) {
    int s = proc_max(p, stop_signal);
    if (s && !stop_signal) stop_signal = s;
    return s;
}

static void hms(char *buf, size_t n, double s) {
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* Called after every batch: redraws one line on a terminal, and stops the
 * epoch when a signal came. */
static int on_batch(void *user, int b, int nb, const vgg_epoch_stats *s) {
    progress *p = user;
    if (p->rows) {
        if (b == 1) memset(&p->prev, 0, sizeof p->prev);
        const int n = s->images - p->prev.images;
        p->rows[b - 1] = (vgg_batch_record){
            p->epoch,
            b,
            p->lr,
            (float)((s->loss_sum - p->prev.loss_sum) / n),
            (float)(s->correct - p->prev.correct) / (float)n,
            (float)(s->seconds - p->prev.seconds)};
        p->nrows = b;
        p->prev = *s;
    }
    if (p->tty && !stop_signal) {
        double el = vgg_now() - p->epoch_start;
        double left = el / b * (nb - b);
        double per_epoch = el / b * nb + p->eval_seconds;
        char e1[32], e2[32];
        hms(e1, sizeof e1, left);
        hms(e2, sizeof e2, left + p->eval_seconds +
                               per_epoch * (p->epochs - p->epoch));
        printf("\r\033[Kepoch %d/%d  batch %d/%d  loss %.4f  acc %.2f%%  "
               "%.0f img/s  eta %s  run %s",
               p->epoch, p->epochs, b, nb, s->loss_sum / s->images,
               100.0 * s->correct / s->images, s->images / s->seconds, e1,
               e2);
        fflush(stdout);
    }
    return stop_now(p->P) != 0;
}

static void usage(FILE *f) {
    fprintf(f,
"usage: vggtrain [options]\n"
"Trains VGG16 with batch norm on CIFAR-10 classes and prints, each epoch,\n"
"the training loss and accuracy and the test loss and accuracy; writes a\n"
"checkpoint after every epoch.\n"
"\n"
"Data\n"
"  --data DIR           CIFAR-10 binary folder (data_batch_1..5.bin,\n"
"                       test_batch.bin, batches.meta.txt)\n"
"                       [data/cifar-10-batches-bin; scripts/get-cifar10]\n"
"  --classes N          the first N classes, 2 to 10 [3]\n"
"  --class-names LIST   these classes instead, e.g. airplane,cat,ship;\n"
"                       labels become 0..k-1 in the order given\n"
"  --limit-train N      use only the first N training images after class\n"
"                       selection (0: all) [0]\n"
"  --limit-test N       the same for the test split [0]\n"
"Training\n"
"  --epochs N           total epochs (with --resume, including those done)\n"
"                       [50]\n"
"  --batch-size N       training batch [128]\n"
"  --eval-batch-size N  test batch [100]\n"
"  --lr X               (base) learning rate [0.01]\n"
"  --lr-schedule S      constant, step or cosine [constant]\n"
"  --lr-steps E1,E2..   step: multiply the rate by --lr-gamma after these\n"
"                       epochs\n"
"  --lr-gamma X         step's factor [0.1]\n"
"  --lr-min X           cosine's final rate [0]\n"
"  --warmup N           epochs of linear warm-up before the schedule [0]\n"
"  --momentum X         SGD momentum [0.9]\n"
"  --weight-decay X     L2 decay on every parameter [5e-4]\n"
"  --seed N             seeds initialisation, shuffling, augmentation [1]\n"
"  --threads N          threads for GEMM and kernels [all cores]\n"
"  --arch 'TABLE'       network table: widths and M for max-pool\n"
"                       [64 64 M 128 128 M 256 256 256 M 512 512 512 M\n"
"                       512 512 512 M]\n"
"  --sync-bn            with mpirun: batch-norm statistics over the global\n"
"                       batch, not each process's share\n"
"  --no-overlap         with mpirun: sum the gradients after the backward\n"
"                       pass instead of layer by layer during it\n"
"Output\n"
"  --out FILE           checkpoint written atomically after every epoch\n"
"                       [model.bin; with --resume, the resumed file]\n"
"  --resume FILE        continue the run FILE stopped: weights, momentum,\n"
"                       batch-norm statistics, epoch, random state. Flags not\n"
"                       given default to the checkpoint's, the learning-rate\n"
"                       schedule's among them (schedule flags given change\n"
"                       it from there on); giving --classes, --arch,\n"
"                       --batch-size, --lr, --momentum, --weight-decay,\n"
"                       --seed or --limit-* a different value is an error\n"
"  --log FILE           append one row per epoch: CSV, or JSON Lines if FILE\n"
"                       ends in .jsonl or .json\n"
"  --batch-log FILE     append one row per training batch (epoch, batch,\n"
"                       lr, loss, acc, seconds), CSV or JSON Lines as\n"
"                       --log; written when its epoch is saved, so a\n"
"                       resumed run repeats no rows\n"
"  --curve FILE         learning curve, PNG or (.svg) SVG, redrawn every\n"
"                       epoch [none]\n"
"  --samples FILE       before training, a PNG grid of augmented training\n"
"                       images with their classes\n"
"  --quiet              print only the final result\n"
"  --help, --version\n"
"\n"
"On a terminal a progress line is redrawn during each epoch. Ctrl-C (or\n"
"SIGTERM) finishes the current batch, keeps the last checkpoint and says\n"
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

static int parse_args(options *o, int argc, char **argv) {
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
        } else if (args_match(prog, argc, argv, &i, "--epochs", &v)) {
            bad = !v || args_int(prog, "--epochs", v, 1, 100000, &o->epochs);
        } else if (args_match(prog, argc, argv, &i, "--classes", &v)) {
            bad = !v || args_int(prog, "--classes", v, 2, 10, &o->classes);
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
            bad = !v || args_int(prog, "--limit-test", v, 0, 1000000,
                                 &o->limit_test);
        } else if (args_match(prog, argc, argv, &i, "--lr", &v)) {
            bad = !v || args_float(prog, "--lr", v, 1e-12, 100.0, &o->lr);
        } else if (args_match(prog, argc, argv, &i, "--momentum", &v)) {
            bad = !v || args_float(prog, "--momentum", v, 0.0, 0.9999,
                                   &o->momentum);
        } else if (args_match(prog, argc, argv, &i, "--weight-decay", &v)) {
            bad = !v || args_float(prog, "--weight-decay", v, 0.0, 1.0,
                                   &o->weight_decay);
        } else if (args_match(prog, argc, argv, &i, "--seed", &v)) {
            bad = !v || args_u64(prog, "--seed", v, &o->seed);
        } else if (args_match(prog, argc, argv, &i, "--data", &v)) {
            bad = args_path(prog, "--data", v) != 0;
            o->data = v;
        } else if (args_match(prog, argc, argv, &i, "--arch", &v)) {
            bad = !v;
            o->arch = v;
        } else if (args_match(prog, argc, argv, &i, "--class-names", &v)) {
            bad = args_path(prog, "--class-names", v) != 0;
            o->class_names = v;
        } else if (args_match(prog, argc, argv, &i, "--out", &v)) {
            bad = args_path(prog, "--out", v) != 0;
            o->out = v;
        } else if (args_match(prog, argc, argv, &i, "--resume", &v)) {
            bad = args_path(prog, "--resume", v) != 0;
            o->resume = v;
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
                fprintf(stderr, "%s: %s %s: more than 16 schedule flags; "
                        "give each once\n", prog, flag, v);
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
    if (o->class_names && given("--classes")) {
        fprintf(stderr,
                "%s: --classes and --class-names both choose the classes; "
                "give one\n",
                prog);
        return EXIT_USAGE;
    }
    return 0;
}

/* Loads the classes chosen by --classes, --class-names or the checkpoint
 * being resumed (its class names). */
static vgg_status load_data(vgg_dataset *train, vgg_dataset *test,
                            const options *o, const vgg_ckpt_meta *ck,
                            vgg_error *err) {
    vgg_cifar_options copt = {o->data, o->classes, o->limit_train,
                              o->limit_test};
    char list[VGG_CIFAR_MAX_CLASSES * VGG_CLASS_NAME_MAX + 16];
    const char *names = o->class_names;
    if (!names && o->resume) {
        size_t k = 0;
        list[0] = 0;
        for (int c = 0; c < ck->cfg.classes; c++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s",
                                  c ? "," : "", ck->class_names[c]);
        names = list;
    }
    if (names) return vgg_cifar_load_named(train, test, &copt, names, err);
    return vgg_cifar_load(train, test, &copt, err);
}

/* comm: seconds rank 0 spent in gradient sums during the epoch's
 * training, or < 0 for one process. */
static void print_epoch(const vgg_epoch_record *r, int epochs, double comm) {
    printf("epoch %d/%d  lr %.5g  train_loss %.4f  train_acc %.2f%%  "
           "test_loss %.4f  test_acc %.2f%%  time %.1fs  %.0f img/s",
           r->epoch, epochs, r->lr, r->train_loss, 100.0 * r->train_acc,
           r->test_loss, 100.0 * r->test_acc, r->seconds,
           r->images_per_second);
    if (comm >= 0.0) printf("  allreduce %.1fs", comm);
    printf("\n");
    fflush(stdout);
}

/* A grid of the first 32 training images of epoch `ck->epoch + 1` as the
 * training loop will see them: the same shuffle and augmentation draws,
 * taken from a copy of the random state. */
static vgg_status write_samples(const char *path, const vgg_dataset *ds,
                                vgg_rng rng, vgg_error *err) {
    int *order = malloc(sizeof(int) * (size_t)ds->n);
    if (!order) return vgg_fail(err, VGG_ERR_NOMEM, "--samples: no memory");
    for (int i = 0; i < ds->n; i++) order[i] = i;
    vgg_rng_shuffle(&rng, order, ds->n);
    int n = ds->n < 32 ? ds->n : 32;
    vgg_augment_choice ch[32];
    vgg_augment_draw(ch, n, &rng);
    vgg_status st = vgg_plot_samples(path, ds, order, ch, n, 8, 3, err);
    free(order);
    return st;
}

int main(int argc, char **argv) {
    proc P;
    proc_start(&P, &argc, &argv);
    options o = {.epochs = 50, .classes = 3, .batch_size = 128,
                 .eval_batch_size = 100, .lr = 0.01f, .momentum = 0.9f,
                 .weight_decay = 5e-4f, .seed = 1,
                 .data = "data/cifar-10-batches-bin", .out = "model.bin"};
    vgg_schedule_init(&o.sched, o.lr);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = ncpu > 0 ? (int)ncpu : 1;
    int rc = parse_args(&o, argc, argv);
    if (rc) {
        proc_end(&P);
        return rc < 0 ? 0 : rc;
    }
    const int lead = P.rank == 0; /* prints, logs, writes checkpoints */

    vgg_error err = {0};
    char msg[2048];
    vgg_set_threads(o.threads);
    vgg_config cfg = vgg_config_vgg16(o.classes);
    if (o.arch && vgg_config_parse(&cfg, o.arch, o.classes, &err)) {
        if (lead) fprintf(stderr, "%s: --arch: %s\n", prog, err.msg);
        proc_end(&P);
        return EXIT_USAGE;
    }
    vgg_ckpt_meta ck;
    memset(&ck, 0, sizeof ck);
    if (o.resume) {
        rc = resume_options(&o, &cfg, &ck);
        if (rc) {
            proc_end(&P);
            return rc;
        }
    }
    if (o.resume) {
        /* the checkpoint's schedule, with the schedule flags given now
         * laid over it (they parsed once already) */
        o.sched = ck.sched;
        for (int i = 0; i < o.nsched; i++)
            vgg_schedule_set(&o.sched, o.sched_flag[i], o.sched_val[i], &err);
    }
    o.sched.base_lr = o.lr;
    if (vgg_schedule_check(&o.sched, o.epochs, &err)) {
        if (lead) fprintf(stderr, "%s: %s\n", prog, err.msg);
        vgg_ckpt_meta_free(&ck);
        proc_end(&P);
        return EXIT_USAGE;
    }
    /* the logs are first written after an epoch: find out now whether
     * they can be (the lead process writes them) */
    for (int b = 0; b < 2; b++) {
        const char *path = b ? o.batch_log : o.log;
        int bad = lead && path && vgg_metrics_check(path, b, &err);
        if (bad)
            snprintf(msg, sizeof msg, "%s: %s: %s\n", prog,
                     b ? "--batch-log" : "--log", err.msg);
        if (any_failed(&P, bad, msg)) {
            vgg_ckpt_meta_free(&ck);
            proc_end(&P);
            return 1;
        }
    }
    if (lead && !out_writable(o.out)) {
        vgg_ckpt_meta_free(&ck);
        proc_end(&P);
        return 1;
    }

    vgg_dataset train, test;
    vgg_status st = load_data(&train, &test, &o, &ck, &err);
    snprintf(msg, sizeof msg, "%s: %s\n%s", prog, err.msg,
             st == VGG_ERR_IO
                 ? "vggtrain: get the CIFAR-10 binary version with "
                   "scripts/get-cifar10, or pass --data DIR\n"
                 : "");
    if (any_failed(&P, st != VGG_OK, msg)) {
        vgg_ckpt_meta_free(&ck);
        proc_end(&P);
        return st == VGG_ERR_ARG ? EXIT_USAGE : 1;
    }
    cfg.classes = train.num_classes;

    vgg_model *m = NULL;
    int bmax = o.batch_size > o.eval_batch_size ? o.batch_size
                                                : o.eval_batch_size;
    st = vgg_model_create(&m, &cfg, bmax, &err);
    snprintf(msg, sizeof msg, "%s: %s\n", prog, err.msg);
    if (any_failed(&P, st != VGG_OK, msg)) {
        vgg_dataset_free(&train);
        vgg_dataset_free(&test);
        vgg_ckpt_meta_free(&ck);
        proc_end(&P);
        return 1;
    }
    proc_attach(&P, m, o.sync_bn, !o.no_overlap);
    /* Same seed, same initial weights on every process. */
    vgg_rng rng;
    vgg_rng_seed(&rng, o.seed, 0);
    vgg_model_init(m, &rng);
    if (o.resume) {
        st = vgg_checkpoint_load(o.resume, m, NULL, &err);
        snprintf(msg, sizeof msg, "%s: --resume: %s\n", prog, err.msg);
        if (any_failed(&P, st != VGG_OK, msg)) {
            vgg_model_free(m);
            vgg_dataset_free(&train);
            vgg_dataset_free(&test);
            vgg_ckpt_meta_free(&ck);
            proc_end(&P);
            return 1;
        }
        rng = ck.rng;
    } else {
        ck.cfg = cfg;
        for (int c = 0; c < cfg.classes; c++)
            memcpy(ck.class_names[c], train.class_names[c],
                   sizeof ck.class_names[c]);
        ck.seed = o.seed;
        ck.sgd = (vgg_sgd){o.lr, o.momentum, o.weight_decay};
        ck.batch_size = o.batch_size;
        ck.limit_train = o.limit_train;
        ck.limit_test = o.limit_test;
    }
    ck.sched = o.sched; /* the schedule in effect, for every checkpoint */

    char sched[128];
    vgg_schedule_describe(&o.sched, sched, sizeof sched);
    if (lead && !o.quiet) {
        printf("vggtrain %s: %zu parameters, %d classes (",
               VGG_VERSION_STRING, m->nparams, cfg.classes);
        for (int c = 0; c < cfg.classes; c++)
            printf("%s%s", c ? " " : "", train.class_names[c]);
        printf("), %d training and %d test images, batch %d, lr %s, %d "
               "threads, gemm %s",
               train.n, test.n, o.batch_size, sched, o.threads,
               vgg_gemm_name());
        if (P.size > 1)
            printf(", %d processes%s", P.size,
                   o.sync_bn ? " (synchronised batch norm)" : "");
        printf("\n");
        if (o.resume)
            printf("resuming %s after epoch %d of %d; checkpoints to %s\n",
                   o.resume, ck.epoch, o.epochs, o.out);
        fflush(stdout);
    }
    int status = 0;
    if (lead && o.samples && (st = write_samples(o.samples, &train, rng, &err))) {
        fprintf(stderr, "%s: --samples: %s\n", prog, err.msg);
        status = 1;
    }
    /* A fresh run writes its starting point, so that an interruption in
     * the first epoch leaves something to resume from. */
    if (lead && !status && !o.resume) {
        ck.rng = rng;
        if (vgg_checkpoint_save(o.out, m, &ck, &err)) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            status = 1;
        }
    }
    if (any_failed(&P, status, NULL)) {
        vgg_model_free(m);
        vgg_dataset_free(&train);
        vgg_dataset_free(&test);
        vgg_ckpt_meta_free(&ck);
        proc_end(&P);
        return 1;
    }

    catch_signals();
    /* (mpirun gives ranks a pseudo-terminal: no redrawing there) */
    progress prog_state = {.tty = lead && !o.quiet && P.size == 1 &&
                                  isatty(STDOUT_FILENO),
                           .epochs = o.epochs,
                           .P = &P};
    if (o.batch_log) {
        const int nb = (train.n + o.batch_size - 1) / o.batch_size;
        prog_state.rows = calloc((size_t)nb, sizeof *prog_state.rows);
        if (!prog_state.rows) {
            if (lead)
                fprintf(stderr, "%s: --batch-log: cannot allocate %d rows\n",
                        prog, nb);
            status = 1;
        }
    }
    vgg_epoch_record last = {0};
    int interrupted_in = 0;
    for (int e = ck.epoch + 1; e <= o.epochs && !status; e++) {
        if (stop_now(&P)) {
            interrupted_in = e;
            break;
        }
        vgg_sgd sgd = {vgg_lr_at(&o.sched, e, o.epochs), o.momentum,
                       o.weight_decay};
        vgg_epoch_stats tr, te;
        double t0 = vgg_now();
        prog_state.epoch = e;
        prog_state.epoch_start = t0;
        prog_state.lr = sgd.lr;
        prog_state.nrows = 0;
        const double comm0 = vgg_prof.seconds[VGG_PROF_COMM];
        st = vgg_train_epoch(m, &train, o.batch_size, &sgd, &rng, &tr,
                             on_batch, &prog_state, &err);
        if (prog_state.tty) printf("\r\033[K");
        if (st == VGG_ERR_INTERRUPTED) {
            interrupted_in = e;
            break;
        }
        if (st) {
            if (lead) {
                fprintf(stderr, "%s: epoch %d: %s\n", prog, e, err.msg);
                if (st == VGG_ERR_DIVERGED)
                    fprintf(stderr,
                            "%s: nothing was saved from epoch %d; %s holds "
                            "epoch %d, the last good state (try a lower "
                            "--lr)\n",
                            prog, e, o.out, ck.epoch);
            }
            status = st == VGG_ERR_DIVERGED ? EXIT_DIVERGED : 1;
            break;
        }
        double te0 = vgg_now();
        st = vgg_evaluate(m, &test, o.eval_batch_size, &te, NULL, NULL, &err);
        prog_state.eval_seconds = vgg_now() - te0;
        if (st) {
            if (lead) fprintf(stderr, "%s: epoch %d: %s\n", prog, e, err.msg);
            status = 1;
            break;
        }
        double secs = vgg_now() - t0;
        last = (vgg_epoch_record){e,
                                  sgd.lr,
                                  (float)(tr.loss_sum / tr.images),
                                  (float)tr.correct / tr.images,
                                  (float)(te.loss_sum / te.images),
                                  (float)te.correct / te.images,
                                  (float)secs,
                                  (float)(tr.images / tr.seconds)};
        /* The live rng is the next epoch's starting state: evaluation
         * draws nothing. */
        ck.epoch = e;
        ck.rng = rng;
        if (lead) {
            if (!o.quiet)
                print_epoch(&last, o.epochs,
                            P.size > 1 ? vgg_prof.seconds[VGG_PROF_COMM] - comm0
                                       : -1.0);
            if (vgg_ckpt_meta_add_epoch(&ck, &last, &err) ||
                vgg_checkpoint_save(o.out, m, &ck, &err)) {
                fprintf(stderr, "%s: epoch %d: %s\n", prog, e, err.msg);
                status = 1;
            } else if (o.log && vgg_metrics_append(o.log, &last, &err)) {
                fprintf(stderr, "%s: --log: %s\n", prog, err.msg);
                status = 1;
            } else if (o.batch_log &&
                       vgg_metrics_append_batches(o.batch_log, prog_state.rows,
                                                  prog_state.nrows, &err)) {
                fprintf(stderr, "%s: --batch-log: %s\n", prog, err.msg);
                status = 1;
            } else if (o.curve && vgg_plot_curve(o.curve, ck.history,
                                                 ck.nhistory, &err)) {
                fprintf(stderr, "%s: --curve: %s\n", prog, err.msg);
                status = 1;
            }
        }
        if (any_failed(&P, status, NULL) && !status) status = 1;
    }
    if (interrupted_in && lead) {
        fprintf(stderr,
                "%s: %s during epoch %d; %s holds epoch %d. Continue with:\n"
                "  vggtrain --resume %s%s\n",
                prog, stop_signal == SIGTERM ? "terminated" : "interrupted",
                interrupted_in, o.out, ck.epoch, o.out,
                o.data && strcmp(o.data, "data/cifar-10-batches-bin")
                    ? " --data DIR"
                    : "");
    }
    if (interrupted_in) status = 128 + stop_signal;
    if (lead && !status && o.quiet && last.epoch) print_epoch(&last, o.epochs, -1.0);
    free(prog_state.rows);
    vgg_model_free(m);
    vgg_dataset_free(&train);
    vgg_dataset_free(&test);
    vgg_ckpt_meta_free(&ck);
    proc_end(&P);
    return status;
}
