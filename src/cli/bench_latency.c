/* vggbench --latency (bench_latency.h). Each runtime scores the same
 * random images, [N,3,32,32] RGB in [0,1], with the same network in
 * evaluation mode, on `threads` threads: ours through the public API's
 * vgg_classifier_logits (normalisation included), PyTorch
 * (scripts/latency_torch.py: the checkpoint loaded into the reference VGG
 * class, torch.no_grad) and ONNX Runtime (scripts/onnx_eval.js --latency
 * on the exported file). Each prints one line "latency B1 B100" in
 * milliseconds per batch, the medians of reps calls. */
#include "cli/bench_latency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgg/checkpoint.h"
#include "vgg/gemm.h"
#include "vgg/model.h"
#include "vgg/onnx.h"
#include "vgg/profile.h"
#include "vgg/vgg.h"

#ifndef VGG_SOURCE_DIR
#define VGG_SOURCE_DIR "."
#endif

static const char *prog = "vggbench";
static const int batches[2] = {1, 100};

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Ours: ms per batch at each size. */
static int ours(const char *model, int reps, int warmup, double ms[2]) {
    vgg_error err = {0};
    vgg_classifier *c;
    if (vgg_classifier_open(&c, model, 100, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return 1;
    }
    const int S = vgg_classifier_side(c), K = vgg_classifier_classes(c);
    float *x = malloc(sizeof(float) * 100 * 3 * S * S);
    float *z = malloc(sizeof(float) * 100 * K);
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!x || !z || !t) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    unsigned r = 1;
    for (int i = 0; i < 100 * 3 * S * S; i++) {
        r = r * 1103515245u + 12345u;
        x[i] = (float)(r >> 8) / 16777216.0f;
    }
    for (int b = 0; b < 2; b++) {
        for (int k = 0; k < warmup + reps; k++) {
            double t0 = vgg_now();
            vgg_classifier_logits(c, x, batches[b], z, &err);
            if (k >= warmup) t[k - warmup] = vgg_now() - t0;
        }
        ms[b] = 1e3 * median(t, reps);
    }
    free(x);
    free(z);
    free(t);
    vgg_classifier_close(c);
    return 0;
}

/* Runs cmd and reads its "latency B1 B100" line; 0 on success. */
static int other(const char *cmd, double ms[2], char *note, size_t n) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    int got = 0;
    note[0] = 0;
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, "latency %lf %lf", &ms[0], &ms[1]) == 2)
            got = 1;
        else if (!strncmp(line, "version ", 8))
            snprintf(note, n, "%.*s", (int)strcspn(line + 8, "\n"), line + 8);
    }
    int rc = pclose(p);
    return got && rc == 0 ? 0 : -1;
}

int bench_latency(const char *model, const char *onnx, const char *bin_dir,
                  int threads, int reps, int warmup, int json) {
    vgg_error err = {0};
    char tmp[64] = "";
    vgg_ckpt_meta meta;
    if (vgg_checkpoint_read_meta(model, &meta, &err)) {
        fprintf(stderr, "%s: --latency: %s\n", prog, err.msg);
        return 1;
    }
    if (!onnx) { /* export it: ONNX Runtime runs our file */
        snprintf(tmp, sizeof tmp, "/tmp/vggbench-%d.onnx", (int)getpid());
        vgg_model *m = NULL;
        if (vgg_model_create(&m, &meta.cfg, 1, &err) ||
            vgg_checkpoint_load(model, m, NULL, &err) ||
            vgg_onnx_save(tmp, m, &meta, model, &err)) {
            fprintf(stderr, "%s: --latency: %s\n", prog, err.msg);
            vgg_model_free(m);
            vgg_ckpt_meta_free(&meta);
            return 1;
        }
        vgg_model_free(m);
        onnx = tmp;
    }
    vgg_ckpt_meta_free(&meta);
    const char *src =
        getenv("VGG_SOURCE_DIR") ? getenv("VGG_SOURCE_DIR") : VGG_SOURCE_DIR;
    double ms[3][2] = {{0}};
    int ok[3] = {0};
    char note[3][128] = {"", "", ""}, cmd[8192];
    ok[0] = ours(model, reps, warmup, ms[0]) == 0;
    snprintf(note[0], sizeof note[0], "gemm %s", vgg_gemm_name());
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 '%s/scripts/latency_torch.py' --bin '%s' "
             "--model '%s' --threads %d --reps %d --warmup %d 2>/dev/null",
             src, bin_dir, model, threads, reps, warmup);
    ok[1] = other(cmd, ms[1], note[1], sizeof note[1]) == 0;
    snprintf(cmd, sizeof cmd,
             "node '%s/scripts/onnx_eval.js' --latency '%s' --threads %d "
             "--reps %d --warmup %d 2>/dev/null",
             src, onnx, threads, reps, warmup);
    ok[2] = other(cmd, ms[2], note[2], sizeof note[2]) == 0;
    if (tmp[0]) unlink(tmp);

    static const char *names[3] = {"vggtrain", "pytorch", "onnxruntime"};
    if (json) {
        printf("{\"latency\": {\"model\": \"%s\", \"threads\": %d, "
               "\"reps\": %d",
               model, threads, reps);
        for (int i = 0; i < 3; i++) {
            if (!ok[i]) {
                printf(", \"%s\": null", names[i]);
                continue;
            }
            printf(", \"%s\": {\"batch1_ms\": %.3f, \"batch100_ms\": %.3f, "
                   "\"batch100_img_per_s\": %.1f, \"note\": \"%s\"}",
                   names[i], ms[i][0], ms[i][1], 1e5 / ms[i][1], note[i]);
        }
        printf("}}\n");
    } else {
        printf("evaluation latency of %s, %d threads, median of %d calls "
               "(after %d untimed)\n",
               model, threads, reps, warmup);
        printf("%-12s %12s %14s %12s  %s\n", "runtime", "batch 1 ms",
               "batch 100 ms", "img/s @100", "");
        for (int i = 0; i < 3; i++) {
            if (ok[i])
                printf("%-12s %12.2f %14.1f %12.0f  %s\n", names[i], ms[i][0],
                       ms[i][1], 1e5 / ms[i][1], note[i]);
            else
                printf("%-12s %12s %14s %12s  (not available: %s)\n", names[i],
                       "-", "-", "-",
                       i == 1 ? "/usr/bin/python3 with torch"
                              : "node with onnxruntime-node, "
                                "scripts/install-onnxruntime");
        }
    }
    return ok[0] ? 0 : 1;
}
