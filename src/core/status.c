#include "vgg/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *vgg_status_to_string(vgg_status st) {
    switch (st) {
    case VGG_OK:
        return "ok";
    case VGG_ERR_IO:
        return "input/output error";
    case VGG_ERR_FORMAT:
        return "bad file format";
    case VGG_ERR_NOMEM:
        return "out of memory";
    case VGG_ERR_ARG:
        return "invalid argument";
    case VGG_ERR_MISMATCH:
        return "checkpoint mismatch";
    case VGG_ERR_DIVERGED:
        return "training diverged";
    case VGG_ERR_INTERRUPTED:
        return "interrupted";
    }
    return "unknown status";
}

vgg_status vgg_fail(vgg_error *err, vgg_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = st;
    }
    return st;
}
