/* libFuzzer harness for the CIFAR loader (src/data/cifar.c).
 *
 * The input is the contents of one file, written to a scratch folder in
 * which every CIFAR file name (data_batch_1..5.bin, test_batch.bin) is a
 * symbolic link to it and batches.meta.txt is a fixed valid class list, so
 * that one input drives vgg_cifar_read_file, vgg_cifar_read_meta and the
 * whole of vgg_cifar_load. The class count and limits come from the input's
 * size, so that the seed files stay plain CIFAR files.
 *
 * Besides "no crash, no leak, no undefined behaviour", it checks what the
 * loader promises: labels below the class count, at most `limit` images,
 * every class present after a successful load, nothing left allocated
 * after a failed one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgg/cifar.h"

static char dir[256], data_path[300];

static void cleanup(void) {
    static const char *const names[] = {"data_batch_1.bin", "data_batch_2.bin",
                                        "data_batch_3.bin", "data_batch_4.bin",
                                        "data_batch_5.bin", "test_batch.bin",
                                        "batches.meta.txt", "data"};
    char p[320];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    /* /dev/shm keeps the per-input write off the disk when it exists. */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
    if (!base) base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_cifar.XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("fuzz_cifar: mkdtemp");
        abort();
    }
    atexit(cleanup);
    snprintf(data_path, sizeof data_path, "%s/data", dir);
    static const char *const links[] = {"data_batch_1.bin", "data_batch_2.bin",
                                        "data_batch_3.bin", "data_batch_4.bin",
                                        "data_batch_5.bin", "test_batch.bin"};
    char p[320];
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, links[i]);
        if (symlink("data", p)) {
            perror("fuzz_cifar: symlink");
            abort();
        }
    }
    snprintf(p, sizeof p, "%s/batches.meta.txt", dir);
    FILE *f = fopen(p, "w");
    if (!f) abort();
    fputs("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\n"
          "truck\n\n",
          f);
    fclose(f);
    return 0;
}

static void write_input(const uint8_t *data, size_t size) {
    FILE *f = fopen(data_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
        perror("fuzz_cifar: writing the input");
        abort();
    }
}

static void check_dataset(const vgg_dataset *ds, int classes, int limit) {
    if (ds->n < 0 || (limit > 0 && ds->n > limit)) abort();
    for (int i = 0; i < ds->n; i++)
        if (ds->labels[i] >= classes) abort();
    /* Touch every pixel: the buffers must really hold n images. */
    unsigned sum = 0;
    for (size_t i = 0; i < (size_t)ds->n * VGG_CIFAR_PIXELS; i++)
        sum += ds->pixels[i];
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    write_input(data, size);
    vgg_error err;

    /* One file, every class, no limit; then appending at most one more
     * image of the first two classes. */
    vgg_dataset ds;
    memset(&ds, 0, sizeof ds);
    if (vgg_cifar_read_file(&ds, data_path, 10, 0, &err) == VGG_OK) {
        if (ds.n != (int)(size / VGG_CIFAR_RECORD)) abort();
        check_dataset(&ds, 10, 0);
        int before = ds.n;
        if (vgg_cifar_read_file(&ds, data_path, 2, before + 1, &err) ==
            VGG_OK) {
            if (ds.n > before + 1) abort();
            check_dataset(&ds, 10, 0);
        }
    } else if (!strstr(err.msg, data_path)) {
        abort(); /* the message must name the file */
    }
    vgg_dataset_free(&ds);

    /* The same bytes as a class-name list. */
    memset(&ds, 0, sizeof ds);
    if (vgg_cifar_read_meta(&ds, data_path, &err) == VGG_OK) {
        for (int c = 0; c < VGG_CIFAR_MAX_CLASSES; c++) {
            size_t len = strnlen(ds.class_names[c], VGG_CLASS_NAME_MAX);
            if (len == 0 || len == VGG_CLASS_NAME_MAX) abort();
        }
    }

    /* The whole loader over the folder. */
    vgg_dataset train, test;
    vgg_cifar_options opt = {dir, 2 + (int)(size % 9),
                             (size / 9) % 3 ? 0 : (int)(size % 7) + 1,
                             (size / 27) % 2 ? 0 : (int)(size % 5) + 1};
    if (vgg_cifar_load(&train, &test, &opt, &err) == VGG_OK) {
        check_dataset(&train, opt.classes, opt.limit_train);
        check_dataset(&test, opt.classes, opt.limit_test);
        int seen[VGG_CIFAR_MAX_CLASSES] = {0};
        for (int i = 0; i < train.n; i++) seen[train.labels[i]] = 1;
        for (int c = 0; c < opt.classes; c++)
            if (!seen[c]) abort();
        vgg_dataset_free(&train);
        vgg_dataset_free(&test);
    } else if (train.pixels || train.labels || test.pixels || test.labels) {
        abort(); /* "on failure nothing is left allocated" */
    }
    return 0;
}
