/* Command-line helpers shared by vggtrain and vggeval: strict number
 * parsing that names the flag, and the exit codes. */
#ifndef VGG_CLI_ARGS_H
#define VGG_CLI_ARGS_H

#include <stdint.h>

enum { EXIT_USAGE = 2 };

/* Each returns 0 on success; on failure prints "prog: --flag VALUE: why"
 * to stderr and returns -1. */
int args_int(const char *prog, const char *flag, const char *s, long min,
             long max, int *out);
int args_float(const char *prog, const char *flag, const char *s, double min,
               double max, float *out);
int args_u64(const char *prog, const char *flag, const char *s, uint64_t *out);

/* Matches argv[*i] against --name or --name=value. On a match sets *val
 * (the next argument, or the text after '=') and advances *i; a missing
 * value prints an error and sets *val to NULL. Returns 1 on a match. */
int args_match(const char *prog, int argc, char **argv, int *i,
               const char *name, const char **val);

/* Checks a flag that takes a path or a name: present and not empty. Prints the
 * error and returns -1 otherwise. */
int args_path(const char *prog, const char *flag, const char *s);

/* Prints VGG_GEMM=check's results on stderr (gemm_report.c). */
void cli_gemm_report(void);

#endif
