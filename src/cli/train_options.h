/* vggtrain's command line: the options, their defaults, and which flags
 * were given (for --resume's defaults and checks). */
#ifndef VGG_CLI_TRAIN_OPTIONS_H
#define VGG_CLI_TRAIN_OPTIONS_H

#include <stdint.h>

#include "vgg/conv_choice.h"
#include "vgg/schedule.h"

typedef struct options {
    int epochs, classes, batch_size, eval_batch_size, threads;
    int limit_train, limit_test;
    float lr, momentum, weight_decay;
    uint64_t seed;
    const char *data, *arch, *head;
    const char *out, *resume; /* checkpoint written each epoch; resumed */
    const char *class_names;  /* --class-names a,b,c */
    /* the data's layout and input (include/vgg/data.h) */
    int image_size;        /* --image-size S, a multiple of 32 [32] */
    const char *normalize; /* --normalize auto|cifar|none (NULL: the
                              layout's default) */
    const char *labels;    /* --labels fine|coarse (CIFAR-100) */
    float val_split;       /* --val-split F (0: none) */
    int skip_bad;          /* --skip-bad-images */
    const char *init;      /* --init FILE: start from its features */
    const char *cache;     /* --cache FILE: decoded images kept */
    const char *log, *batch_log, *samples, *curve;
    int quiet, sync_bn, no_overlap;
    float mpi_timeout; /* seconds a collective may wait; 0: forever */
    vgg_conv_mode conv;
    vgg_schedule sched;
    /* the schedule flags given, in order, to lay over a resumed run's */
    int nsched;
    char sched_flag[16][64];
    const char *sched_val[16];
} options;

/* The defaults: the recipe, all cores. */
void train_options_init(options *o);

/* Parses argv into o. Returns 0, -1 when --help or --version was printed
 * (exit 0), or EXIT_USAGE after printing why. */
int train_parse_args(options *o, int argc, char **argv);

/* 1 when --flag (or --flag=...) was on the command line. */
int train_given(const char *flag);

#endif
