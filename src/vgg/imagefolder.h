/* Image-folder trees, one sub-folder per class, as torchvision's
 * ImageFolder reads them:
 *
 *   DIR/train/<class>/<file>  and  DIR/test/<class>/<file>
 *   DIR/<class>/<file>        split with val_split (a seeded, per-class
 *                             draw of that fraction into the test split)
 *
 * Class names are the sub-folder names sorted by strcmp (bytes), as
 * torchvision sorts them; both splits must hold the same classes. Only the
 * files directly inside a class folder are read (sub-folders are not
 * walked, so a link back to a parent cannot loop). Each file's format is
 * chosen from its first bytes: PNG or JPEG are decoded (vgg_image_decode),
 * converted to RGB, resized to side x side (include/vgg/image.h's filter)
 * and stored as planar records, the layout vgg_cifar_load fills. A file
 * that is neither is skipped and counted, unless its name ends in an image
 * extension (.png .jpg .jpeg .jpe .jfif, any case): then it claims to be an
 * image, and is bad like a damaged image.
 *
 * Files are decoded on every OpenMP thread into the final buffer. A bad
 * file (damaged, too large, smaller than 2x2, unreadable, a link loop) is
 * an error naming it, or with skip_bad a warning through on_bad and a
 * count. */
#ifndef VGG_IMAGEFOLDER_H
#define VGG_IMAGEFOLDER_H

#include <stdint.h>

#include "vgg/cifar.h"
#include "vgg/status.h"

/* Called from one thread at a time, done of total files decoded so far
 * (the last call has done == total). */
typedef void (*vgg_folder_progress)(void *user, int done, int total);
/* Called once per bad file skipped with skip_bad, in file order; msg names
 * the file and what is wrong. */
typedef void (*vgg_folder_warning)(void *user, const char *msg);

typedef struct vgg_folder_options {
    const char *dir;
    int side;         /* output images are side x side (32 if 0) */
    double val_split; /* single-split trees: the test fraction (0 < F < 1) */
    uint64_t seed;    /* for the val_split draw */
    int skip_bad;     /* 1: bad images are skipped with a warning */
    int limit_train, limit_test; /* 0: all; else N files taken one from
                                    each class in turn, in name order */
    int test_only;               /* 1: the test split only (train left empty) */
    /* A file of the decoded images, or NULL. Read instead of decoding
     * when it was written for the same list of files, each with the same
     * size and modification time, and the same settings; else written
     * (atomically) after a successful decode. */
    const char *cache;
    vgg_folder_progress progress;
    vgg_folder_warning on_bad;
    void *user;
} vgg_folder_options;

typedef struct vgg_folder_report {
    int files;      /* files seen in class folders (not sub-folders) */
    int images;     /* decoded (both splits, before any class choice) */
    int skipped;    /* neither PNG nor JPEG and not named as an image,
                       and sub-folders of class folders */
    int bad;        /* bad images skipped (skip_bad) */
    int resized;    /* images whose size was not side x side */
    int two_splits; /* 1: train/ and test/; 0: one split with val_split */
    double seconds; /* wall-clock time of the decoding (or of reading
                       the cache) */
    int cache;      /* VGG_FOLDER_CACHE_* */
    char cache_error[1024]; /* why the cache could not be written */
} vgg_folder_report;

enum {
    VGG_FOLDER_CACHE_NONE = 0, /* not asked for */
    VGG_FOLDER_CACHE_READ,     /* it matched: nothing was decoded */
    VGG_FOLDER_CACHE_WRITTEN,  /* decoded, then written */
    VGG_FOLDER_CACHE_MISSED,   /* decoded; writing failed (cache_error) */
};

/* Loads both splits. On failure nothing is left allocated. */
vgg_status vgg_folder_load(vgg_dataset *train, vgg_dataset *test,
                           const vgg_folder_options *opt,
                           vgg_folder_report *report, vgg_error *err);

#endif
