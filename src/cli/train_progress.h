/* vggtrain's progress: signals, the redrawn batch line, epoch lines. */
#ifndef VGG_CLI_TRAIN_PROGRESS_H
#define VGG_CLI_TRAIN_PROGRESS_H

#include <signal.h>

#include "cli/dist.h"
#include "vgg/checkpoint.h"
#include "vgg/metrics.h"
#include "vgg/train.h"

/* The first SIGINT or SIGTERM finishes the batch and stops; the second
 * exits at once (checkpoints are written atomically, so the last one stays
 * whole whatever happens). stop_signal is the first one's number. */
extern volatile sig_atomic_t stop_signal;
void catch_signals(void);

/* The signal that stops the run; with several processes, any process's
 * (all stop at the same batch). */
int stop_now(const proc *p);

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

/* A vgg_batch_cb: redraws one line on a terminal, keeps --batch-log's
 * rows, and stops the epoch when a signal came. */
int on_batch(void *user, int b, int nb, const vgg_epoch_stats *s);

/* comm: seconds rank 0 spent in gradient sums during the epoch's
 * training, or < 0 for one process. */
void print_epoch(const vgg_epoch_record *r, int epochs, double comm);

#endif
