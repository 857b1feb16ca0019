/* The output paths a program will write, checked together before any
 * work (vggtrain before loading data, vggeval before scoring): each path's
 * kind, folder and permission (vgg_output_check), that no output is one of
 * the inputs, and that no two outputs are one file. */
#ifndef VGG_CLI_OUTPUTS_H
#define VGG_CLI_OUTPUTS_H

#include "vgg/output.h"

typedef struct cli_output {
    const char *flag, *path; /* path NULL: flag not given */
    vgg_output_mode mode;
    const char *may_be;  /* an input this output may be (vggtrain's
                            resumed checkpoint as --out), or NULL */
    vgg_output_target t; /* filled by cli_outputs_check */
} cli_output;

typedef struct cli_input {
    const char *path, *what; /* what: "the training data" */
} cli_input;

/* Checks the n outputs against each other and the inputs. A FIFO among
 * them is opened now and held until cli_outputs_release (a reader must be
 * there at the start), and SIGPIPE is then ignored so that a reader going
 * away is a write error with a message. Prints "prog: FLAG: why" and
 * returns the exit status: 2 for a path that can never take the output
 * (a folder, a block device, a socket, an input, another output's file),
 * 1 for one that cannot now (no folder, no permission, no reader); 0 when
 * all are fine. */
int cli_outputs_check(const char *prog, cli_output *o, int n,
                      const cli_input *in, int nin);
void cli_outputs_release(cli_output *o, int n);

/* The files a CIFAR-10 folder provides (batches.meta.txt, data_batch_1..5,
 * test_batch) as inputs, into in (7 entries) with names in buf. Returns 7. */
enum { CLI_CIFAR_FILES = 7 };
int cli_cifar_inputs(const char *dir, cli_input *in, char (*buf)[4200]);

#endif
