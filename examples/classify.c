/* classify MODEL IMAGE.png: the three most probable classes of a picture,
 * through libvgg's public API only (vgg/vgg.h). Build it against an
 * installed libvgg:
 *   cc classify.c $(pkg-config --cflags --libs vgg) -o classify
 * or with CMake (examples/CMakeLists.txt, find_package(vgg)). */
#include <stdio.h>
#include <vgg/vgg.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: classify MODEL IMAGE.png\n");
        return 2;
    }
    vgg_error err = {0};
    vgg_classifier *c;
    if (vgg_classifier_open(&c, argv[1], 1, &err)) {
        fprintf(stderr, "classify: %s\n", err.msg);
        return 1;
    }
    float logits[VGG_MAX_CLASSES];
    vgg_prediction top[3];
    int status = 0;
    if (vgg_classifier_png(c, argv[2], logits, &err)) {
        fprintf(stderr, "classify: %s\n", err.msg);
        status = 1;
    } else {
        int k = vgg_top_k(top, 3, logits, vgg_classifier_classes(c));
        printf("%s:", argv[2]);
        for (int i = 0; i < k; i++)
            printf("  %s %.4f", vgg_classifier_class_name(c, top[i].label),
                   top[i].prob);
        printf("\n");
    }
    vgg_classifier_close(c);
    return status;
}
