#include "cli/common/outputs.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int cli_outputs_check(const char *prog, cli_output *o, int n,
                      const cli_input *in, int nin) {
    int fifo = 0;
    for (int i = 0; i < n; i++) o[i].t.fd = -1;
    for (int i = 0; i < n; i++) {
        if (!o[i].path) continue;
        vgg_error err = {0};
        vgg_status st =
            vgg_output_check(o[i].path, o[i].mode, &o[i].t, 1, &err);
        if (st) {
            fprintf(stderr, "%s: %s: %s\n", prog, o[i].flag, err.msg);
            cli_outputs_release(o, n);
            return st == VGG_ERR_ARG ? 2 : 1;
        }
        fifo |= o[i].t.kind == VGG_OUTPUT_FIFO;
        for (int k = 0; k < nin; k++) {
            if (!in[k].path || !vgg_output_same_file(&o[i].t, in[k].path))
                continue;
            if (o[i].may_be && vgg_output_same_file(&o[i].t, o[i].may_be))
                continue;
            fprintf(stderr,
                    "%s: %s %s: is %s (%s), an input; give the output "
                    "another name\n",
                    prog, o[i].flag, o[i].path, in[k].path, in[k].what);
            cli_outputs_release(o, n);
            return 2;
        }
        /* Two outputs in one file would overwrite each other; devices
         * and FIFOs take any number of writers. */
        for (int j = 0; j < i; j++) {
            if (!o[j].path || o[i].t.kind == VGG_OUTPUT_DEVICE ||
                o[i].t.kind == VGG_OUTPUT_FIFO)
                continue;
            int same = o[i].t.kind == VGG_OUTPUT_NEW
                           ? o[j].t.kind == VGG_OUTPUT_NEW &&
                                 strcmp(o[i].t.path, o[j].t.path) == 0
                           : vgg_output_same_file(&o[i].t, o[j].t.path);
            if (!same) continue;
            fprintf(stderr,
                    "%s: %s %s and %s %s name the same file; give each its "
                    "own\n",
                    prog, o[j].flag, o[j].path, o[i].flag, o[i].path);
            cli_outputs_release(o, n);
            return 2;
        }
    }
    if (fifo) signal(SIGPIPE, SIG_IGN);
    return 0;
}

void cli_outputs_release(cli_output *o, int n) {
    for (int i = 0; i < n; i++) vgg_output_release(&o[i].t);
}

int cli_cifar_inputs(const char *dir, cli_input *in, char (*buf)[4200]) {
    static const char *const names[CLI_CIFAR_FILES] = {
        "batches.meta.txt", "data_batch_1.bin", "data_batch_2.bin",
        "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
        "test_batch.bin"};
    for (int i = 0; i < CLI_CIFAR_FILES; i++) {
        snprintf(buf[i], sizeof buf[i], "%.4000s/%s", dir, names[i]);
        in[i].path = buf[i];
        in[i].what = "CIFAR-10 data";
    }
    return CLI_CIFAR_FILES;
}
