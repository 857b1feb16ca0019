/* Start-up agreement: every rank checks it has the same build, flags, data
 * and starting state as rank 0 before training, so that a host with other
 * data or another build stops the job with one message instead of training
 * something that is neither run. */
#include <stdio.h>
#include <string.h>
#ifdef VGG_HAVE_MPI
#include <mpi.h>
#endif

#include "cli/dist.h"
#include "vgg/crc32.h"
#include "vgg/cifar.h"
#include "vgg/gemm.h"
#include "vgg/rng.h"
#include "vgg/status.h"

int proc_agree(const proc *p, const proc_item *items, int n, const char *hint) {
    if (p->size < 2) return 0;
#ifdef VGG_HAVE_MPI
    char msg[4096];
    size_t k = 0;
    int differs = 0;
    for (int i = 0; i < n; i++) {
        char lead[sizeof items[i].value];
        memcpy(lead, items[i].value, sizeof lead);
        proc_busy("the start-up agreement");
        MPI_Bcast(lead, (int)sizeof lead, MPI_CHAR, 0, MPI_COMM_WORLD);
        proc_idle();
        if (!strncmp(lead, items[i].value, sizeof lead)) continue;
        if (!differs++)
            k = (size_t)snprintf(msg, sizeof msg,
                                 "vggtrain: rank %d on host %s differs from "
                                 "rank 0 on host %s:\n",
                                 p->rank, proc_host(p, p->rank),
                                 proc_host(p, 0));
        if (k < sizeof msg)
            k += (size_t)snprintf(msg + k, sizeof msg - k,
                                  "  %s: rank %d has %s\n"
                                  "  %*s  rank 0 has %s\n",
                                  items[i].what, p->rank, items[i].value,
                                  (int)strlen(items[i].what), "", lead);
    }
    if (differs && k < sizeof msg)
        snprintf(msg + k, sizeof msg - k, "vggtrain: %s\n", hint);
    int first = differs ? p->rank : p->size;
    proc_busy("the start-up agreement");
    MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    proc_idle();
    if (differs && first == p->rank) fprintf(stderr, "%s", msg);
    return first < p->size;
#else
    (void)items;
    (void)n;
    (void)hint;
    return 0;
#endif
}

static void describe_data(char *out, size_t n, const vgg_dataset *train,
                          const vgg_dataset *test) {
    const vgg_dataset *ds[2] = {train, test};
    size_t k = 0;
    for (int s = 0; s < 2; s++) {
        uint32_t crc = vgg_crc32(0, ds[s]->pixels, (size_t)ds[s]->n * 3072);
        crc = vgg_crc32(crc, ds[s]->labels, (size_t)ds[s]->n);
        for (int c = 0; c < ds[s]->num_classes; c++)
            crc = vgg_crc32(crc, ds[s]->class_names[c],
                            strlen(ds[s]->class_names[c]) + 1);
        k += (size_t)snprintf(out + k, n - k, "%s%s %d records, CRC-32 %08x",
                              s ? "; " : "", s ? "test" : "training", ds[s]->n,
                              (unsigned)crc);
        if (k >= n) return;
    }
}

/* The weights, momentum, batch-norm statistics and random state. */
static void describe_state(char *out, size_t n, const vgg_model *m,
                           const vgg_rng *rng) {
    uint32_t crc = vgg_crc32(0, m->params, sizeof(float) * m->nparams);
    crc = vgg_crc32(crc, m->momentum, sizeof(float) * m->nparams);
    if (m->nstate) crc = vgg_crc32(crc, m->state, sizeof(float) * m->nstate);
    crc = vgg_crc32(crc, rng, sizeof *rng);
    snprintf(out, n,
             "weights, momentum, statistics and random state CRC-32 %08x",
             (unsigned)crc);
}

int proc_agree_state(const proc *p, const vgg_model *m, const vgg_rng *rng,
                     int epoch) {
    if (p->size < 2) return 0;
    char what[64];
    snprintf(what, sizeof what, "state after epoch %d", epoch);
    proc_item it = {what, ""};
    describe_state(it.value, sizeof it.value, m, rng);
    return proc_agree(p, &it, 1,
                      "the ranks have drifted apart; nothing of this epoch "
                      "was saved");
}

int proc_agree_run(const proc *p, int argc, char **argv,
                   const vgg_dataset *train, const vgg_dataset *test,
                   const vgg_model *m, const vgg_rng *rng) {
    if (p->size < 2) return 0;
    proc_item it[4] = {
        {"build", ""}, {"flags", ""}, {"data", ""}, {"starting state", ""}};
    snprintf(it[0].value, sizeof it[0].value,
             "vggtrain %s, gemm %s, OpenBLAS core %s", VGG_VERSION_STRING,
             vgg_gemm_name(), vgg_openblas_corename());
    size_t k = 0;
    for (int i = 1; i < argc && k < sizeof it[1].value; i++)
        k += (size_t)snprintf(it[1].value + k, sizeof it[1].value - k, "%s'%s'",
                              i > 1 ? " " : "", argv[i]);
    if (argc < 2) snprintf(it[1].value, sizeof it[1].value, "(none)");
    describe_data(it[2].value, sizeof it[2].value, train, test);
    describe_state(it[3].value, sizeof it[3].value, m, rng);
    return proc_agree(p, it, 4,
                      "every rank needs the same build, flags and data (the "
                      "same files at the same path on each host)");
}
