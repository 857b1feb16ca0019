/* The per-epoch metrics log (vggtrain --log FILE): one row per finished
 * epoch, appended, so a resumed run continues the same file.
 *
 *   if (vgg_metrics_append(path, &record, &err)) -> report, stop
 *
 * Format by the name: *.jsonl or *.json is JSON Lines, one object a line
 * with the keys below; anything else is CSV with a header line, written
 * when the file is new or empty (a non-empty CSV must start with that same
 * header, or nothing is appended). Columns / keys, in this order:
 *   epoch, lr, train_loss, train_acc, test_loss, test_acc, seconds,
 *   images_per_second
 * accuracies are fractions (0.8731, not 87.31); a value that is not finite
 * (no test set) is an empty field in CSV and null in JSON. */
#ifndef VGG_METRICS_H
#define VGG_METRICS_H

#include "vgg/train.h"
#include "vgg/status.h"

#define VGG_METRICS_CSV_HEADER                                                 \
    "epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,"                \
    "images_per_second"

typedef enum vgg_metrics_format {
    VGG_METRICS_CSV,
    VGG_METRICS_JSONL,
} vgg_metrics_format;

/* One training batch (vggtrain --batch-log FILE): its mean loss and
 * accuracy (a fraction), before the update it led to, the learning rate
 * and its wall-clock seconds. CSV columns / JSON keys, in this order:
 *   epoch, batch, lr, loss, acc, seconds */
typedef struct vgg_batch_record {
    int epoch, batch; /* batch counts from 1 within the epoch */
    float lr, loss, acc, seconds;
} vgg_batch_record;

#define VGG_BATCH_CSV_HEADER "epoch,batch,lr,loss,acc,seconds"

/* The format the name asks for. */
vgg_metrics_format vgg_metrics_format_of(const char *path);

/* Appends r to path (created if missing) in place, through vgg_output's
 * handling of links, devices and FIFOs (vgg/output.h). Every write, the
 * flush and the close are checked; the error names the file. */
vgg_status vgg_metrics_append(const char *path, const vgg_epoch_record *r,
                              vgg_error *err);

/* Before a run: whether the log path (batches: the batch log, else the
 * epoch log) will take rows: vgg_output_check's answer (a folder is
 * VGG_ERR_ARG), and for an existing file one that is JSON Lines by its
 * name, empty, or a CSV under the log's header. A device or FIFO takes
 * rows as they come; it gets the CSV header with epoch 1's. The error
 * names the file and, for a foreign CSV, the flag. */
vgg_status vgg_metrics_check(const char *path, int batches, vgg_error *err);

/* Appends the n rows r (one epoch's batches) to path as vgg_metrics_append
 * does, in one write, under VGG_BATCH_CSV_HEADER when CSV. */
vgg_status vgg_metrics_append_batches(const char *path,
                                      const vgg_batch_record *r, int n,
                                      vgg_error *err);

#endif
