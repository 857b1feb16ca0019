/* vggtrain's progress: signals, the redrawn batch line, epoch lines. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/train_progress.h"
#include "vgg/profile.h"

volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
    if (stop_signal) {
        static const char msg[] =
            "\nvggtrain: second signal, exiting now; the last checkpoint is "
            "intact\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(128 + sig);
    }
    stop_signal = sig;
}

void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int stop_now(const proc *p) {
    int s = proc_max(p, stop_signal);
    if (s && !stop_signal) stop_signal = s;
    return s;
}

static void hms(char *buf, size_t n, double s) {
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

int on_batch(void *user, int b, int nb, const vgg_epoch_stats *s) {
    progress *p = user;
    if (p->rows) {
        if (b == 1) memset(&p->prev, 0, sizeof p->prev);
        const int n = s->images - p->prev.images;
        p->rows[b - 1] =
            (vgg_batch_record){p->epoch,
                               b,
                               p->lr,
                               (float)((s->loss_sum - p->prev.loss_sum) / n),
                               (float)(s->correct - p->prev.correct) / (float)n,
                               (float)(s->seconds - p->prev.seconds)};
        p->nrows = b;
        p->prev = *s;
    }
    if (p->tty && !stop_signal) {
        double el = vgg_now() - p->epoch_start;
        double left = el / b * (nb - b);
        double per_epoch = el / b * nb + p->eval_seconds;
        char e1[32], e2[32];
        hms(e1, sizeof e1, left);
        hms(e2, sizeof e2,
            left + p->eval_seconds + per_epoch * (p->epochs - p->epoch));
        printf("\r\033[Kepoch %d/%d  batch %d/%d  loss %.4f  acc %.2f%%  "
               "%.0f img/s  eta %s  run %s",
               p->epoch, p->epochs, b, nb, s->loss_sum / s->images,
               100.0 * s->correct / s->images, s->images / s->seconds, e1, e2);
        fflush(stdout);
    }
    return stop_now(p->P) != 0;
}

void print_epoch(const vgg_epoch_record *r, int epochs, double comm) {
    printf("epoch %d/%d  lr %.5g  train_loss %.4f  train_acc %.2f%%  "
           "test_loss %.4f  test_acc %.2f%%  time %.1fs  %.0f img/s",
           r->epoch, epochs, r->lr, r->train_loss, 100.0 * r->train_acc,
           r->test_loss, 100.0 * r->test_acc, r->seconds, r->images_per_second);
    if (comm >= 0.0) printf("  allreduce %.1fs", comm);
    printf("\n");
    fflush(stdout);
}
