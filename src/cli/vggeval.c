/* vggeval: scores a vggtrain checkpoint on the test split of the classes
 * it was trained on (CIFAR-10, CIFAR-100 or an image folder), or
 * classifies PNG and JPEG images, with the checkpoint's input size and
 * normalisation. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common/args.h"
#include "cli/common/outputs.h"
#include "vgg/augment.h"
#include "vgg/checkpoint.h"
#include "vgg/cifar.h"
#include "vgg/data.h"
#include "vgg/image.h"
#include "vgg/plot.h"
#include "vgg/predict.h"
#include "vgg/conv_choice.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/train.h"

static const char *prog = "vggeval";

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: vggeval MODEL [options]\n"
        "       vggeval MODEL IMAGE... [--top K]\n"
        "Scores a vggtrain checkpoint (MODEL, e.g. model.bin) on the test "
        "split of\n"
        "the classes it was trained on, and prints the number of images, the "
        "test\n"
        "loss and accuracy, the accuracy per class and the confusion matrix. "
        "Given\n"
        "PNG or JPEG images instead, prints each one's top classes with their\n"
        "probabilities. Images are brought to the checkpoint's input size "
        "(area\n"
        "averaging when shrinking, bilinear when enlarging; the aspect ratio "
        "is\n"
        "not kept) and normalised with its stored statistics; grey, palette, "
        "CMYK\n"
        "and alpha images are converted to RGB (alpha dropped).\n"
        "\n"
        "  --data DIR         the data: CIFAR-10 binary (test_batch.bin),\n"
        "                     CIFAR-100 binary (test.bin) or an image folder\n"
        "                     (DIR/test/CLASS/*, or DIR/CLASS/* with "
        "--val-split)\n"
        "                     [data/cifar-10-batches-bin]\n"
        "  --labels KIND      CIFAR-100: fine or coarse [the one whose names "
        "are\n"
        "                     the checkpoint's]\n"
        "  --val-split F      image folder of class folders only: score the "
        "test\n"
        "                     part vggtrain drew (give its --val-split and "
        "--seed)\n"
        "  --seed N           with --val-split [1]\n"
        "  --skip-bad-images  image folder: skip bad images with a warning\n"
        "  --batch-size N     images per forward pass; does not change the\n"
        "                     results [100]\n"
        "  --threads N        threads for GEMM and kernels [all cores]\n"
        "  --conv MODE        convolution algorithm: direct, winograd or auto\n"
        "                     (each layer by the faster, measured at "
        "start-up)\n"
        "                     [direct]\n"
        "  --limit-test N     score only the first N test images of the "
        "model's\n"
        "                     classes (0: all) [0]\n"
        "  --json             print one JSON object instead of the report\n"
        "  --confusion FILE   also draw the confusion matrix as a heat map "
        "with\n"
        "                     the class names: PNG, or SVG if FILE ends in "
        ".svg\n"
        "  --logits FILE      also write every test image's logits as CSV: a\n"
        "                     header, then one row per image in file order "
        "(its\n"
        "                     label, then one column per class, %%.9g)\n"
        "  --top K            with IMAGE arguments: classes shown per image "
        "[3]\n"
        "  --help             this text\n"
        "  --version          the version\n"
        "\n"
        "Exit status: 0 done, 1 runtime error (unreadable or bad checkpoint "
        "or\n"
        "data), 2 usage error.\n");
}

/* The test split only: the checkpoint's classes (by name, so that a model
 * trained with --class-names gets its own), relabelled 0..k-1 in the
 * checkpoint's order, in file order. */
static vgg_status load_test(vgg_dataset *ds, const char *dir,
                            const vgg_ckpt_meta *meta, int limit,
                            vgg_error *err) {
    char path[4096];
    memset(ds, 0, sizeof *ds);
    if (snprintf(path, sizeof path, "%s/batches.meta.txt", dir) >=
        (int)sizeof path)
        return vgg_fail(err, VGG_ERR_ARG, "--data %s: path too long", dir);
    vgg_status st = vgg_cifar_read_meta(ds, path, err);
    if (st) return st;
    const int K = meta->cfg.classes;
    int map[VGG_CIFAR_MAX_CLASSES];
    for (int l = 0; l < VGG_CIFAR_MAX_CLASSES; l++) {
        map[l] = -1;
        for (int c = 0; c < K; c++)
            if (!strcmp(ds->class_names[l], meta->class_names[c])) map[l] = c;
    }
    for (int c = 0; c < K; c++) {
        int found = 0;
        for (int l = 0; l < VGG_CIFAR_MAX_CLASSES; l++) found |= map[l] == c;
        if (!found)
            return vgg_fail(err, VGG_ERR_MISMATCH,
                            "%s: the checkpoint's class '%s' is not one of "
                            "the data set's classes",
                            path, meta->class_names[c]);
    }
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    st = vgg_cifar_read_file(ds, path, VGG_CIFAR_MAX_CLASSES, 0, err);
    if (st) {
        vgg_dataset_free(ds);
        return st;
    }
    int n = 0;
    for (int i = 0; i < ds->n && (limit <= 0 || n < limit); i++) {
        int c = map[ds->labels[i]];
        if (c < 0) continue;
        if (n != i)
            memcpy(ds->pixels + (size_t)n * VGG_CIFAR_PIXELS,
                   ds->pixels + (size_t)i * VGG_CIFAR_PIXELS, VGG_CIFAR_PIXELS);
        ds->labels[n++] = (uint8_t)c;
    }
    ds->n = n;
    ds->num_classes = K;
    for (int c = 0; c < K; c++)
        memcpy(ds->class_names[c], meta->class_names[c], VGG_CLASS_NAME_MAX);
    if (n == 0) {
        vgg_dataset_free(ds);
        return vgg_fail(err, VGG_ERR_FORMAT,
                        "%s: no test images of the checkpoint's classes", path);
    }
    return VGG_OK;
}

/* The test split of any other layout (include/vgg/data.h), with the
 * checkpoint's classes by name, side and statistics. */
typedef struct eval_data {
    const char *labels;
    float val_split;
    uint64_t seed;
    int skip_bad;
} eval_data;

static void on_bad_image(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "%s: warning: skipped %s\n", prog, msg);
}

static vgg_status load_other(vgg_dataset *ds, const char *dir,
                             const vgg_ckpt_meta *meta, int limit,
                             const eval_data *e, vgg_error *err) {
    char list[VGG_MAX_CLASSES * VGG_CLASS_NAME_MAX + 16];
    size_t k = 0;
    list[0] = 0;
    for (int c = 0; c < meta->cfg.classes; c++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", c ? "," : "",
                              meta->class_names[c]);
    vgg_data_options d = {0};
    d.dir = dir;
    d.class_names = list;
    d.limit_test = limit;
    d.side = meta->cfg.side;
    d.val_split = e->val_split;
    d.seed = e->seed;
    d.skip_bad = e->skip_bad;
    d.test_only = 1;
    d.normalize = VGG_NORM_GIVEN;
    memcpy(d.mean, meta->mean, sizeof d.mean);
    memcpy(d.std, meta->std, sizeof d.std);
    d.on_bad = on_bad_image;
    d.labels_given = e->labels != NULL;
    d.labels = e->labels && !strcmp(e->labels, "coarse")
                   ? VGG_CIFAR100_LABELS_COARSE
                   : VGG_CIFAR100_LABELS_FINE;
    vgg_dataset train;
    vgg_data_report rep;
    vgg_status st = vgg_data_load(&train, ds, &d, &rep, err);
    if (st == VGG_ERR_ARG && rep.layout == VGG_LAYOUT_CIFAR100 &&
        !e->labels) { /* not fine names: the coarse ones? */
        vgg_error e2 = {0};
        d.labels = VGG_CIFAR100_LABELS_COARSE;
        if (vgg_data_load(&train, ds, &d, &rep, &e2) == VGG_OK) st = VGG_OK;
    }
    vgg_dataset_free(&train);
    return st;
}

static int print_json(const char *path, const vgg_ckpt_meta *meta,
                      const vgg_epoch_stats *st, const int *conf) {
    const int K = meta->cfg.classes;
    json_t *per = json_array(), *rows = json_array();
    for (int i = 0; i < K; i++) {
        int total = 0;
        json_t *row = json_array();
        for (int j = 0; j < K; j++) {
            total += conf[i * K + j];
            json_array_append_new(row, json_integer(conf[i * K + j]));
        }
        json_array_append_new(rows, row);
        json_array_append_new(
            per,
            json_pack("{s:s, s:i, s:i, s:f}", "name", meta->class_names[i],
                      "correct", conf[i * K + i], "total", total, "accuracy",
                      total ? (double)conf[i * K + i] / total : 0.0));
    }
    json_t *o = json_pack(
        "{s:s, s:i, s:i, s:i, s:f, s:f, s:o, s:o}", "checkpoint", path, "epoch",
        meta->epoch, "images", st->images, "correct", st->correct, "accuracy",
        (double)st->correct / st->images, "loss", st->loss_sum / st->images,
        "per_class", per, "confusion", rows);
    if (!o) return -1;
    int rc = json_dumpf(o, stdout, JSON_INDENT(1)) || putchar('\n') == EOF;
    json_decref(o);
    return rc ? -1 : 0;
}

static void print_report(const char *path, const char *data,
                         const vgg_ckpt_meta *meta, const vgg_model *m,
                         const vgg_epoch_stats *st, const int *conf) {
    const int K = meta->cfg.classes;
    char conv[160];
    vgg_model_conv_summary(m, conv, sizeof conv);
    printf("vggeval %s: %s: epoch %d, %d classes, %zu parameters, conv %s\n",
           VGG_VERSION_STRING, path, meta->epoch, K, m->nparams, conv);
    vgg_layout layout = VGG_LAYOUT_NONE;
    vgg_layout_detect(data, &layout, NULL);
    if (layout == VGG_LAYOUT_CIFAR100)
        printf("test split: %s/test.bin\n", data);
    else if (layout == VGG_LAYOUT_FOLDER)
        printf("test split: %s (image folder), input %dx%d\n", data,
               meta->cfg.side, meta->cfg.side);
    else
        printf("test split: %s/test_batch.bin\n", data);
    printf("images %d  correct %d  test_loss %.4f  test_acc %.2f%%\n",
           st->images, st->correct, st->loss_sum / st->images,
           100.0 * st->correct / st->images);
    int w = 5;
    for (int i = 0; i < K; i++) {
        int len = (int)strlen(meta->class_names[i]);
        if (len > w) w = len;
    }
    printf("\n%-*s  %7s  %7s  %8s\n", w, "class", "correct", "total",
           "accuracy");
    for (int i = 0; i < K; i++) {
        int total = 0;
        for (int j = 0; j < K; j++) total += conf[i * K + j];
        if (total)
            printf("%-*s  %7d  %7d  %7.2f%%\n", w, meta->class_names[i],
                   conf[i * K + i], total, 100.0 * conf[i * K + i] / total);
        else
            printf("%-*s  %7d  %7d  %8s\n", w, meta->class_names[i], 0, 0, "-");
    }
    printf("\nconfusion matrix (rows: true class, columns: predicted)\n");
    printf("%-*s", w, "");
    for (int j = 0; j < K; j++) printf("  %*s", w, meta->class_names[j]);
    printf("\n");
    for (int i = 0; i < K; i++) {
        printf("%-*s", w, meta->class_names[i]);
        for (int j = 0; j < K; j++) printf("  %*d", w, conf[i * K + j]);
        printf("\n");
    }
}

/* --logits FILE: label and logits of each test image, CSV, written as
 * every output is (vgg_output: atomic for a file, in place for a device or
 * a FIFO). */
static vgg_status write_logits(const char *path, const vgg_dataset *ds,
                               const vgg_ckpt_meta *meta, const float *z,
                               vgg_error *err) {
    vgg_output o;
    vgg_status st =
        vgg_output_open(&o, path, "logits", VGG_OUTPUT_REPLACE, err);
    if (st) return st;
    const int K = meta->cfg.classes;
    fprintf(o.f, "label");
    for (int k = 0; k < K; k++) fprintf(o.f, ",%s", meta->class_names[k]);
    fprintf(o.f, "\n");
    for (int i = 0; i < ds->n; i++) {
        fprintf(o.f, "%d", ds->labels[i]);
        for (int k = 0; k < K; k++) fprintf(o.f, ",%.9g", z[(size_t)i * K + k]);
        fprintf(o.f, "\n");
    }
    return vgg_output_close(&o, err);
}

/* vggeval MODEL IMAGE.png...: the top classes of each image, with
 * probabilities. Returns the exit status. */
static int predict_images(vgg_model *m, const vgg_ckpt_meta *meta,
                          char **images, int nimages, int top) {
    const int K = meta->cfg.classes;
    vgg_dataset one;
    memset(&one, 0, sizeof one);
    const int S = meta->cfg.side;
    uint8_t *px = malloc(3 * (size_t)S * S), label = 0;
    if (!px) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    one.n = 1;
    one.pixels = px;
    one.labels = &label;
    one.side = S;
    memcpy(one.mean, meta->mean, sizeof one.mean);
    memcpy(one.std, meta->std, sizeof one.std);
    int idx = 0, status = 0;
    if (top > K) top = K;
    for (int i = 0; i < nimages; i++) {
        vgg_error err = {0};
        vgg_image img = {0};
        if (vgg_image_read(images[i], &img, &err) ||
            vgg_image_to_planar(px, &img, S, &err)) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            vgg_image_free(&img);
            status = 1;
            continue;
        }
        int w = img.width, h = img.height;
        vgg_image_free(&img);
        vgg_augment_batch(m->input, m->labels, &one, &idx, 1, NULL);
        int correct;
        vgg_model_forward(m, 1, 0, &correct);
        if (vgg_model_status(m, &err)) {
            fprintf(stderr, "%s: %s: %s\n", prog, images[i], err.msg);
            status = 1;
            break;
        }
        vgg_prediction p[VGG_CIFAR_MAX_CLASSES];
        int k = vgg_top_k(p, top, m->logits, K);
        printf("%s", images[i]);
        if (w != S || h != S) printf(" (%dx%d, resized to %dx%d)", w, h, S, S);
        printf(":");
        for (int j = 0; j < k; j++)
            printf("  %s %.4f", meta->class_names[p[j].label], p[j].prob);
        printf("\n");
    }
    free(px);
    return status;
}

int main(int argc, char **argv) {
    cli_gemm_report();
    const char *model_path = NULL, *data = "data/cifar-10-batches-bin";
    const char *confusion_png = NULL, *logits_csv = NULL;
    float *logits = NULL;
    /* Freed on every return, usage errors included (LeakSanitizer). */
    char **images = calloc((size_t)argc, sizeof *images);
    if (!images) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    int nimages = 0, top = 3;
    int batch_size = 100, limit_test = 0, json = 0;
    vgg_conv_mode conv = VGG_CONV_MODE_DIRECT;
    eval_data ed = {NULL, 0.0f, 1, 0};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = ncpu > 0 ? (int)ncpu : 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int bad = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(images);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("vggeval %s\n", VGG_VERSION_STRING);
            free(images);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--skip-bad-images")) {
            ed.skip_bad = 1;
        } else if (args_match(prog, argc, argv, &i, "--labels", &v)) {
            bad = !v || (strcmp(v, "fine") && strcmp(v, "coarse"));
            if (bad && v)
                fprintf(stderr, "%s: --labels %s: expected fine or coarse\n",
                        prog, v);
            ed.labels = v;
        } else if (args_match(prog, argc, argv, &i, "--val-split", &v)) {
            bad = !v || args_float(prog, "--val-split", v, 0.001, 0.999,
                                   &ed.val_split);
        } else if (args_match(prog, argc, argv, &i, "--seed", &v)) {
            bad = !v || args_u64(prog, "--seed", v, &ed.seed);
        } else if (args_match(prog, argc, argv, &i, "--batch-size", &v)) {
            bad = !v || args_int(prog, "--batch-size", v, 1, 4096, &batch_size);
        } else if (args_match(prog, argc, argv, &i, "--threads", &v)) {
            bad = !v || args_int(prog, "--threads", v, 1, 256, &threads);
        } else if (args_match(prog, argc, argv, &i, "--conv", &v)) {
            vgg_error e;
            bad = !v || vgg_conv_mode_parse(&conv, v, "--conv", &e);
            if (v && bad) fprintf(stderr, "%s: %s\n", prog, e.msg);
        } else if (args_match(prog, argc, argv, &i, "--limit-test", &v)) {
            bad = !v ||
                  args_int(prog, "--limit-test", v, 0, 1000000, &limit_test);
        } else if (args_match(prog, argc, argv, &i, "--data", &v)) {
            bad = args_path(prog, "--data", v) != 0;
            data = v;
        } else if (args_match(prog, argc, argv, &i, "--confusion", &v)) {
            bad = args_path(prog, "--confusion", v) != 0;
            confusion_png = v;
        } else if (args_match(prog, argc, argv, &i, "--logits", &v)) {
            bad = args_path(prog, "--logits", v) != 0;
            logits_csv = v;
        } else if (args_match(prog, argc, argv, &i, "--top", &v)) {
            bad = !v || args_int(prog, "--top", v, 1, 10, &top);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "%s: unknown option '%s'; see --help\n", prog,
                    argv[i]);
            free(images);
            return EXIT_USAGE;
        } else if (model_path) {
            images[nimages++] = argv[i];
        } else {
            model_path = argv[i];
        }
        if (bad) {
            free(images);
            return EXIT_USAGE;
        }
    }
    if (!model_path) {
        fprintf(stderr,
                "%s: missing MODEL, the checkpoint to score (e.g. "
                "model.bin); see --help\n",
                prog);
        free(images);
        return EXIT_USAGE;
    }
    vgg_set_threads(threads);

    /* --confusion and --logits are written after the scoring: check them
     * before */
    cli_output out[2] = {
        {"--confusion", confusion_png, VGG_OUTPUT_REPLACE, NULL, {0}},
        {"--logits", logits_csv, VGG_OUTPUT_REPLACE, NULL, {0}}};
    cli_input in[CLI_CIFAR_FILES + 1];
    char names[CLI_CIFAR_FILES][4200];
    int nin = cli_cifar_inputs(data, in, names);
    in[nin++] = (cli_input){model_path, "the checkpoint scored"};
    int rc = cli_outputs_check(prog, out, 2, in, nin);
    for (int i = 0; i < nimages && !rc; i++)
        for (int k = 0; k < 2 && !rc; k++)
            if (out[k].path && vgg_output_same_file(&out[k].t, images[i])) {
                fprintf(stderr,
                        "%s: %s %s: is the image %s, an input; "
                        "give the output another name\n",
                        prog, out[k].flag, out[k].path, images[i]);
                cli_outputs_release(out, 2);
                rc = EXIT_USAGE;
            }
    if (rc) {
        free(images);
        return rc;
    }

    vgg_error err = {0};
    vgg_ckpt_meta meta;
    if (vgg_checkpoint_read_meta(model_path, &meta, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        cli_outputs_release(out, 2);
        free(images);
        return 1;
    }
    vgg_model *m = NULL;
    vgg_dataset test;
    memset(&test, 0, sizeof test);
    int *conf = NULL;
    int status = 1;
    vgg_epoch_stats st;
    if (vgg_model_create(&m, &meta.cfg, batch_size, &err) ||
        vgg_checkpoint_load(model_path, m, NULL, &err) ||
        vgg_model_set_conv(m, conv, batch_size, 0, NULL, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        goto done;
    }
    if (nimages) {
        if (json || confusion_png || limit_test || logits_csv)
            fprintf(stderr,
                    "%s: --json, --confusion, --logits and --limit-test "
                    "apply to scoring the test set, not to images; "
                    "ignored\n",
                    prog);
        status = predict_images(m, &meta, images, nimages, top);
        goto done;
    }
    vgg_layout layout = VGG_LAYOUT_NONE;
    vgg_layout_detect(data, &layout, NULL);
    if (layout != VGG_LAYOUT_CIFAR10 && layout != VGG_LAYOUT_NONE
            ? load_other(&test, data, &meta, limit_test, &ed, &err)
            : load_test(&test, data, &meta, limit_test, &err) ||
                  vgg_dataset_resize(&test, meta.cfg.side, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        if (err.status == VGG_ERR_IO)
            fprintf(stderr,
                    "%s: put the CIFAR-10 binary version in %s (see "
                    "scripts/get-cifar10) or pass --data DIR\n",
                    prog, data);
        goto done;
    }
    memcpy(test.mean, meta.mean, sizeof test.mean);
    memcpy(test.std, meta.std, sizeof test.std);
    conf = calloc((size_t)meta.cfg.classes * meta.cfg.classes, sizeof *conf);
    if (logits_csv)
        logits = malloc(sizeof(float) * (size_t)test.n * meta.cfg.classes);
    if (!conf || (logits_csv && !logits)) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto done;
    }
    if (vgg_evaluate(m, &test, batch_size, &st, conf, logits, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        goto done;
    }
    if (json) {
        if (print_json(model_path, &meta, &st, conf)) {
            fprintf(stderr, "%s: cannot write the JSON report\n", prog);
            goto done;
        }
    } else {
        print_report(model_path, data, &meta, m, &st, conf);
    }
    if (confusion_png &&
        vgg_plot_confusion(confusion_png, conf, meta.cfg.classes,
                           (const char(*)[VGG_CLASS_NAME_MAX])meta.class_names,
                           &err)) {
        fprintf(stderr, "%s: --confusion: %s\n", prog, err.msg);
        goto done;
    }
    if (logits_csv && write_logits(logits_csv, &test, &meta, logits, &err)) {
        fprintf(stderr, "%s: --logits: %s\n", prog, err.msg);
        goto done;
    }
    if (fflush(stdout)) {
        perror(prog);
        goto done;
    }
    status = 0;
done:
    cli_outputs_release(out, 2);
    free(images);
    free(logits);
    free(conf);
    vgg_dataset_free(&test);
    vgg_model_free(m);
    vgg_ckpt_meta_free(&meta);
    return status;
}
