/* vggtrain's processes: one, or MPI ranks. Everything MPI is here; without
 * VGG_HAVE_MPI these are the one-process versions. */
#ifndef VGG_CLI_DIST_H
#define VGG_CLI_DIST_H

#include "vgg/model.h"

#define PROC_HOST_MAX 64

typedef struct proc {
    int rank, size, mpi; /* mpi: MPI_Init was called */
    vgg_dist dist;
    char (*hosts)[PROC_HOST_MAX]; /* each rank's host name (MPI only) */
} proc;

/* Starts MPI when a launcher (mpirun, srun, hydra) started this process;
 * otherwise p is one process, rank 0 of 1. */
void proc_start(proc *p, int *argc, char ***argv);

/* Hands the model the sums over processes (when there are several):
 * sync_bn for batch-norm statistics over the global batch, overlap for
 * gradient sums begun layer by layer during the backward pass. */
void proc_attach(proc *p, vgg_model *m, int sync_bn, int overlap);

/* Agrees on failure across processes: returns non-zero on every process if
 * any failed; only the lowest failing rank prints msg, so a fault every
 * rank sees is reported once. */
int any_failed(const proc *p, int failed, const char *msg);

/* The largest of v over all processes. */
int proc_max(const proc *p, int v);

void proc_end(proc *p);

/* Rank's host name ("?" when unknown). */
const char *proc_host(const proc *p, int rank);

/* Starts the watchdog (with several processes and seconds > 0): when a
 * collective has waited `seconds` for the other ranks, it prints which
 * rank on which host waits for whom and ends this rank with status 1. */
void proc_watch(const proc *p, double seconds);

/* Around each blocking MPI call: what waits (for the watchdog's message),
 * and that it is done. */
void proc_busy(const char *what);
void proc_idle(void);

/* ---- start-up agreement (dist_agree.c) ---- */

/* One thing every rank must have the same of: what it is, and its value
 * on this rank as text (shown in the message when they differ). */
typedef struct proc_item {
    const char *what;
    char value[512];
} proc_item;

/* Compares each item with rank 0's. When any differs anywhere, the lowest
 * rank that differs prints one message naming itself, its host, and each
 * item with both values, then hint; every rank returns non-zero. */
int proc_agree(const proc *p, const proc_item *items, int n, const char *hint);

struct vgg_dataset;
struct vgg_rng;

/* The items vggtrain agrees on: the build (version, GEMM kernel, OpenBLAS
 * core), the command line, the data (a CRC-32 of the selected records of
 * each split) and the starting state (weights, momentum, batch-norm
 * statistics and random state, after --resume). */
int proc_agree_run(const proc *p, int argc, char **argv,
                   const struct vgg_dataset *train,
                   const struct vgg_dataset *test, const vgg_model *m,
                   const struct vgg_rng *rng);

/* After each epoch, before it is saved: every rank holds the same weights,
 * momentum, batch-norm statistics and random state (a CRC-32 of them), or
 * the run stops as above. */
int proc_agree_state(const proc *p, const vgg_model *m,
                     const struct vgg_rng *rng, int epoch);

#endif
