#include "vgg/metrics.h"
#include "vgg/output.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++)
        if (tolower((unsigned char)s[n - m + i]) != suffix[i]) return 0;
    return 1;
}

vgg_metrics_format vgg_metrics_format_of(const char *path) {
    return ends_with(path, ".jsonl") || ends_with(path, ".json")
               ? VGG_METRICS_JSONL
               : VGG_METRICS_CSV;
}

/* %.7g keeps a float's value; non-finite values become `none`. */
static int put_value(char *buf, size_t n, double v, const char *none) {
    return isfinite(v) ? snprintf(buf, n, "%.7g", v)
                       : snprintf(buf, n, "%s", none);
}

static int format_row(char *buf, size_t n, const vgg_epoch_record *r,
                      vgg_metrics_format fmt) {
    static const char *const keys[] = {
        "lr",       "train_loss", "train_acc",        "test_loss",
        "test_acc", "seconds",    "images_per_second"};
    const double v[] = {
        r->lr,       r->train_loss, r->train_acc,        r->test_loss,
        r->test_acc, r->seconds,    r->images_per_second};
    int json = fmt == VGG_METRICS_JSONL;
    size_t used =
        (size_t)snprintf(buf, n, json ? "{\"epoch\": %d" : "%d", r->epoch);
    for (size_t i = 0; i < sizeof v / sizeof v[0] && used < n; i++) {
        used += (size_t)snprintf(buf + used, n - used,
                                 json ? ", \"%s\": " : ",", keys[i]);
        if (used < n)
            used += (size_t)put_value(buf + used, n - used, v[i],
                                      json ? "null" : "");
    }
    if (used < n)
        used += (size_t)snprintf(buf + used, n - used, json ? "}\n" : "\n");
    return used < n ? (int)used : -1;
}

/* The two logs: their CSV header, and the flag and name messages give. */
typedef struct log_kind {
    const char *header, *flag, *name;
} log_kind;
static const log_kind epoch_log = {VGG_METRICS_CSV_HEADER, "--log",
                                   "metrics log"};
static const log_kind batch_log = {VGG_BATCH_CSV_HEADER, "--batch-log",
                                   "batch log"};

/* Refuses to mix our rows into some other CSV: 0 when f (non-empty) starts
 * with the log's header, else VGG_ERR_FORMAT with a message naming path
 * and flag. */
static vgg_status foreign_csv(FILE *f, const char *path, const log_kind *k,
                              vgg_error *err) {
    char first[256] = "";
    rewind(f);
    if (!fgets(first, sizeof first, f)) first[0] = 0;
    first[strcspn(first, "\r\n")] = 0;
    if (strcmp(first, k->header) == 0) return VGG_OK;
    return vgg_fail(err, VGG_ERR_FORMAT,
                    "%s: not a vggtrain %s (its first line is not \"%s\"); "
                    "give %s a new file name",
                    path, k->name, k->header, k->flag);
}

vgg_status vgg_metrics_check(const char *path, int batches, vgg_error *err) {
    const log_kind *k = batches ? &batch_log : &epoch_log;
    vgg_output_target t;
    vgg_status st = vgg_output_check(path, VGG_OUTPUT_APPEND, &t, 0, err);
    /* a new file, a device or a FIFO has no rows to look at */
    if (st || t.kind != VGG_OUTPUT_FILE) return st;
    FILE *f = fopen(t.path, "r");
    if (!f)
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot open the log (%s)", path,
                        strerror(errno));
    if (vgg_metrics_format_of(path) == VGG_METRICS_CSV && fgetc(f) != EOF)
        st = foreign_csv(f, path, k, err);
    fclose(f);
    return st;
}

/* Appends `len` bytes of rows to path, with the log's header first when
 * the file is CSV and new or empty; a non-empty CSV must start with that
 * header. A device or FIFO has no start to look at: it gets the header
 * with the rows of a run's first epoch (`first`), as a new file would.
 * `what` ("epoch 3") names the rows in messages. The rows go in one
 * append after the epoch's checkpoint, and a row cut short earlier is
 * ended first: the log is never rewritten, only added to. */
static vgg_status append_rows(const char *path, const log_kind *k,
                              const char *rows, size_t len, const char *what,
                              int first, vgg_error *err) {
    const vgg_metrics_format fmt = vgg_metrics_format_of(path);
    vgg_output out;
    vgg_status st =
        vgg_output_open(&out, path, k->name, VGG_OUTPUT_APPEND, err);
    if (st) return st;
    FILE *f = out.f;
    const int in_place =
        out.t.kind != VGG_OUTPUT_NEW && out.t.kind != VGG_OUTPUT_FILE;
    long size = 0;
    int newline = 0;
    if (!in_place) {
        if (fseek(f, 0, SEEK_END) != 0) {
            int e = errno;
            vgg_output_abort(&out);
            return vgg_fail(err, VGG_ERR_IO, "%s: cannot seek in the log (%s)",
                            path, strerror(e));
        }
        size = ftell(f);
        if (size < 0) {
            int e = errno;
            vgg_output_abort(&out);
            return vgg_fail(err, VGG_ERR_IO,
                            "%s: cannot tell the log's size (%s)", path,
                            strerror(e));
        }
        if (fmt == VGG_METRICS_CSV && size > 0 &&
            foreign_csv(f, path, k, err)) {
            vgg_output_abort(&out);
            return VGG_ERR_FORMAT;
        }
        /* A row cut short earlier (a full disk, a kill) must not swallow
         * this one: start on a fresh line. */
        if (size > 0 && fseek(f, size - 1, SEEK_SET) == 0)
            newline = fgetc(f) != '\n';
        /* a read must be followed by a positioning call before a write */
        fseek(f, 0, SEEK_END);
    }
    int bad = 0;
    if (newline) bad |= fputc('\n', f) == EOF;
    if (fmt == VGG_METRICS_CSV && (in_place ? first : size == 0)) {
        bad |= fputs(k->header, f) == EOF;
        bad |= fputc('\n', f) == EOF;
    }
    bad |= fwrite(rows, 1, len, f) != len;
    bad |= fflush(f) != 0;
    if (bad) {
        int e = errno;
        vgg_output_abort(&out);
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot append %s to the log (%s)",
                        path, what, strerror(e));
    }
    return vgg_output_close(&out, err);
}

vgg_status vgg_metrics_append(const char *path, const vgg_epoch_record *r,
                              vgg_error *err) {
    vgg_metrics_format fmt = vgg_metrics_format_of(path);
    char row[512], what[32];
    int len = format_row(row, sizeof row, r, fmt);
    if (len < 0)
        return vgg_fail(err, VGG_ERR_ARG, "%s: log row too long", path);
    snprintf(what, sizeof what, "epoch %d", r->epoch);
    return append_rows(path, &epoch_log, row, (size_t)len, what, r->epoch == 1,
                       err);
}

vgg_status vgg_metrics_append_batches(const char *path,
                                      const vgg_batch_record *r, int n,
                                      vgg_error *err) {
    if (n <= 0) return VGG_OK;
    vgg_metrics_format fmt = vgg_metrics_format_of(path);
    const int json = fmt == VGG_METRICS_JSONL;
    size_t cap = (size_t)n * 160, used = 0;
    char *rows = malloc(cap);
    if (!rows)
        return vgg_fail(err, VGG_ERR_NOMEM, "%s: cannot allocate %d log rows",
                        path, n);
    for (int i = 0; i < n; i++) {
        char v[4][32];
        const double x[4] = {r[i].lr, r[i].loss, r[i].acc, r[i].seconds};
        for (int k = 0; k < 4; k++)
            put_value(v[k], sizeof v[k], x[k], json ? "null" : "");
        int w = json ? snprintf(rows + used, cap - used,
                                "{\"epoch\": %d, \"batch\": %d, \"lr\": %s, "
                                "\"loss\": %s, \"acc\": %s, \"seconds\": %s}\n",
                                r[i].epoch, r[i].batch, v[0], v[1], v[2], v[3])
                     : snprintf(rows + used, cap - used, "%d,%d,%s,%s,%s,%s\n",
                                r[i].epoch, r[i].batch, v[0], v[1], v[2], v[3]);
        used += (size_t)w; /* at most 4 x 15 + 110 characters: fits */
    }
    char what[64];
    snprintf(what, sizeof what, "epoch %d's %d batches", r[0].epoch, n);
    vgg_status st = append_rows(path, &batch_log, rows, used, what,
                                r[0].epoch == 1 && r[0].batch == 1, err);
    free(rows);
    return st;
}
