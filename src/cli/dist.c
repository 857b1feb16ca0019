/* vggtrain's MPI transport: start-up, the sums the model asks for, and
 * agreement on failure. */
#include "cli/dist.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef VGG_HAVE_MPI
#include <mpi.h>
#endif

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
    MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static void mpi_sum_f32(float *buf, size_t n, void *ctx) {
    (void)ctx;
    for (size_t i = 0; i < n; i += INT_MAX / 2) {
        size_t k = n - i < INT_MAX / 2 ? n - i : INT_MAX / 2;
        MPI_Allreduce(MPI_IN_PLACE, buf + i, (int)k, MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
    }
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
    MPI_Waitall(p->n, p->req, MPI_STATUSES_IGNORE);
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
    *p = (proc){0, 1, 0, {0}};
#ifdef VGG_HAVE_MPI
    if (launched_by_mpi()) {
        MPI_Init(argc, argv);
        p->mpi = 1;
        MPI_Comm_rank(MPI_COMM_WORLD, &p->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &p->size);
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
    if (p->size > 1)
        MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN,
                      MPI_COMM_WORLD);
#endif
    if (failed && first == p->rank && msg) fprintf(stderr, "%s", msg);
    return first < p->size;
}

int proc_max(const proc *p, int v) {
#ifdef VGG_HAVE_MPI
    if (p->size > 1)
        MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
#else
    (void)p;
#endif
    return v;
}

void proc_end(const proc *p) {
    (void)p;
#ifdef VGG_HAVE_MPI
    if (p->mpi) MPI_Finalize();
#endif
}
