/* vggbench: times warm training steps and evaluation batches of VGG16-BN
 * on a fixed pseudo-random batch, and says where a step's time goes.
 *
 * A training step is vgg_train_step, what vgg_train_epoch does per batch
 * minus the augmentation: forward, zero_grad, backward, the
 * finite-gradient check, vgg_sgd_step. An evaluation batch is a forward pass
 * with running statistics. The same batch is reused for every step: the figures
 * are about speed, not learning. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/bench_latency.h"
#include "cli/common/args.h"
#include "vgg/conv_choice.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/profile.h"
#include "vgg/rng.h"
#include "vgg/train.h"

static const char *prog = "vggbench";

typedef struct options {
    int steps, warmup, batch_size, eval_batch_size, threads, classes;
    int verbose, json, gemm_only;
    const char *latency, *onnx; /* --latency MODEL, --onnx FILE */
    const char *gemm;           /* a name for vgg_gemm_select */
    vgg_conv_mode conv;
    uint64_t seed;
} options;

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: vggbench [options]\n"
        "Times warm training steps (forward, zero_grad, backward, SGD) and\n"
        "evaluation batches of VGG16 with batch norm on a fixed pseudo-random\n"
        "batch, and prints images/s, GFLOP/s, the share of a step spent in "
        "GEMM,\n"
        "im2col/col2im, batch norm+ReLU, pooling and the rest, and peak "
        "memory.\n"
        "\n"
        "  --steps N            timed steps (and evaluation batches) [10]\n"
        "  --warmup N           untimed steps before them [2]\n"
        "  --batch-size N       training batch [128]\n"
        "  --eval-batch-size N  evaluation batch [100]\n"
        "  --threads N          threads for GEMM and kernels [all cores]\n"
        "  --classes N          classifier outputs [3]\n"
        "  --gemm NAME          the GEMM: auto, openblas, or a kernel this "
        "CPU\n"
        "                       runs (generic, avx2, avx512, neon) [auto]\n"
        "  --conv MODE          convolution algorithm: direct, winograd or "
        "auto\n"
        "                       (each layer's pass by the faster, measured at\n"
        "                       start-up) [direct]\n"
        "  --seed N             seeds weights and the batch [1]\n"
        "  --gemm-only          time only the GEMMs of a training step on the\n"
        "                       convolution shapes (vgg_gemm and cblas_sgemm)\n"
        "  --latency MODEL      instead: evaluation latency of checkpoint "
        "MODEL at\n"
        "                       batch 1 and 100 (median of --steps calls), "
        "ours,\n"
        "                       PyTorch's (/usr/bin/python3 with torch) and "
        "ONNX\n"
        "                       Runtime's (onnxruntime-node) on its ONNX "
        "export,\n"
        "                       side by side; same images, threads and "
        "network\n"
        "  --onnx FILE          with --latency: the export to run in ONNX "
        "Runtime\n"
        "                       [exported from MODEL to a temporary file]\n"
        "  --verbose            per-layer breakdown, and each conv pass timed "
        "by\n"
        "                       every algorithm that fits\n"
        "  --json               one JSON object on stdout instead of the text\n"
        "  --help               this text\n"
        "\n"
        "Exit status: 0 done, 1 runtime error, 2 usage error.\n");
}

/* ---- small statistics ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct summary {
    double median, min, max;
} summary;

static summary summarise(const double *v, int n) {
    double *s = malloc(sizeof(double) * (size_t)n);
    summary r = {0, 0, 0};
    if (!s || n < 1) {
        free(s);
        return r;
    }
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    r.min = s[0];
    r.max = s[n - 1];
    r.median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return r;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

/* ---- FLOPs from the model's shapes (multiply-add = 2 FLOP) ---- */

/* The configuration's walk (vgg_arch_walk): the shapes the model is
 * built from. */
static vgg_arch walk;

static double conv_flops(int i) { return 2.0 * walk.layers[i].macs; }

/* Per image. Backward: weight gradient as forward, input gradient as
 * forward except for the first convolution (its input is the image). */
static void model_flops(const vgg_model *m, double *fwd, double *bwd) {
    double f = 0.0, b = 0.0;
    int first = 1;
    if (vgg_arch_walk(&walk, &m->cfg, NULL)) {
        *fwd = *bwd = 0.0;
        return;
    }
    for (int i = 0; i < walk.nlayers; i++) {
        const vgg_arch_layer *L = &walk.layers[i];
        if (L->kind == VGG_LAYER_POOL) continue;
        f += 2.0 * L->macs;
        b += 2.0 * L->macs * (first ? 1.0 : 2.0);
        first = 0;
    }
    *fwd = f;
    *bwd = b;
}

/* ---- --gemm-only: the GEMMs of one training step, nothing else ---- */

typedef struct gemm_shape {
    int layer, pass; /* pass 0 forward, 1 weight gradient, 2 input gradient */
    int transa, transb, M, N, K, lda, ldb, ldc;
    float beta;
} gemm_shape;

static const char *const pass_names[3] = {"fwd", "dW", "dX"};

/* The conv GEMMs of a training step, exactly as src/nn/conv.c calls them. */
static int conv_shapes(const vgg_model *m, int n, gemm_shape *s) {
    int k = 0, first = 1;
    for (int i = 0; i < m->nlayers; i++) {
        const vgg_layer *L = &m->layers[i];
        if (L->kind != VGG_LAYER_CONV) continue;
        const int M = n * L->H * L->W, K = L->cin * 9, C = L->cout;
        s[k++] = (gemm_shape){i, 0, 0, 0, C, M, K, K, M, M, 1.0f};
        s[k++] = (gemm_shape){i, 1, 0, 1, C, K, M, M, M, K, 1.0f};
        if (!first) s[k++] = (gemm_shape){i, 2, 1, 0, K, M, C, K, M, M, 0.0f};
        first = 0;
    }
    return k;
}

typedef void (*gemm_fn)(int, int, int, int, int, float, const float *, int,
                        const float *, int, float, float *, int);

/* vgg_gemm as a gemm_fn: it cannot fail here (it falls back to OpenBLAS
 * when its buffers cannot be had). */
static void gemm_dispatch(int ta, int tb, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc) {
    (void)vgg_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Runs every shape once per pass; per-pass total rates go to rate[],
 * per-shape seconds are summed into shape_s[]. Operands (A, B, C buffers)
 * are reused: the values do not matter, only the shapes. */
static void gemm_passes(gemm_fn f, const gemm_shape *s, int ns, float *w,
                        float *d, float *x, int warmup, int steps, double *rate,
                        double *shape_s) {
    for (int it = 0; it < warmup + steps; it++) {
        double flops = 0.0, secs = 0.0;
        for (int j = 0; j < ns; j++) {
            const gemm_shape *g = &s[j];
            const float *A = g->pass == 1 ? d : w;
            const float *B = g->pass == 2 ? d : x;
            float *C = g->pass == 0 ? d : g->pass == 1 ? w : x;
            double t = vgg_now();
            f(g->transa, g->transb, g->M, g->N, g->K, 1.0f, A, g->lda, B,
              g->ldb, g->beta, C, g->ldc);
            t = vgg_now() - t;
            flops += 2.0 * g->M * g->N * g->K;
            secs += t;
            if (it >= warmup) shape_s[j] += t;
        }
        if (it >= warmup) rate[it - warmup] = flops / secs / 1e9;
    }
}

static int run_gemm_only(const options *o, vgg_model *m) {
    gemm_shape s[3 * VGG_MAX_LAYERS];
    const int ns = conv_shapes(m, o->batch_size, s);
    size_t wmax = 0, dmax = 0, xmax = 0;
    for (int j = 0; j < ns; j++) {
        const vgg_layer *L = &m->layers[s[j].layer];
        size_t M = (size_t)o->batch_size * L->H * L->W, K = (size_t)L->cin * 9;
        if ((size_t)L->cout * K > wmax) wmax = (size_t)L->cout * K;
        if ((size_t)L->cout * M > dmax) dmax = (size_t)L->cout * M;
        if (K * M > xmax) xmax = K * M;
    }
    float *w = malloc(wmax * sizeof(float)), *d = malloc(dmax * sizeof(float));
    float *x = malloc(xmax * sizeof(float));
    double *rate = malloc(sizeof(double) * 2 * (size_t)o->steps);
    double *shape_s = calloc(2 * (size_t)ns, sizeof(double));
    if (!w || !d || !x || !rate || !shape_s) {
        fprintf(stderr,
                "%s: --gemm-only: cannot allocate %.0f MB of operands\n", prog,
                (double)(wmax + dmax + xmax) * 4 / 1e6);
        free(w), free(d), free(x), free(rate), free(shape_s);
        return 1;
    }
    vgg_rng rng;
    vgg_rng_seed(&rng, o->seed, 7);
    for (size_t i = 0; i < wmax; i++) w[i] = vgg_rng_uniform(&rng) - 0.5f;
    for (size_t i = 0; i < dmax; i++) d[i] = vgg_rng_uniform(&rng) - 0.5f;
    for (size_t i = 0; i < xmax; i++) x[i] = vgg_rng_uniform(&rng) - 0.5f;

    /* vgg_gemm (the dispatcher, whatever it picked) and cblas_sgemm. */
    const int both = strcmp(vgg_gemm_name(), "openblas") != 0;
    gemm_passes(gemm_dispatch, s, ns, w, d, x, o->warmup, o->steps, rate,
                shape_s);
    if (both)
        gemm_passes(vgg_gemm_openblas, s, ns, w, d, x, o->warmup, o->steps,
                    rate + o->steps, shape_s + ns);
    summary r0 = summarise(rate, o->steps);
    summary r1 = both ? summarise(rate + o->steps, o->steps) : r0;
    double step_flops = 0.0;
    for (int j = 0; j < ns; j++) step_flops += 2.0 * s[j].M * s[j].N * s[j].K;
    const char *ct = getenv("OPENBLAS_CORETYPE");

    if (o->json) {
        printf(
            "{\"mode\":\"gemm-only\",\"gemm\":\"%s\",\"threads\":%d,"
            "\"batch_size\":%d,\"steps\":%d,\"warmup\":%d,"
            "\"step_gflop\":%.3f,\"openblas_coretype\":\"%s\","
            "\"openblas_corename\":\"%s\","
            "\"vgg_gemm_gflops\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
            "\"openblas_gflops\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f}",
            vgg_gemm_name(), o->threads, o->batch_size, o->steps, o->warmup,
            step_flops / 1e9, ct ? ct : "", vgg_openblas_corename(), r0.median,
            r0.min, r0.max, r1.median, r1.min, r1.max);
        if (o->verbose) {
            printf(",\"shapes\":[");
            for (int j = 0; j < ns; j++) {
                double fl = 2.0 * s[j].M * s[j].N * s[j].K * o->steps;
                printf("%s{\"layer\":%d,\"pass\":\"%s\",\"M\":%d,\"N\":%d,"
                       "\"K\":%d,\"vgg_gemm_gflops\":%.1f,"
                       "\"openblas_gflops\":%.1f}",
                       j ? "," : "", s[j].layer, pass_names[s[j].pass], s[j].M,
                       s[j].N, s[j].K, fl / shape_s[j] / 1e9,
                       fl / (both ? shape_s[ns + j] : shape_s[j]) / 1e9);
            }
            printf("]");
        }
        printf("}\n");
    } else {
        printf("vggbench --gemm-only: the %d GEMMs of a training step at batch "
               "%d (%.1f GFLOP), %d threads, OPENBLAS_CORETYPE=%s\n",
               ns, o->batch_size, step_flops / 1e9, o->threads,
               ct ? ct : "(unset)");
        printf("  vgg_gemm (%s)  median %.1f GFLOP/s  (min %.1f, max %.1f)\n",
               vgg_gemm_name(), r0.median, r0.min, r0.max);
        if (both)
            printf("  cblas_sgemm     median %.1f GFLOP/s  (min %.1f, max "
                   "%.1f); OpenBLAS kernels: %s\n",
                   r1.median, r1.min, r1.max, vgg_openblas_corename());
        if (o->verbose) {
            printf("  layer pass  %6s %7s %5s  %s GFLOP/s%s\n", "M", "N", "K",
                   vgg_gemm_name(), both ? "  openblas GFLOP/s" : "");
            for (int j = 0; j < ns; j++) {
                double fl = 2.0 * s[j].M * s[j].N * s[j].K * o->steps;
                printf("  %5d %-4s  %6d %7d %5d  %8.1f", s[j].layer,
                       pass_names[s[j].pass], s[j].M, s[j].N, s[j].K,
                       fl / shape_s[j] / 1e9);
                if (both) printf("  %8.1f", fl / shape_s[ns + j] / 1e9);
                printf("\n");
            }
        }
    }
    free(w), free(d), free(x), free(rate), free(shape_s);
    return 0;
}

/* ---- the full benchmark ---- */

/* Profile names as JSON keys: "batchnorm+relu" -> "batchnorm_relu". */
static void json_key(char *buf, size_t n, int kind) {
    const char *s = vgg_prof_name((vgg_prof_kind)kind);
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        buf[i] = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
                     ? s[i]
                     : '_';
    buf[i] = 0;
}

static void layer_label(char *buf, size_t n, const vgg_model *m, int i) {
    if (i == m->nlayers) {
        snprintf(buf, n, "classifier %d->%d", m->features, m->cfg.classes);
        return;
    }
    const vgg_layer *L = &m->layers[i];
    if (L->kind == VGG_LAYER_POOL)
        snprintf(buf, n, "maxpool %d %dx%d", L->cout, L->H, L->W);
    else
        snprintf(buf, n, "conv %d->%d %dx%d", L->cin, L->cout, L->H, L->W);
}

/* Each conv pass by each algorithm, as measured at start-up (the best of
 * two calls after an untimed one), and what auto picks from that. */
static void print_conv_times(const vgg_model *m, const vgg_conv_times *t) {
    static const char *pass[] = {"forward", "input gradient",
                                 "weight gradient"};
    printf("\nconv passes by algorithm at batch %d, measured at "
           "start-up (ms, best of two; x: direct over the faster Winograd; "
           "*: what auto picks)\n",
           m->batch_max);
    printf("  %3s  %-22s", "#", "layer");
    for (int p = 0; p < VGG_PASS_COUNT; p++) printf(" | %-32s", pass[p]);
    printf("\n  %3s  %-22s", "", "");
    for (int p = 0; p < VGG_PASS_COUNT; p++)
        printf(" | %8s %8s %8s %5s", "direct", "wino4", "wino2", "x");
    printf("\n");
    for (int i = 0; i < m->nlayers; i++) {
        const vgg_layer *L = &m->layers[i];
        if (L->kind != VGG_LAYER_CONV) continue;
        char lab[64];
        layer_label(lab, sizeof lab, m, i);
        printf("  #%-2d  %-22s", i, lab);
        for (int p = 0; p < VGG_PASS_COUNT; p++) {
            const double *s =
                &t->sec[(i * VGG_PASS_COUNT + p) * VGG_CONV_NALGO];
            /* auto's rule (conv_choice.c): Winograd must beat direct by
             * 5% */
            double best = s[0], fast = -1.0;
            int pick = 0;
            for (int a = 1; a < VGG_CONV_NALGO; a++) {
                if (s[a] < 0) continue;
                if (fast < 0 || s[a] < fast) fast = s[a];
                if (s[0] >= 0 && s[a] < best && s[a] < 0.95 * s[0]) {
                    best = s[a];
                    pick = a;
                }
            }
            printf(" |");
            for (int a = 0; a < VGG_CONV_NALGO; a++) {
                if (s[a] < 0)
                    printf(" %8s", "-");
                else
                    printf(" %7.1f%c", 1e3 * s[a], a == pick ? '*' : ' ');
            }
            if (s[0] > 0 && fast > 0)
                printf(" %5.2f", s[0] / fast);
            else
                printf(" %5s", "-");
        }
        printf("\n");
    }
}

int main(int argc, char **argv) {
    cli_gemm_report();
    options o = {.steps = 10,
                 .warmup = 2,
                 .batch_size = 128,
                 .eval_batch_size = 100,
                 .classes = 3,
                 .seed = 1,
                 .gemm = "auto"};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = ncpu > 0 ? (int)ncpu : 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int bad = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
            o.verbose = 1;
        } else if (!strcmp(argv[i], "--json")) {
            o.json = 1;
        } else if (!strcmp(argv[i], "--gemm-only")) {
            o.gemm_only = 1;
        } else if (args_match(prog, argc, argv, &i, "--latency", &v)) {
            bad = args_path(prog, "--latency", v) != 0;
            o.latency = v;
        } else if (args_match(prog, argc, argv, &i, "--onnx", &v)) {
            bad = args_path(prog, "--onnx", v) != 0;
            o.onnx = v;
        } else if (args_match(prog, argc, argv, &i, "--steps", &v)) {
            bad = !v || args_int(prog, "--steps", v, 1, 100000, &o.steps);
        } else if (args_match(prog, argc, argv, &i, "--warmup", &v)) {
            bad = !v || args_int(prog, "--warmup", v, 0, 100000, &o.warmup);
        } else if (args_match(prog, argc, argv, &i, "--batch-size", &v)) {
            bad =
                !v || args_int(prog, "--batch-size", v, 1, 4096, &o.batch_size);
        } else if (args_match(prog, argc, argv, &i, "--eval-batch-size", &v)) {
            bad = !v || args_int(prog, "--eval-batch-size", v, 1, 4096,
                                 &o.eval_batch_size);
        } else if (args_match(prog, argc, argv, &i, "--threads", &v)) {
            bad = !v || args_int(prog, "--threads", v, 1, 256, &o.threads);
        } else if (args_match(prog, argc, argv, &i, "--classes", &v)) {
            bad = !v || args_int(prog, "--classes", v, 2, 1000, &o.classes);
        } else if (args_match(prog, argc, argv, &i, "--conv", &v)) {
            vgg_error e;
            bad = !v || vgg_conv_mode_parse(&o.conv, v, "--conv", &e);
            if (v && bad) fprintf(stderr, "%s: %s\n", prog, e.msg);
        } else if (args_match(prog, argc, argv, &i, "--seed", &v)) {
            bad = !v || args_u64(prog, "--seed", v, &o.seed);
        } else if (args_match(prog, argc, argv, &i, "--gemm", &v)) {
            bad = !v;
            if (v) o.gemm = v;
        } else {
            fprintf(stderr, "%s: unknown option '%s'; see --help\n", prog,
                    argv[i]);
            return EXIT_USAGE;
        }
        if (bad) return EXIT_USAGE;
    }

    vgg_set_threads(o.threads);
    {
        vgg_error gerr = {0};
        if (vgg_gemm_select(o.gemm, &gerr)) {
            fprintf(stderr, "%s: --gemm: %s\n", prog, gerr.msg);
            return EXIT_USAGE;
        }
    }
    if (o.latency) {
        /* the build folder (tests/torch_dump) is this program's */
        char bin[4096] = ".";
        ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
        if (n > 0) {
            bin[n] = 0;
            char *slash = strrchr(bin, '/');
            if (slash) *slash = 0;
        }
        return bench_latency(o.latency, o.onnx, bin, o.threads, o.steps,
                             o.warmup, o.json);
    }

    vgg_error err = {0};
    vgg_config cfg = vgg_config_vgg16(o.classes);
    vgg_model *m = NULL;
    int bmax =
        o.batch_size > o.eval_batch_size ? o.batch_size : o.eval_batch_size;
    if (vgg_model_create(&m, &cfg, bmax, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return 1;
    }
    vgg_rng rng;
    vgg_rng_seed(&rng, o.seed, 0);
    vgg_model_init(m, &rng);
    if (o.gemm_only) {
        int rc = run_gemm_only(&o, m);
        vgg_model_free(m);
        return rc;
    }

    /* A fixed batch: inputs uniform in [-2, 2) (the range of normalised
     * CIFAR pixels), labels uniform over the classes. */
    const size_t in_n = (size_t)3 * bmax * cfg.side * cfg.side;
    for (size_t i = 0; i < in_n; i++)
        m->input[i] = 4.0f * vgg_rng_uniform(&rng) - 2.0f;
    for (int i = 0; i < bmax; i++)
        m->labels[i] = (uint8_t)vgg_rng_below(&rng, (uint32_t)o.classes);

    /* --verbose measures every algorithm (what auto does) whatever the
     * mode, for its table. */
    static vgg_conv_times ctimes;
    if ((o.verbose && vgg_model_set_conv(m, VGG_CONV_MODE_AUTO, o.batch_size, 1,
                                         &ctimes, &err)) ||
        ((!o.verbose || o.conv != VGG_CONV_MODE_AUTO) &&
         vgg_model_set_conv(m, o.conv, o.batch_size, 1, NULL, &err))) {
        fprintf(stderr, "%s: --conv %s: %s\n", prog, vgg_conv_mode_name(o.conv),
                err.msg);
        vgg_model_free(m);
        return 1;
    }
    char conv[160];
    vgg_model_conv_summary(m, conv, sizeof conv);

    double fwd_flops, bwd_flops;
    model_flops(m, &fwd_flops, &bwd_flops);
    const double train_flops = fwd_flops + bwd_flops; /* per image */
    const int nl = m->nlayers + 1;
    double *layer_s = o.verbose ? calloc(4 * (size_t)nl, sizeof(double)) : NULL;
    double *step_s = malloc(sizeof(double) * (size_t)o.steps);
    double *rate = malloc(sizeof(double) * (size_t)o.steps);
    double *eval_rate = malloc(sizeof(double) * (size_t)o.steps);
    /* The FMA peak, measured for 0.1 s before each timed step, and each
     * step's GEMM rate (a share of the highest peak, below). */
    double *peak = malloc(sizeof(double) * (size_t)o.steps);
    double *gemm_of_peak = malloc(sizeof(double) * (size_t)o.steps);
    if ((o.verbose && !layer_s) || !step_s || !rate || !eval_rate || !peak ||
        !gemm_of_peak) {
        fprintf(stderr, "%s: cannot allocate the timing tables\n", prog);
        vgg_model_free(m);
        return 1;
    }

    /* Training: warm up, then time each step with a fresh profile. */
    vgg_sgd sgd = {0.01f, 0.9f, 5e-4f};
    double cat[VGG_PROF_COUNT] = {0}, gemm_flops = 0.0, total_s = 0.0;
    int status = 0;
    for (int it = 0; it < o.warmup + o.steps && !status; it++) {
        const int timed = it >= o.warmup;
        const double pk = timed ? vgg_fma_peak(o.threads, 0.1) : 0.0;
        m->layer_seconds = timed ? layer_s : NULL;
        vgg_prof_reset();
        double t = vgg_now();
        double loss;
        int correct;
        vgg_error serr = {0};
        if (vgg_train_step(m, o.batch_size, o.batch_size, &sgd, &loss, &correct,
                           &serr)) {
            fprintf(stderr, "%s: training step %d: %s\n", prog, it + 1,
                    serr.msg);
            status = 1;
            break;
        }
        t = vgg_now() - t;
        if (!timed) continue;
        const int k = it - o.warmup;
        step_s[k] = t;
        rate[k] = o.batch_size / t;
        total_s += t;
        peak[k] = pk;
        gemm_of_peak[k] =
            vgg_prof.seconds[VGG_PROF_GEMM] > 0.0
                ? vgg_prof.gemm_flops / vgg_prof.seconds[VGG_PROF_GEMM] / 1e9
                : 0.0; /* a rate, over the peak below */
        for (int c = 0; c < VGG_PROF_COUNT; c++) cat[c] += vgg_prof.seconds[c];
        gemm_flops += vgg_prof.gemm_flops;
    }
    m->layer_seconds = NULL;

    /* Evaluation batches. */
    for (int it = 0; it < o.warmup + o.steps && !status; it++) {
        int correct;
        double t = vgg_now();
        vgg_model_forward(m, o.eval_batch_size, 0, &correct);
        t = vgg_now() - t;
        if (vgg_model_status(m, &err)) {
            fprintf(stderr, "%s: evaluation: %s\n", prog, err.msg);
            status = 1;
        }
        if (it >= o.warmup) eval_rate[it - o.warmup] = o.eval_batch_size / t;
    }
    if (status) {
        free(layer_s), free(step_s), free(rate), free(eval_rate);
        free(peak), free(gemm_of_peak);
        vgg_model_free(m);
        return status;
    }

    const summary tr = summarise(rate, o.steps);
    const summary ev = summarise(eval_rate, o.steps);
    const summary st = summarise(step_s, o.steps);
    const summary pk = summarise(peak, o.steps);
    /* Shares are over the highest peak measured in the run: the loop can
     * only be slowed by other work on the host, never sped up, so the
     * highest is the nearest to what the cores can do; against each
     * step's own peak, a step that ran while the probe before it was
     * slowed read over 100%. */
    for (int k = 0; k < o.steps; k++)
        gemm_of_peak[k] = pk.max > 0.0 ? gemm_of_peak[k] / pk.max : 0.0;
    const summary gp = summarise(gemm_of_peak, o.steps);
    /* The probe checked: its FLOP per cycle against the nominal figure. */
    const double fpc = pk.max > 0.0 ? vgg_fma_flop_per_cycle(0.2) : 0.0;
    const double ghz = pk.max > 0.0 ? vgg_clock_ghz(0.05) : 0.0;
    const double gflops_step = train_flops * tr.median / 1e9;
    const double gemm_rate =
        cat[VGG_PROF_GEMM] > 0 ? gemm_flops / cat[VGG_PROF_GEMM] / 1e9 : 0.0;
    /* Shares of the summed step time; "other" is the rest, which includes
     * what the kernels time as VGG_PROF_OTHER and what nobody times
     * (zero_grad, loop overhead). */
    double share[VGG_PROF_COUNT];
    double named = 0.0;
    for (int c = 0; c < VGG_PROF_COUNT; c++) {
        if (c == VGG_PROF_OTHER) continue;
        share[c] = cat[c] / total_s;
        named += share[c];
    }
    share[VGG_PROF_OTHER] = 1.0 - named;
    const double untimed = 1.0 - named - cat[VGG_PROF_OTHER] / total_s;
    const double rss = peak_rss_mb();
    const char *ct = getenv("OPENBLAS_CORETYPE");

    if (o.json) {
        printf("{\"impl\":\"vggtrain\",\"version\":\"%s\",\"gemm\":\"%s\","
               "\"threads\":%d,\"classes\":%d,\"batch_size\":%d,"
               "\"eval_batch_size\":%d,\"steps\":%d,\"warmup\":%d,"
               "\"openblas_coretype\":\"%s\",\"openblas_corename\":\"%s\","
               "\"conv\":\"%s\",\"conv_choice\":\"%s\",",
               VGG_VERSION_STRING, vgg_gemm_name(), o.threads, o.classes,
               o.batch_size, o.eval_batch_size, o.steps, o.warmup, ct ? ct : "",
               vgg_openblas_corename(), vgg_conv_mode_name(o.conv), conv);
        printf("\"fma_peak_gflops\":{\"median\":%.1f,\"min\":%.1f,"
               "\"max\":%.1f},\"fma_width\":%d,"
               "\"fma_flop_per_cycle\":%.2f,\"fma_flop_per_cycle_nominal\":%d,"
               "\"clock_ghz\":%.3f,"
               "\"gemm_of_peak\":{\"median\":%.4f,\"min\":%.4f,"
               "\"max\":%.4f},\"step_of_peak\":%.4f,",
               pk.median, pk.min, pk.max, vgg_fma_peak_width(), fpc,
               vgg_fma_flops_per_cycle(), ghz, gp.median, gp.min, gp.max,
               pk.max > 0.0 ? gflops_step / pk.max : 0.0);
        printf("\"train_img_s\":{\"median\":%.2f,\"min\":%.2f,\"max\":%.2f},"
               "\"eval_img_s\":{\"median\":%.2f,\"min\":%.2f,\"max\":%.2f},"
               "\"step_seconds\":{\"median\":%.4f,\"min\":%.4f,\"max\":%.4f},",
               tr.median, tr.min, tr.max, ev.median, ev.min, ev.max, st.median,
               st.min, st.max);
        printf("\"gflop_per_train_image\":%.4f,\"gflop_per_eval_image\":%.4f,"
               "\"step_gflops\":%.1f,\"gemm_gflops\":%.1f,"
               "\"gemm_gflop_per_step\":%.2f,\"share\":{",
               train_flops / 1e9, fwd_flops / 1e9, gflops_step, gemm_rate,
               gemm_flops / o.steps / 1e9);
        for (int c = 0; c < VGG_PROF_COUNT; c++) {
            char key[32];
            json_key(key, sizeof key, c);
            printf("%s\"%s\":%.4f", c ? "," : "", key, share[c]);
        }
        printf("},\"non_gemm_share\":%.4f,\"untimed_share\":%.4f,"
               "\"peak_rss_mb\":%.1f,\"workspace_mb\":%.1f,\"params\":%zu",
               1.0 - share[VGG_PROF_GEMM], untimed, rss,
               (double)m->workspace_bytes / 1048576.0, m->nparams);
        if (o.verbose) {
            printf(",\"layers\":[");
            for (int i = 0; i < nl; i++) {
                char lab[64];
                layer_label(lab, sizeof lab, m, i);
                printf("%s{\"name\":\"%s\",\"fwd_ms\":%.3f,\"bwd_ms\":%.3f,"
                       "\"fwd_gemm_ms\":%.3f,\"bwd_gemm_ms\":%.3f}",
                       i ? "," : "", lab, 1e3 * layer_s[i] / o.steps,
                       1e3 * layer_s[nl + i] / o.steps,
                       1e3 * layer_s[2 * nl + i] / o.steps,
                       1e3 * layer_s[3 * nl + i] / o.steps);
            }
            printf("]");
        }
        printf("}\n");
    } else {
        printf("vggbench %s: VGG16-BN, %d classes, %zu parameters, gemm %s, "
               "%d threads, OPENBLAS_CORETYPE=%s, conv %s: %s\n",
               VGG_VERSION_STRING, o.classes, m->nparams, vgg_gemm_name(),
               o.threads, ct ? ct : "(unset)", vgg_conv_mode_name(o.conv),
               conv);
        printf("model       %.3f GFLOP per training image (forward %.3f, "
               "backward %.3f); %.3f per evaluation image\n",
               train_flops / 1e9, fwd_flops / 1e9, bwd_flops / 1e9,
               fwd_flops / 1e9);
        printf("training    batch %d, %d steps after %d warm-up\n",
               o.batch_size, o.steps, o.warmup);
        printf("  images/s  median %.1f  (min %.1f, max %.1f); step %.3f s\n",
               tr.median, tr.min, tr.max, st.median);
        printf("  GFLOP/s   %.1f for the step, %.1f in GEMM\n", gflops_step,
               gemm_rate);
        if (pk.median > 0.0)
            printf("  peak      FMA loop of %s (%d-float vectors, measured "
                   "0.1 s before each step) max %.1f GFLOP/s (median %.1f, "
                   "min %.1f);\n            %.1f FLOP per cycle and core "
                   "(nominal %d), clock %.2f GHz;\n            GEMM at %.0f%% "
                   "of the max (median over steps), the step at %.0f%%\n",
                   vgg_gemm_name(), vgg_fma_peak_width(), pk.max, pk.median,
                   pk.min, fpc, vgg_fma_flops_per_cycle(), ghz,
                   100.0 * gp.median, 100.0 * gflops_step / pk.max);
        printf("  time      ");
        for (int c = 0; c < VGG_PROF_COUNT; c++) {
            if (c > VGG_PROF_OTHER && cat[c] == 0.0) continue; /* e.g. comm */
            printf("%s%s %.1f%%", c ? "  " : "",
                   c == VGG_PROF_IM2COL ? "im2col/col2im" : vgg_prof_name(c),
                   100.0 * share[c]);
        }
        printf("\n            non-GEMM %.1f%% (of which untimed %.1f%%)\n",
               100.0 * (1.0 - share[VGG_PROF_GEMM]), 100.0 * untimed);
        printf("evaluation  batch %d, %d batches after %d warm-up\n",
               o.eval_batch_size, o.steps, o.warmup);
        printf("  images/s  median %.1f  (min %.1f, max %.1f)\n", ev.median,
               ev.min, ev.max);
        printf("memory      peak RSS %.0f MB (model and workspace %.0f MB)\n",
               rss, (double)m->workspace_bytes / 1048576.0);
        if (o.verbose) {
            printf("\nper layer, training step (ms per step; GF/s: a conv "
                   "layer's GEMM FLOPs over its whole time, then over its "
                   "GEMM calls' time;\n%%peak: the latter over the highest "
                   "FMA peak above)\n");
            printf("  %2s  %-26s %9s %9s %9s %9s %9s %9s %6s %6s\n", "#",
                   "layer", "fwd ms", "bwd ms", "fwd GF/s", "bwd GF/s",
                   "fwd GEMM", "bwd GEMM", "%peak", "%peak");
            double fsum = 0.0, bsum = 0.0;
            int first = 1;
            for (int i = 0; i < nl; i++) {
                char lab[64];
                layer_label(lab, sizeof lab, m, i);
                double f = layer_s[i] / o.steps, b = layer_s[nl + i] / o.steps;
                fsum += f;
                bsum += b;
                printf("  %2d  %-26s %9.2f %9.2f", i, lab, 1e3 * f, 1e3 * b);
                if (i < m->nlayers && m->layers[i].kind == VGG_LAYER_CONV) {
                    double cf = conv_flops(i) * o.batch_size;
                    const double bf = cf * (first ? 1 : 2);
                    const double gf = layer_s[2 * nl + i] / o.steps,
                                 gb = layer_s[3 * nl + i] / o.steps;
                    const double rf = gf > 0 ? cf / gf / 1e9 : 0.0,
                                 rb = gb > 0 ? bf / gb / 1e9 : 0.0;
                    printf(" %9.1f %9.1f %9.1f %9.1f", cf / f / 1e9,
                           bf / b / 1e9, rf, rb);
                    if (pk.max > 0 && rf > 0 && rb > 0)
                        printf(" %5.0f%% %5.0f%%", 100 * rf / pk.max,
                               100 * rb / pk.max);
                    first = 0;
                }
                printf("\n");
            }
            printf("  %2s  %-26s %9.2f %9.2f\n", "", "total", 1e3 * fsum,
                   1e3 * bsum);
            printf("  step %.2f ms on average: the rest (zero_grad, gradient "
                   "check, SGD) %.2f ms\n",
                   1e3 * total_s / o.steps,
                   1e3 * (total_s / o.steps - fsum - bsum));
            printf("  GEMM FLOPs counted per step %.2f GFLOP (model: %.2f)\n",
                   gemm_flops / o.steps / 1e9,
                   train_flops * o.batch_size / 1e9);
            printf("  by kind, ms per step:");
            for (int c = 0; c < VGG_PROF_COUNT; c++)
                printf("  %s %.1f", vgg_prof_name(c), 1e3 * cat[c] / o.steps);
            printf("\n");
            print_conv_times(m, &ctimes);
        }
    }
    free(layer_s), free(step_s), free(rate), free(eval_rate);
    free(peak), free(gemm_of_peak);
    vgg_model_free(m);
    return 0;
}
