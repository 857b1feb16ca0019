/* Output files, written one way by every writer: atomically, through a
 * temporary file in the same folder that is flushed, fsync'ed and renamed
 * over the path, and then the folder synced.
 *
 *   vgg_output o;
 *   if (vgg_output_open(&o, path, "checkpoint", &err)) -> report
 *   vgg_output_write(&o, bytes, n); ...            (or fprintf(o.f, ...))
 *   if (vgg_output_close(&o, &err)) -> report      (path untouched)
 * or, to give up, vgg_output_abort(&o). */
#ifndef VGG_OUTPUT_H
#define VGG_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "vgg/status.h"

typedef struct vgg_output {
    FILE *f;           /* write here between open and close */
    const char *path;  /* as given, for messages */
    const char *what;  /* "checkpoint": what messages call the file */
    int error;         /* errno of the first failed vgg_output_write */
    char dir[4096];    /* the folder the file goes in */
    char tmp[4200];    /* the temporary file */
} vgg_output;

/* Creates the temporary file next to path. path and what must outlive o. */
vgg_status vgg_output_open(vgg_output *o, const char *path, const char *what,
                           vgg_error *err);

/* Writes n bytes; returns 0, or -1 after remembering why for close. */
int vgg_output_write(vgg_output *o, const void *p, size_t n);

/* Flushes, syncs and renames the temporary over path, then syncs the
 * folder. On failure the temporary is removed and path is unchanged. */
vgg_status vgg_output_close(vgg_output *o, vgg_error *err);

/* Closes and removes the temporary; path is unchanged. */
void vgg_output_abort(vgg_output *o);

#endif
