#include "cli/common/args.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int args_int(const char *prog, const char *flag, const char *s, long min,
             long max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) {
        fprintf(stderr, "%s: %s %s: expected a whole number\n", prog, flag, s);
        return -1;
    }
    if (v < min || v > max) {
        fprintf(stderr, "%s: %s %s: expected %ld to %ld\n", prog, flag, s, min,
                max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int args_float(const char *prog, const char *flag, const char *s, double min,
               double max, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) {
        fprintf(stderr, "%s: %s %s: expected a number\n", prog, flag, s);
        return -1;
    }
    if (v < min || v > max) {
        fprintf(stderr, "%s: %s %s: expected %g to %g\n", prog, flag, s, min,
                max);
        return -1;
    }
    *out = (float)v;
    return 0;
}

int args_u64(const char *prog, const char *flag, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') {
        fprintf(stderr, "%s: %s %s: expected a non-negative whole number\n",
                prog, flag, s);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno) {
        fprintf(stderr, "%s: %s %s: expected a non-negative whole number\n",
                prog, flag, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int args_match(const char *prog, int argc, char **argv, int *i,
               const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != 0) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s: missing value\n", prog, name);
        *val = NULL;
        return 1;
    }
    *val = argv[++*i];
    return 1;
}

int args_path(const char *prog, const char *flag, const char *s) {
    if (!s) return -1; /* args_match already said the value is missing */
    if (!*s) {
        fprintf(stderr, "%s: %s: expected a value, got an empty string\n", prog,
                flag);
        return -1;
    }
    return 0;
}
