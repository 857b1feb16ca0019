/* vggexport: a vggtrain checkpoint as an ONNX model (vgg/onnx.h). */
#include <stdio.h>
#include <string.h>

#include "cli/common/args.h"
#include "vgg/checkpoint.h"
#include "vgg/model.h"
#include "vgg/onnx.h"

static const char *prog = "vggexport";

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: vggexport MODEL OUT.onnx\n"
        "Writes the network of a vggtrain checkpoint (MODEL, e.g. model.bin) "
        "as an\n"
        "ONNX model in evaluation mode: input 'input', float32 [N,3,32,32], "
        "RGB in\n"
        "[0,1] (pixel / 255); the checkpoint's per-channel normalisation is "
        "the\n"
        "graph's first two nodes; batch norm is folded into the convolutions;\n"
        "output 'logits', float32 [N,classes]. The class names are in the "
        "model's\n"
        "metadata (key class_names, a JSON array in label order). IR version "
        "8,\n"
        "opset 13. OUT.onnx is replaced atomically: on any error it is left as "
        "it\n"
        "was and no partial file remains.\n"
        "\n"
        "  --help             this text\n"
        "  --version          the version\n"
        "\n"
        "Exit status: 0 written, 1 runtime error (unreadable or bad "
        "checkpoint,\n"
        "a layer ONNX cannot express, unwritable output), 2 usage error.\n");
}

int main(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("vggexport %s\n", VGG_VERSION_STRING);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "%s: unknown option '%s'; see --help\n", prog,
                    argv[i]);
            return EXIT_USAGE;
        } else if (!in) {
            in = argv[i];
        } else if (!out) {
            out = argv[i];
        } else {
            fprintf(stderr,
                    "%s: unexpected argument '%s'; expected MODEL "
                    "OUT.onnx\n",
                    prog, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!in || !out || !*in || !*out) {
        fprintf(stderr,
                "%s: expected MODEL OUT.onnx (e.g. vggexport "
                "model.bin model.onnx); see --help\n",
                prog);
        return EXIT_USAGE;
    }
    vgg_error err = {0};
    vgg_ckpt_meta meta;
    if (vgg_checkpoint_read_meta(in, &meta, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return 1;
    }
    vgg_model *m = NULL;
    int status = 1;
    if (vgg_model_create(&m, &meta.cfg, 1, &err) ||
        vgg_checkpoint_load(in, m, NULL, &err) ||
        vgg_onnx_save(out, m, &meta, in, &err))
        fprintf(stderr, "%s: %s\n", prog, err.msg);
    else
        status = 0;
    vgg_model_free(m);
    vgg_ckpt_meta_free(&meta);
    return status;
}
