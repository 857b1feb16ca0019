/* vggtrain's processes: one, or MPI ranks. Everything MPI is here; without
 * VGG_HAVE_MPI these are the one-process versions. */
#ifndef VGG_CLI_DIST_H
#define VGG_CLI_DIST_H

#include "vgg/model.h"

typedef struct proc {
    int rank, size, mpi; /* mpi: MPI_Init was called */
    vgg_dist dist;
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

void proc_end(const proc *p);

#endif
