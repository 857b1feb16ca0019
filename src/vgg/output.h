/* Output files, opened one way by every writer (checkpoints, logs,
 * pictures) for every program and flag. What happens depends on what the
 * path names:
 *   - nothing yet, or a regular file: written atomically, through a
 *     temporary file in the same folder that is flushed, fsync'ed and
 *     renamed over the path, then the folder synced; a failure leaves the
 *     previous file as it was;
 *   - a symbolic link: followed to the end (at most VGG_OUTPUT_MAX_LINKS
 *     links; a relative link is read from the link's folder), and its
 *     target replaced as above; the link itself stays;
 *   - a character device (/dev/null) or a FIFO: the bytes are written
 *     straight into it, with no temporary and no rename. A FIFO is opened
 *     without blocking, so one that nobody reads is an error (ENXIO), not
 *     a hang; the writes themselves then block as a pipe's do;
 *   - a regular file reached through /proc (/dev/stdout redirected to a
 *     file): an open file of this process, appended to in place;
 *   - a folder, a block device, a socket or anything else: refused
 *     (VGG_ERR_ARG), nothing touched.
 * Logs that grow by rows (VGG_OUTPUT_APPEND) are appended to in place,
 * with the same handling of links, devices, FIFOs and refusals.
 *
 *   vgg_output o;
 *   if (vgg_output_open(&o, path, "checkpoint", &err)) -> report
 *   vgg_output_write(&o, bytes, n); ...            (or fprintf(o.f, ...))
 *   if (vgg_output_close(&o, &err)) -> report      (path untouched)
 * or, to give up, vgg_output_abort(&o).
 *
 * Before any work, vgg_output_check tells a program whether a path will
 * take its output (kind, folder, permission, a FIFO's reader). */
#ifndef VGG_OUTPUT_H
#define VGG_OUTPUT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "vgg/status.h"

#define VGG_OUTPUT_MAX_LINKS 40
#define VGG_OUTPUT_PATH_MAX 4096

typedef enum vgg_output_kind {
    VGG_OUTPUT_NEW,    /* nothing there yet: created atomically */
    VGG_OUTPUT_FILE,   /* a regular file: replaced atomically */
    VGG_OUTPUT_DEVICE, /* a character device: written in place */
    VGG_OUTPUT_FIFO,   /* a FIFO: written in place, never blocking on open */
    VGG_OUTPUT_OPEN,   /* a regular file through /proc: appended in place */
} vgg_output_kind;

typedef enum vgg_output_mode {
    VGG_OUTPUT_REPLACE, /* the whole file, atomically (checkpoints, PNG) */
    VGG_OUTPUT_APPEND,  /* rows added at the end (logs) */
} vgg_output_mode;

/* What a path names, with its symbolic links followed. */
typedef struct vgg_output_target {
    vgg_output_kind kind;
    int links;                      /* symbolic links followed */
    struct stat st;                 /* the target's, unless kind NEW */
    char path[VGG_OUTPUT_PATH_MAX]; /* the file written (the link's target) */
    char dir[VGG_OUTPUT_PATH_MAX];  /* its folder */
    int fd;                         /* vgg_output_check's held FIFO, or -1 */
} vgg_output_target;

typedef struct vgg_output {
    FILE *f;          /* write here between open and close */
    const char *path; /* as given, for messages */
    const char *what; /* "checkpoint": what messages call the file */
    vgg_output_mode mode;
    vgg_output_target t;
    int error; /* errno of the first failed vgg_output_write */
    char tmp[VGG_OUTPUT_PATH_MAX + 32]; /* the temporary ("" in place) */
} vgg_output;

/* Follows path's symbolic links and classifies the target. A folder, a
 * block device, a socket or another kind is VGG_ERR_ARG; a loop of links
 * or a path that cannot be looked up is VGG_ERR_IO. Messages name path
 * (and the target when it was a link). */
vgg_status vgg_output_resolve(const char *path, vgg_output_target *t,
                              vgg_error *err);

/* Whether path will take output written in mode, before any work is
 * done: its kind (as vgg_output_resolve), a folder that exists and that we
 * may write in (REPLACE, or APPEND to a new file), a file or device we may
 * write (APPEND, devices). hold non-zero opens a FIFO now, without
 * blocking: no reader is VGG_ERR_IO, and t->fd keeps the write end open
 * (release it with vgg_output_release) so that a reader does not see the
 * end of the stream between two writes. As root, access() grants write
 * permission whatever the mode bits say, so only a read-only filesystem
 * (EROFS) is found here. t may be NULL. */
vgg_status vgg_output_check(const char *path, vgg_output_mode mode,
                            vgg_output_target *t, int hold, vgg_error *err);
void vgg_output_release(vgg_output_target *t);

/* Whether other (followed) is the file t names: 0 when either does not
 * exist, or t is a character device (/dev/null may be named twice). */
int vgg_output_same_file(const vgg_output_target *t, const char *other);

/* Opens path for output in mode (see the top). path and what must outlive
 * o. */
vgg_status vgg_output_open(vgg_output *o, const char *path, const char *what,
                           vgg_output_mode mode, vgg_error *err);

/* Writes n bytes; returns 0, or -1 after remembering why for close. */
int vgg_output_write(vgg_output *o, const void *p, size_t n);

/* Finishes the output: flushes, and for an atomic write syncs the
 * temporary, renames it over the target and syncs the folder. On failure
 * the temporary is removed and the previous file is unchanged. */
vgg_status vgg_output_close(vgg_output *o, vgg_error *err);

/* Closes and removes the temporary; the previous file is unchanged (what
 * was written in place stays written). */
void vgg_output_abort(vgg_output *o);

/* The whole of data[0..n) as path, in one call (open, write, close). */
vgg_status vgg_output_save(const char *path, const void *data, size_t n,
                           const char *what, vgg_error *err);

/* Opens an input that must be a regular file (a checkpoint, a data file)
 * for reading, without blocking on a FIFO: a folder, a device, a FIFO or
 * a socket is VGG_ERR_IO "PATH: not a regular file (a FIFO)". */
vgg_status vgg_input_open(const char *path, FILE **f, vgg_error *err);

/* "a folder", "a FIFO", ...: what a file type is called in messages. */
const char *vgg_file_kind_name(mode_t mode);

#endif
