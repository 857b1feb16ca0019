#include "vgg/metrics.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
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
    return isfinite(v) ? snprintf(buf, n, "%.7g", v) : snprintf(buf, n, "%s", none);
}

static int format_row(char *buf, size_t n, const vgg_epoch_record *r,
                      vgg_metrics_format fmt) {
    static const char *const keys[] = {"lr",        "train_loss", "train_acc",
                                       "test_loss", "test_acc",   "seconds",
                                       "images_per_second"};
    const double v[] = {r->lr,       r->train_loss, r->train_acc,
                        r->test_loss, r->test_acc,  r->seconds,
                        r->images_per_second};
    int json = fmt == VGG_METRICS_JSONL;
    size_t used = (size_t)snprintf(buf, n, json ? "{\"epoch\": %d" : "%d",
                                   r->epoch);
    for (size_t i = 0; i < sizeof v / sizeof v[0] && used < n; i++) {
        used += (size_t)snprintf(buf + used, n - used,
                                 json ? ", \"%s\": " : ",", keys[i]);
        if (used < n) used += (size_t)put_value(buf + used, n - used, v[i],
                                                json ? "null" : "");
    }
    if (used < n) used += (size_t)snprintf(buf + used, n - used, json ? "}\n" : "\n");
    return used < n ? (int)used : -1;
}

vgg_status vgg_metrics_append(const char *path, const vgg_epoch_record *r,
                              vgg_error *err) {
    vgg_metrics_format fmt = vgg_metrics_format_of(path);
    /* "a+": appends, and lets us look at what is already there. */
    FILE *f = fopen(path, "a+");
    if (!f)
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot open the log (%s)",
                        path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        int e = errno;
        fclose(f);
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot seek in the log (%s)",
                        path, strerror(e));
    }
    long size = ftell(f);
    if (size < 0) {
        int e = errno;
        fclose(f);
        return vgg_fail(err, VGG_ERR_IO, "%s: cannot tell the log's size (%s)",
                        path, strerror(e));
    }
    char row[512];
    int len = format_row(row, sizeof row, r, fmt);
    if (len < 0) {
        fclose(f);
        return vgg_fail(err, VGG_ERR_ARG, "%s: log row too long", path);
    }
    if (fmt == VGG_METRICS_CSV && size > 0) {
        /* Refuse to mix our rows into some other CSV. */
        char first[256] = "";
        rewind(f);
        if (!fgets(first, sizeof first, f)) first[0] = 0;
        first[strcspn(first, "\r\n")] = 0;
        if (strcmp(first, VGG_METRICS_CSV_HEADER) != 0) {
            fclose(f);
            return vgg_fail(err, VGG_ERR_FORMAT,
                            "%s: not a vggtrain metrics log (its first line "
                            "is not \"%s\"); give --log a new file name",
                            path, VGG_METRICS_CSV_HEADER);
        }
    }
    /* A row cut short earlier (a full disk, a kill) must not swallow this
     * one: start on a fresh line. */
    int newline = 0;
    if (size > 0 && fseek(f, size - 1, SEEK_SET) == 0)
        newline = fgetc(f) != '\n';
    /* a read must be followed by a positioning call before a write */
    fseek(f, 0, SEEK_END);
    int bad = 0;
    if (newline) bad |= fputc('\n', f) == EOF;
    if (fmt == VGG_METRICS_CSV && size == 0)
        bad |= fputs(VGG_METRICS_CSV_HEADER "\n", f) == EOF;
    bad |= fwrite(row, 1, (size_t)len, f) != (size_t)len;
    bad |= fflush(f) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad)
        return vgg_fail(err, VGG_ERR_IO,
                        "%s: cannot append epoch %d to the log (%s)", path,
                        r->epoch, strerror(e));
    return VGG_OK;
}
