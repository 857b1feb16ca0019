/* vggtrain: trains VGG16-BN on CIFAR-10 classes and writes checkpoints.
 * Exit status: 0 done, 1 runtime error, 2 usage error, 3 training diverged,
 * 128+signal when interrupted (130 for Ctrl-C).
 *
 * The command line is train_options.c, --resume's settings train_resume.c,
 * signals and printed progress train_progress.c, processes (one, or MPI
 * ranks) dist.c; this file sets a run up and runs its epochs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common/args.h"
#include "cli/common/outputs.h"
#include "cli/dist.h"
#include "cli/train_options.h"
#include "cli/train_progress.h"
#include "cli/train_resume.h"
#include "vgg/augment.h"
#include "vgg/checkpoint.h"
#include "vgg/cifar.h"
#include "vgg/classes.h"
#include "vgg/conv_choice.h"
#include "vgg/data.h"
#include "vgg/gemm.h"
#include "vgg/init.h"
#include "vgg/metrics.h"
#include "vgg/model.h"
#include "vgg/plot.h"
#include "vgg/profile.h"
#include "vgg/rng.h"
#include "vgg/schedule.h"
#include "vgg/train.h"

enum { EXIT_DIVERGED = 3 };

static const char *prog = "vggtrain";

enum { NOUTPUTS = 5 }; /* --out, --log, --batch-log, --curve, --samples */

/* Everything a run holds; zeroed, then freed in one place (main). */
typedef struct run {
    vgg_ckpt_meta ck; /* what each checkpoint records */
    vgg_dataset train, test;
    vgg_model *m;
    vgg_rng rng;
    progress prog;
    cli_output outputs[NOUTPUTS]; /* checked; FIFOs held open */
    int argc; /* the command line, for the start-up agreement */
    char **argv;
} run;

/* Every output path, checked before the data is loaded: kinds, folders,
 * permissions, inputs (the data; the resumed checkpoint may be --out),
 * FIFO readers, and that the logs will take rows. Returns 0 or the exit
 * status. held keeps FIFOs open for the run. */
static int check_outputs(const options *o, cli_output *held) {
    const cli_output list[NOUTPUTS] = {
        {"--out", o->out, VGG_OUTPUT_REPLACE, o->resume, {0}},
        {"--log", o->log, VGG_OUTPUT_APPEND, NULL, {0}},
        {"--batch-log", o->batch_log, VGG_OUTPUT_APPEND, NULL, {0}},
        {"--curve", o->curve, VGG_OUTPUT_REPLACE, NULL, {0}},
        {"--samples", o->samples, VGG_OUTPUT_REPLACE, NULL, {0}}};
    memcpy(held, list, sizeof list);
    cli_input in[CLI_CIFAR_FILES + 1];
    char names[CLI_CIFAR_FILES][4200];
    int nin = cli_cifar_inputs(o->data, in, names);
    in[nin++] = (cli_input){o->resume, "the checkpoint resumed"};
    int rc = cli_outputs_check(prog, held, NOUTPUTS, in, nin);
    /* the logs must also be ours to add to (a CSV under their header) */
    for (int b = 0; b < 2 && !rc; b++) {
        const char *path = b ? o->batch_log : o->log;
        vgg_error err = {0};
        if (path && vgg_metrics_check(path, b, &err)) {
            fprintf(stderr, "%s: %s: %s\n", prog, b ? "--batch-log" : "--log",
                    err.msg);
            cli_outputs_release(held, NOUTPUTS);
            rc = 1;
        }
    }
    return rc;
}

/* The decoding progress of an image folder: a redrawn line on a terminal,
 * warnings for skipped images (the lead process only). */
typedef struct load_ui {
    int lead, tty;
} load_ui;

static void on_decode(void *user, int done, int total) {
    const load_ui *u = user;
    if (!u->lead || !u->tty) return;
    printf("\r\033[Kdecoding %d/%d files", done, total);
    fflush(stdout);
}

static void on_bad_image(void *user, const char *msg) {
    const load_ui *u = user;
    if (u->lead) fprintf(stderr, "%s: warning: skipped %s\n", prog, msg);
}

/* Loads --data in whatever layout it holds, with the classes chosen by
 * --classes, --class-names or the checkpoint being resumed (its class
 * names, size and normalisation). */
static vgg_status load_data(vgg_dataset *train, vgg_dataset *test,
                            const options *o, const vgg_ckpt_meta *ck,
                            load_ui *ui, vgg_data_report *rep, vgg_error *err) {
    char list[VGG_MAX_CLASSES * VGG_CLASS_NAME_MAX + 16];
    vgg_data_options d = {0};
    d.dir = o->data;
    d.classes = o->classes;
    d.class_names = o->class_names;
    d.limit_train = o->limit_train;
    d.limit_test = o->limit_test;
    d.side = o->image_size;
    d.labels = o->labels && !strcmp(o->labels, "coarse")
                   ? VGG_CIFAR100_LABELS_COARSE
                   : VGG_CIFAR100_LABELS_FINE;
    d.labels_given = o->labels != NULL;
    d.val_split = o->val_split;
    d.seed = o->seed;
    d.skip_bad = o->skip_bad;
    d.cache = o->cache;
    d.progress = on_decode;
    d.on_bad = on_bad_image;
    d.user = ui;
    if (o->normalize) vgg_normalize_parse(o->normalize, &d.normalize, NULL);
    if (o->resume) {
        /* the run's own classes, in its order, and its statistics */
        size_t k = 0;
        list[0] = 0;
        for (int c = 0; c < ck->cfg.classes; c++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s",
                                  c ? "," : "", ck->class_names[c]);
        if (!d.class_names) d.class_names = list;
        d.classes = 0;
        d.normalize = VGG_NORM_GIVEN;
        memcpy(d.mean, ck->mean, sizeof d.mean);
        memcpy(d.std, ck->std, sizeof d.std);
    } else if (!train_given("--classes") && !o->class_names) {
        d.classes = 0; /* every class, but CIFAR-10's default of 3 */
        if (vgg_layout_detect(o->data, &rep->layout, NULL) == VGG_OK &&
            rep->layout == VGG_LAYOUT_CIFAR10)
            d.classes = o->classes;
    }
    vgg_status st = vgg_data_load(train, test, &d, rep, err);
    if (ui->tty && ui->lead && rep->layout == VGG_LAYOUT_FOLDER)
        printf("\r\033[K");
    return st;
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

/* Everything before the first epoch: the network, --resume's settings,
 * the schedule, the outputs' checks, the data, the model and its start.
 * Returns 0 or an exit status, after printing why (once, from the lowest
 * failing rank). */
static int setup(run *r, options *o, proc *P) {
    const int lead = P->rank == 0; /* prints, logs, writes checkpoints */
    vgg_error err = {0};
    char msg[2048];
    vgg_set_threads(o->threads);
    vgg_config cfg = vgg_config_vgg16(o->classes);
    if (o->arch && vgg_config_parse(&cfg, o->arch, o->classes, &err)) {
        if (lead) fprintf(stderr, "%s: --arch: %s\n", prog, err.msg);
        return EXIT_USAGE;
    }
    if (o->head && vgg_config_set_head(&cfg, o->head, &err)) {
        if (lead) fprintf(stderr, "%s: --head: %s\n", prog, err.msg);
        return EXIT_USAGE;
    }
    vgg_ckpt_meta *ck = &r->ck;
    if (o->resume) {
        int rc = train_resume_options(o, &cfg, ck);
        if (rc) return rc;
        /* the checkpoint's schedule, with the schedule flags given now
         * laid over it (they parsed once already) */
        o->sched = ck->sched;
        for (int i = 0; i < o->nsched; i++)
            vgg_schedule_set(&o->sched, o->sched_flag[i], o->sched_val[i],
                             &err);
    }
    o->sched.base_lr = o->lr;
    if (vgg_schedule_check(&o->sched, o->epochs, &err)) {
        if (lead) fprintf(stderr, "%s: %s\n", prog, err.msg);
        return EXIT_USAGE;
    }
    /* every output is first written after loading the data, most after
     * an epoch: find out now whether they can be (the lead writes them) */
    int rc = lead ? check_outputs(o, r->outputs) : 0;
    if (any_failed(P, rc != 0, NULL)) return rc ? rc : 1;

    if (o->samples && o->image_size != VGG_CIFAR_SIDE) {
        if (lead)
            fprintf(stderr,
                    "%s: --samples: draws 32x32 images only; drop "
                    "it with --image-size %d\n",
                    prog, o->image_size);
        return EXIT_USAGE;
    }
    load_ui ui = {lead,
                  lead && !o->quiet && P->size == 1 && isatty(STDOUT_FILENO)};
    vgg_data_report rep;
    memset(&rep, 0, sizeof rep);
    vgg_status st = load_data(&r->train, &r->test, o, ck, &ui, &rep, &err);
    snprintf(msg, sizeof msg, "%s: %s\n%s", prog, err.msg,
             st == VGG_ERR_IO
                 ? "vggtrain: get the CIFAR-10 binary version with "
                   "scripts/get-cifar10, or pass --data DIR\n"
                 : "");
    if (any_failed(P, st != VGG_OK, msg))
        return st == VGG_ERR_ARG ? EXIT_USAGE : 1;
    cfg.classes = r->train.num_classes;
    cfg.side = o->image_size;
    if (lead && !o->quiet && rep.layout == VGG_LAYOUT_FOLDER) {
        const vgg_folder_report *f = &rep.folder;
        printf("%s %s: %d images %s in %.2fs (%.0f images/s), %d "
               "resized to %dx%d, %d other entries skipped",
               vgg_layout_name(rep.layout), o->data, f->images,
               f->cache == VGG_FOLDER_CACHE_READ ? "read from the cache"
                                                 : "decoded",
               f->seconds, f->seconds > 0 ? f->images / f->seconds : 0.0,
               f->resized, o->image_size, o->image_size, f->skipped);
        if (f->bad) printf(", %d bad images skipped", f->bad);
        printf("\n");
        if (f->cache == VGG_FOLDER_CACHE_WRITTEN)
            printf("cache %s written\n", o->cache);
        if (f->cache == VGG_FOLDER_CACHE_MISSED)
            fprintf(stderr, "%s: warning: --cache: %s\n", prog,
                    f->cache_error[0] ? f->cache_error
                                      : "a file could not be stat'ed; not "
                                        "written");
    }
    if (lead && o->cache && rep.layout != VGG_LAYOUT_FOLDER) {
        fprintf(stderr, "%s: --cache: only for image folders; %s holds %s\n",
                prog, o->data, vgg_layout_name(rep.layout));
        return EXIT_USAGE;
    }
    if (lead && !o->quiet &&
        (rep.layout != VGG_LAYOUT_CIFAR10 || o->normalize ||
         o->image_size != VGG_CIFAR_SIDE))
        printf("input %dx%d, normalize %s: mean %.4f,%.4f,%.4f std "
               "%.4f,%.4f,%.4f\n",
               o->image_size, o->image_size, vgg_normalize_name(rep.normalize),
               r->train.mean[0], r->train.mean[1], r->train.mean[2],
               r->train.std[0], r->train.std[1], r->train.std[2]);

    int bmax =
        o->batch_size > o->eval_batch_size ? o->batch_size : o->eval_batch_size;
    st = vgg_model_create(&r->m, &cfg, bmax, &err);
    snprintf(msg, sizeof msg, "%s: %s\n", prog, err.msg);
    if (any_failed(P, st != VGG_OK, msg)) return 1;
    vgg_model *m = r->m;
    proc_attach(P, m, o->sync_bn, !o->no_overlap);
    /* Same seed, same initial weights on every process. */
    vgg_rng_seed(&r->rng, o->seed, 0);
    vgg_model_init(m, &r->rng);
    int init_tensors = 0;
    if (o->init) {
        st = vgg_model_init_features(m, o->init, &init_tensors, &err);
        snprintf(msg, sizeof msg, "%s: %s\n", prog, err.msg);
        if (any_failed(P, st != VGG_OK, msg)) return 1;
    }
    if (o->resume) {
        st = vgg_checkpoint_load(o->resume, m, NULL, &err);
        snprintf(msg, sizeof msg, "%s: --resume: %s\n", prog, err.msg);
        if (any_failed(P, st != VGG_OK, msg)) return 1;
        r->rng = ck->rng;
    } else {
        ck->cfg = cfg;
        for (int c = 0; c < cfg.classes; c++)
            memcpy(ck->class_names[c], r->train.class_names[c],
                   sizeof ck->class_names[c]);
        ck->seed = o->seed;
        ck->sgd = (vgg_sgd){o->lr, o->momentum, o->weight_decay};
        ck->batch_size = o->batch_size;
        ck->limit_train = o->limit_train;
        ck->limit_test = o->limit_test;
        memcpy(ck->mean, r->train.mean, sizeof ck->mean);
        memcpy(ck->std, r->train.std, sizeof ck->std);
    }
    ck->sched = o->sched; /* the schedule in effect, for every checkpoint */
    if (proc_agree_run(P, r->argc, r->argv, &r->train, &r->test, m, &r->rng))
        return 1;
    st = vgg_model_set_conv(m, o->conv, o->batch_size, 1, NULL, &err);
    snprintf(msg, sizeof msg, "%s: --conv %s: %s\n", prog,
             vgg_conv_mode_name(o->conv), err.msg);
    if (any_failed(P, st != VGG_OK, msg)) return 1;
    char conv[160];
    vgg_model_conv_summary(m, conv, sizeof conv);

    char sched[128];
    vgg_schedule_describe(&o->sched, sched, sizeof sched);
    if (lead && !o->quiet) {
        printf("vggtrain %s: %zu parameters, %d classes (", VGG_VERSION_STRING,
               m->nparams, cfg.classes);
        for (int c = 0; c < cfg.classes; c++)
            printf("%s%s", c ? " " : "", r->train.class_names[c]);
        printf("), %d training and %d test images, batch %d, lr %s, %d "
               "threads, gemm %s, conv %s: %s",
               r->train.n, r->test.n, o->batch_size, sched, o->threads,
               vgg_gemm_name(), vgg_conv_mode_name(o->conv), conv);
        if (P->size > 1)
            printf(", %d processes%s", P->size,
                   o->sync_bn ? " (synchronised batch norm)" : "");
        printf("\n");
        vgg_config d = vgg_config_vgg16(cfg.classes);
        if (!vgg_config_equal(&cfg, &d)) { /* not the default network */
            const char *name = vgg_config_name(&cfg);
            char table[VGG_MAX_LAYERS * 8 + 1], head[32];
            vgg_config_format(table, sizeof table, &cfg);
            vgg_config_format_head(head, sizeof head, &cfg);
            printf("network %s%s, head %s\n", name ? name : table,
                   !name && cfg.no_bn ? " without batch norm" : "", head);
        }
        if (o->resume)
            printf("resuming %s after epoch %d of %d; checkpoints to %s\n",
                   o->resume, ck->epoch, o->epochs, o->out);
        if (o->init)
            printf("init: %d convolution and batch-norm tensors from %s; "
                   "classifier new for %d classes, optimizer fresh\n",
                   init_tensors, o->init, cfg.classes);
        fflush(stdout);
    }
    int status = 0;
    if (lead && o->samples &&
        (st = write_samples(o->samples, &r->train, r->rng, &err))) {
        fprintf(stderr, "%s: --samples: %s\n", prog, err.msg);
        status = 1;
    }
    /* A fresh run writes its starting point, so that an interruption in
     * the first epoch leaves something to resume from. */
    if (lead && !status && !o->resume) {
        ck->rng = r->rng;
        if (vgg_checkpoint_save(o->out, m, ck, &err)) {
            fprintf(stderr, "%s: --out: %s\n", prog, err.msg);
            status = 1;
        }
    }
    if (any_failed(P, status, NULL)) return 1;

    catch_signals();
    /* (mpirun gives ranks a pseudo-terminal: no redrawing there) */
    r->prog = (progress){.tty = lead && !o->quiet && P->size == 1 &&
                                isatty(STDOUT_FILENO),
                         .epochs = o->epochs,
                         .P = P};
    if (o->batch_log) {
        const int nb = (r->train.n + o->batch_size - 1) / o->batch_size;
        r->prog.rows = calloc((size_t)nb, sizeof *r->prog.rows);
        if (!r->prog.rows) {
            if (lead)
                fprintf(stderr, "%s: --batch-log: cannot allocate %d rows\n",
                        prog, nb);
            return 1;
        }
    }
    return 0;
}

/* Saves the epoch just run: its checkpoint, then the logs and the curve.
 * Returns 0 or 1 after printing why. */
static int save_epoch(run *r, const options *o, const vgg_epoch_record *rec) {
    vgg_error err = {0};
    vgg_ckpt_meta *ck = &r->ck;
    if (vgg_ckpt_meta_add_epoch(ck, rec, &err) ||
        vgg_checkpoint_save(o->out, r->m, ck, &err)) {
        fprintf(stderr, "%s: epoch %d: %s\n", prog, rec->epoch, err.msg);
        return 1;
    }
    if (o->log && vgg_metrics_append(o->log, rec, &err)) {
        fprintf(stderr, "%s: --log: %s\n", prog, err.msg);
        return 1;
    }
    if (o->batch_log && vgg_metrics_append_batches(o->batch_log, r->prog.rows,
                                                   r->prog.nrows, &err)) {
        fprintf(stderr, "%s: --batch-log: %s\n", prog, err.msg);
        return 1;
    }
    if (o->curve && vgg_plot_curve(o->curve, ck->history, ck->nhistory, &err)) {
        fprintf(stderr, "%s: --curve: %s\n", prog, err.msg);
        return 1;
    }
    return 0;
}

/* The epochs from the one after ck.epoch to o->epochs, each trained,
 * evaluated and saved. Returns the exit status. */
static int run_epochs(run *r, const options *o, const proc *P) {
    const int lead = P->rank == 0;
    vgg_error err = {0};
    vgg_ckpt_meta *ck = &r->ck;
    progress *pr = &r->prog;
    vgg_epoch_record last = {0};
    int status = 0, interrupted_in = 0;
    for (int e = ck->epoch + 1; e <= o->epochs && !status; e++) {
        if (stop_now(P)) {
            interrupted_in = e;
            break;
        }
        vgg_sgd sgd = {vgg_lr_at(&o->sched, e, o->epochs), o->momentum,
                       o->weight_decay};
        vgg_epoch_stats tr, te;
        double t0 = vgg_now();
        pr->epoch = e;
        pr->epoch_start = t0;
        pr->lr = sgd.lr;
        pr->nrows = 0;
        const double comm0 = vgg_prof.seconds[VGG_PROF_COMM];
        vgg_status st = vgg_train_epoch(r->m, &r->train, o->batch_size, &sgd,
                                        &r->rng, &tr, on_batch, pr, &err);
        if (pr->tty) printf("\r\033[K");
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
                            prog, e, o->out, ck->epoch);
            }
            status = st == VGG_ERR_DIVERGED ? EXIT_DIVERGED : 1;
            break;
        }
        double te0 = vgg_now();
        st = vgg_evaluate(r->m, &r->test, o->eval_batch_size, &te, NULL, NULL,
                          &err);
        pr->eval_seconds = vgg_now() - te0;
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
        ck->epoch = e;
        ck->rng = r->rng;
        if (proc_agree_state(P, r->m, &r->rng, e)) {
            status = 1;
            break;
        }
        if (lead) {
            if (!o->quiet)
                print_epoch(&last, o->epochs,
                            P->size > 1
                                ? vgg_prof.seconds[VGG_PROF_COMM] - comm0
                                : -1.0);
            status = save_epoch(r, o, &last);
        }
        if (any_failed(P, status, NULL) && !status) status = 1;
    }
    if (interrupted_in && lead) {
        fprintf(stderr,
                "%s: %s during epoch %d; %s holds epoch %d. Continue with:\n"
                "  %svggtrain --resume %s%s\n",
                prog, stop_signal == SIGTERM ? "terminated" : "interrupted",
                interrupted_in, o->out, ck->epoch,
                P->size > 1 ? "mpirun [the same options] " : "", o->out,
                o->data && strcmp(o->data, "data/cifar-10-batches-bin")
                    ? " --data DIR"
                    : "");
    }
    if (interrupted_in) status = 128 + stop_signal;
    if (lead && !status && o->quiet && last.epoch)
        print_epoch(&last, o->epochs, -1.0);
    return status;
}

int main(int argc, char **argv) {
    cli_gemm_report();
    proc P;
    proc_start(&P, &argc, &argv);
    options o;
    train_options_init(&o);
    int status = train_parse_args(&o, argc, argv);
    if (!status) proc_watch(&P, o.mpi_timeout);
    run r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < NOUTPUTS; i++) r.outputs[i].t.fd = -1;
    r.argc = argc;
    r.argv = argv;
    if (!status) status = setup(&r, &o, &P);
    if (!status) status = run_epochs(&r, &o, &P);
    free(r.prog.rows);
    cli_outputs_release(r.outputs, NOUTPUTS);
    vgg_model_free(r.m);
    vgg_dataset_free(&r.train);
    vgg_dataset_free(&r.test);
    vgg_ckpt_meta_free(&r.ck);
    proc_end(&P);
    return status < 0 ? 0 : status; /* -1: --help or --version */
}
