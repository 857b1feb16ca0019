/* Status codes and error messages (part of the public API, vgg/vgg.h).
 * The library never prints or exits: a failing call returns a status and,
 * when given a vgg_error, a message naming what is wrong and what was
 * expected. The programs in src/cli decide what to show and how to exit. */
#ifndef VGG_STATUS_H
#define VGG_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#define VGG_VERSION_STRING "0.1.0"

/* Marks the functions the shared library exports; everything else in it
 * is hidden (built with -fvisibility=hidden). */
#if defined(__GNUC__)
#define VGG_API __attribute__((visibility("default")))
#else
#define VGG_API
#endif

typedef enum vgg_status {
    VGG_OK = 0,
    VGG_ERR_IO,          /* a file could not be opened, read or written */
    VGG_ERR_FORMAT,      /* a file's contents are not what was expected */
    VGG_ERR_NOMEM,       /* an allocation failed */
    VGG_ERR_ARG,         /* a caller-supplied value is out of range */
    VGG_ERR_MISMATCH,    /* a checkpoint does not fit the model or flags */
    VGG_ERR_DIVERGED,    /* a loss or gradient became non-finite */
    VGG_ERR_INTERRUPTED, /* a signal asked the run to stop */
} vgg_status;

typedef struct vgg_error {
    vgg_status status;
    char msg[1024];
} vgg_error;

/* A short description of st ("input/output error", ...); never NULL. */
VGG_API const char *vgg_status_to_string(vgg_status st);

/* Records st and a printf-style message in err (which may be NULL) and
 * returns st, so that callers can write `return vgg_fail(err, ...)`. */
VGG_API vgg_status vgg_fail(vgg_error *err, vgg_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
