#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *tu_tmpdir(const char *tag) {
    static char path[512];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/vggtest-%s-XXXXXX", base ? base : "/tmp",
             tag);
    if (!mkdtemp(path)) return NULL;
    return path;
}

int tu_write_cifar(const char *path, int n, const uint8_t *labels, int nl,
                   uint64_t seed) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    vgg_rng r;
    vgg_rng_seed(&r, seed, 7);
    uint8_t rec[3073];
    for (int i = 0; i < n; i++) {
        rec[0] = labels[i % nl];
        /* class c brightens channel c % 3 and darkens a c-dependent half */
        for (int p = 0; p < 3072; p++) {
            int c = p / 1024, y = (p % 1024) / 32;
            int v = (int)(vgg_rng_u32(&r) % 128);
            if (c == rec[0] % 3) v += 100;
            if ((y < 16) == (rec[0] % 2)) v += 27;
            rec[1 + p] = (uint8_t)v;
        }
        if (fwrite(rec, 1, sizeof rec, f) != sizeof rec) {
            fclose(f);
            return -1;
        }
    }
    return fclose(f);
}

int tu_write_cifar_dir(const char *dir, int per_batch, int ntest, int classes) {
    static const char *names[10] = {"airplane", "automobile", "bird", "cat",
                                    "deer",     "dog",        "frog", "horse",
                                    "ship",     "truck"};
    char path[1024];
    uint8_t labels[10];
    for (int i = 0; i < 10; i++) labels[i] = (uint8_t)(i % classes);
    snprintf(path, sizeof path, "%s/batches.meta.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    for (int i = 0; i < 10; i++) fprintf(f, "%s\n", names[i]);
    fprintf(f, "\n");
    fclose(f);
    for (int b = 1; b <= 5; b++) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, b);
        if (tu_write_cifar(path, per_batch, labels, classes, 100 + b))
            return -1;
    }
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    return tu_write_cifar(path, ntest, labels, classes, 99);
}

void tu_fill_uniform(float *x, size_t n, float lo, float hi, vgg_rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * vgg_rng_uniform(rng);
}

double tu_max_rel_diff(const float *a, const float *b, size_t n,
                       double floor_abs) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        double s = fmax(fabs((double)a[i]), fabs((double)b[i]));
        double r = d / fmax(s, floor_abs);
        if (r > worst || isnan(d)) worst = isnan(d) ? INFINITY : r;
    }
    return worst;
}

int tu_kernel_wanted(const char *name) {
    const char *list = getenv("VGG_TEST_KERNELS");
    if (!list || !*list) return 1;
    const size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}
