/* vggtrain's MPI transport: start-up, the sums the model asks for, and
 * agreement on failure. */
#include "cli/dist.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef VGG_HAVE_MPI
#include <mpi.h>
#endif

/* ---- the watchdog: a collective that has not completed within the
 * timeout means a rank, a host or the network between them is lost. MPI
 * over TCP does not notice by itself (TCP retransmits for a quarter of an
 * hour), so a thread in each rank ends the rank, and Open MPI then ends
 * the job as for a rank that died. ---- */

static _Atomic long long busy_since; /* ms of the collective begun; 0: none */
static const char *_Atomic busy_what;
static double watch_seconds;
static const proc *watched;

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void proc_busy(const char *what) {
    atomic_store(&busy_what, what);
    atomic_store(&busy_since, now_ms());
}

void proc_idle(void) { atomic_store(&busy_since, 0); }

static void *watchdog(void *arg) {
    (void)arg;
    const proc *p = watched;
    long long last = now_ms();
    for (;;) {
        struct timespec nap = {0, 200 * 1000000L};
        nanosleep(&nap, NULL);
        /* a nap much longer than asked for: this process was stopped
         * (SIGSTOP, a suspended machine), so its own wait says nothing
         * about the others; count it from now */
        long long t = now_ms(), since = atomic_load(&busy_since);
        if (t - last > 2000 && since)
            atomic_compare_exchange_strong(&busy_since, &since, t);
        last = t;
        since = atomic_load(&busy_since);
        if (!since || now_ms() - since < (long long)(watch_seconds * 1000))
            continue;
        char msg[1024];
        size_t k = (size_t)snprintf(
            msg, sizeof msg,
            "vggtrain: rank %d on host %s: %s has waited %g s for ", p->rank,
            proc_host(p, p->rank), atomic_load(&busy_what), watch_seconds);
        for (int r = 0, n = 0; r < p->size && k < sizeof msg - 80; r++)
            if (r != p->rank)
                k +=
                    (size_t)snprintf(msg + k, sizeof msg - k, "%srank %d on %s",
                                     n++ ? ", " : "", r, proc_host(p, r));
        snprintf(msg + k, sizeof msg - k,
                 ": lost, stopped, or the network to it is cut (--mpi-timeout "
                 "%g); ending the job\n",
                 watch_seconds);
        ssize_t w = write(STDERR_FILENO, msg, strlen(msg));
        (void)w;
        _exit(1);
    }
    return NULL;
}

void proc_watch(const proc *p, double seconds) {
    if (p->size < 2 || seconds <= 0) return;
    watched = p;
    watch_seconds = seconds;
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    /* signals stay with the main thread */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (!pthread_create(&t, NULL, watchdog, NULL)) pthread_detach(t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

const char *proc_host(const proc *p, int rank) {
    if (!p->hosts || rank < 0 || rank >= p->size) return "?";
    return p->hosts[rank];
}

#ifdef VGG_HAVE_MPI
/* MPI is started only under a launcher (mpirun, srun, hydra), which sets one
 * of these: a plain run does not pay MPI's start-up or see its threads. */
static int launched_by_mpi(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                       "PMIX_RANK", "MPI_LOCALNRANKS",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

static void mpi_sum_f64(double *buf, int n, void *ctx) {
    (void)ctx;
    proc_busy("a sum of losses or batch-norm statistics");
    MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    proc_idle();
}

static void mpi_sum_f32(float *buf, size_t n, void *ctx) {
    (void)ctx;
    proc_busy("a sum of gradients or statistics");
    for (size_t i = 0; i < n; i += INT_MAX / 2) {
        size_t k = n - i < INT_MAX / 2 ? n - i : INT_MAX / 2;
        MPI_Allreduce(MPI_IN_PLACE, buf + i, (int)k, MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
    }
    proc_idle();
}

/* Sums begun during the backward pass (one a layer, at most MAX_PENDING;
 * past that, the oldest are finished first). Open MPI moves a nonblocking
 * collective forward only inside MPI calls, so each new start also tests
 * the ones in flight. */
#define MAX_PENDING 64
typedef struct pending {
    MPI_Request req[MAX_PENDING];
    int n;
} pending;

static void mpi_finish(void *ctx) {
    pending *p = ctx;
    proc_busy("a gradient sum");
    MPI_Waitall(p->n, p->req, MPI_STATUSES_IGNORE);
    proc_idle();
    p->n = 0;
}

static void mpi_start_f32(float *buf, size_t n, void *ctx) {
    pending *p = ctx;
    if (n > INT_MAX / 2 || p->n == MAX_PENDING) {
        mpi_finish(p);
        mpi_sum_f32(buf, n, ctx);
        return;
    }
    MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM,
                   MPI_COMM_WORLD, &p->req[p->n++]);
    int done;
    MPI_Testall(p->n, p->req, &done, MPI_STATUSES_IGNORE);
    if (done) p->n = 0;
}
#endif

void proc_start(proc *p, int *argc, char ***argv) {
    memset(p, 0, sizeof *p);
    p->size = 1;
#ifdef VGG_HAVE_MPI
    if (launched_by_mpi()) {
        MPI_Init(argc, argv);
        p->mpi = 1;
        MPI_Comm_rank(MPI_COMM_WORLD, &p->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &p->size);
        /* every rank's host, for messages */
        char me[PROC_HOST_MAX] = "";
        gethostname(me, sizeof me - 1);
        p->hosts = calloc((size_t)p->size, sizeof *p->hosts);
        if (p->hosts)
            MPI_Allgather(me, PROC_HOST_MAX, MPI_CHAR, p->hosts, PROC_HOST_MAX,
                          MPI_CHAR, MPI_COMM_WORLD);
    }
#else
    (void)argc;
    (void)argv;
#endif
}

void proc_attach(proc *p, vgg_model *m, int sync_bn, int overlap) {
    if (p->size < 2) return;
    p->dist.rank = p->rank;
    p->dist.size = p->size;
    p->dist.sync_bn = sync_bn;
#ifdef VGG_HAVE_MPI
    static pending inflight;
    p->dist.sum_f64 = mpi_sum_f64;
    p->dist.sum_f32 = mpi_sum_f32;
    if (overlap) {
        p->dist.start_f32 = mpi_start_f32;
        p->dist.finish = mpi_finish;
        p->dist.ctx = &inflight;
    }
#else
    (void)overlap;
#endif
    m->dist = &p->dist;
}

int any_failed(const proc *p, int failed, const char *msg) {
    int first = failed ? p->rank : p->size;
#ifdef VGG_HAVE_MPI
    if (p->size > 1) {
        proc_busy("an agreement on failure");
        MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN,
                      MPI_COMM_WORLD);
        proc_idle();
    }
#endif
    if (failed && first == p->rank && msg) {
        if (p->size > 1)
            fprintf(stderr, "rank %d on host %s: ", p->rank,
                    proc_host(p, p->rank));
        fprintf(stderr, "%s", msg);
    }
    return first < p->size;
}

int proc_max(const proc *p, int v) {
#ifdef VGG_HAVE_MPI
    if (p->size > 1) {
        proc_busy("a check for signals");
        MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        proc_idle();
    }
#else
    (void)p;
#endif
    return v;
}

void proc_end(proc *p) {
#ifdef VGG_HAVE_MPI
    if (p->mpi) {
        /* the last collective before the ranks part */
        proc_busy("the end of the run");
        MPI_Finalize();
        proc_idle();
    }
#endif
    free(p->hosts);
    p->hosts = NULL;
}
