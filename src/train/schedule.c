#include "vgg/schedule.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vgg_schedule_init(vgg_schedule *s, float base_lr) {
    memset(s, 0, sizeof *s);
    s->kind = VGG_LR_CONSTANT;
    s->base_lr = base_lr;
    s->min_lr = 0.0f;
    s->gamma = 0.1f;
}

const char *vgg_lr_kind_name(vgg_lr_kind k) {
    switch (k) {
    case VGG_LR_CONSTANT:
        return "constant";
    case VGG_LR_STEP:
        return "step";
    case VGG_LR_COSINE:
        return "cosine";
    }
    return "unknown";
}

float vgg_lr_at(const vgg_schedule *s, int epoch, int total_epochs) {
    double B = s->base_lr;
    int W = s->warmup > 0 ? s->warmup : 0;
    if (epoch <= W) return (float)(B * epoch / (W + 1));
    switch (s->kind) {
    case VGG_LR_CONSTANT:
        return (float)B;
    case VGG_LR_STEP: {
        double lr = B;
        for (int i = 0; i < s->nsteps; i++)
            if (epoch > s->steps[i]) lr *= s->gamma;
        return (float)lr;
    }
    case VGG_LR_COSINE: {
        int span = total_epochs - W;
        if (span <= 0) return (float)B;
        double t = epoch - W - 1;
        if (t > span) t = span;
        const double pi = 3.14159265358979323846;
        return (float)(s->min_lr +
                       (B - s->min_lr) * (1.0 + cos(pi * t / span)) / 2.0);
    }
    }
    return (float)B;
}

/* A whole-string number; 0 on success. */
static int parse_double(const char *v, double *out) {
    if (!v || !*v) return -1;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || *end || end == v || !isfinite(d)) return -1;
    *out = d;
    return 0;
}

static int parse_int(const char *v, long *out) {
    if (!v || !*v) return -1;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v) return -1;
    *out = x;
    return 0;
}

vgg_status vgg_schedule_parse_kind(vgg_schedule *s, const char *value,
                                   vgg_error *err) {
    static const vgg_lr_kind kinds[] = {VGG_LR_CONSTANT, VGG_LR_STEP,
                                        VGG_LR_COSINE};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (value && strcmp(value, vgg_lr_kind_name(kinds[i])) == 0) {
            s->kind = kinds[i];
            return VGG_OK;
        }
    return vgg_fail(err, VGG_ERR_ARG,
                    "--lr-schedule %s: expected constant, step or cosine",
                    value ? value : "(missing)");
}

vgg_status vgg_schedule_parse_steps(vgg_schedule *s, const char *value,
                                    vgg_error *err) {
    const char *v = value ? value : "";
    int n = 0;
    int steps[VGG_LR_MAX_STEPS];
    const char *p = v;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || (*end && *end != ',') || x < 1 || x > 1000000)
            return vgg_fail(err, VGG_ERR_ARG,
                            "--lr-steps %s: expected epochs (whole numbers "
                            ">= 1) separated by commas, e.g. 30,40",
                            v);
        if (n == VGG_LR_MAX_STEPS)
            return vgg_fail(err, VGG_ERR_ARG,
                            "--lr-steps %s: more than %d milestones", v,
                            VGG_LR_MAX_STEPS);
        if (n > 0 && x <= steps[n - 1])
            return vgg_fail(err, VGG_ERR_ARG,
                            "--lr-steps %s: milestone %ld does not follow "
                            "%d; expected rising epochs, e.g. 30,40",
                            v, x, steps[n - 1]);
        steps[n++] = (int)x;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return vgg_fail(err, VGG_ERR_ARG,
                            "--lr-steps %s: trailing comma; expected e.g. "
                            "30,40",
                            v);
    }
    if (n == 0)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--lr-steps: empty; expected epochs separated by "
                        "commas, e.g. 30,40");
    memcpy(s->steps, steps, (size_t)n * sizeof *steps);
    s->nsteps = n;
    return VGG_OK;
}

vgg_status vgg_schedule_parse_gamma(vgg_schedule *s, const char *value,
                                    vgg_error *err) {
    double g;
    if (parse_double(value, &g) || !(g > 0.0 && g <= 1.0))
        return vgg_fail(err, VGG_ERR_ARG,
                        "--lr-gamma %s: expected a factor above 0 and at "
                        "most 1, e.g. 0.1",
                        value ? value : "(missing)");
    s->gamma = (float)g;
    return VGG_OK;
}

vgg_status vgg_schedule_parse_min(vgg_schedule *s, const char *value,
                                  vgg_error *err) {
    double m;
    if (parse_double(value, &m) || m < 0.0)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--lr-min %s: expected a learning rate >= 0",
                        value ? value : "(missing)");
    s->min_lr = (float)m;
    return VGG_OK;
}

vgg_status vgg_schedule_parse_warmup(vgg_schedule *s, const char *value,
                                     vgg_error *err) {
    long w;
    if (parse_int(value, &w) || w < 0 || w > 1000000)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--warmup %s: expected a whole number of epochs >= 0",
                        value ? value : "(missing)");
    s->warmup = (int)w;
    return VGG_OK;
}

typedef vgg_status (*parse_fn)(vgg_schedule *, const char *, vgg_error *);
static const struct {
    const char *flag;
    parse_fn fn;
} flags[] = {
    {"--lr-schedule", vgg_schedule_parse_kind},
    {"--lr-steps", vgg_schedule_parse_steps},
    {"--lr-gamma", vgg_schedule_parse_gamma},
    {"--lr-min", vgg_schedule_parse_min},
    {"--warmup", vgg_schedule_parse_warmup},
};

int vgg_schedule_is_flag(const char *flag) {
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flag && strcmp(flag, flags[i].flag) == 0) return 1;
    return 0;
}

vgg_status vgg_schedule_set(vgg_schedule *s, const char *flag,
                            const char *value, vgg_error *err) {
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flag && strcmp(flag, flags[i].flag) == 0)
            return flags[i].fn(s, value, err);
    return vgg_fail(err, VGG_ERR_ARG,
                    "%s: not a learning-rate schedule flag; expected "
                    "--lr-schedule, --lr-steps, --lr-gamma, --lr-min or "
                    "--warmup",
                    flag ? flag : "(null)");
}

vgg_status vgg_schedule_check(const vgg_schedule *s, int total_epochs,
                              vgg_error *err) {
    if (!(s->base_lr > 0.0f) || !isfinite(s->base_lr))
        return vgg_fail(err, VGG_ERR_ARG,
                        "--lr %g: expected a learning rate above 0",
                        (double)s->base_lr);
    if (s->kind == VGG_LR_STEP && s->nsteps == 0)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--lr-schedule step needs --lr-steps, e.g. "
                        "--lr-steps 30,40");
    if (s->kind != VGG_LR_STEP && s->nsteps > 0)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--lr-steps is only used by --lr-schedule step (the "
                        "schedule is %s)",
                        vgg_lr_kind_name(s->kind));
    if (s->warmup > 0 && s->warmup >= total_epochs)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--warmup %d: expected fewer warm-up epochs than "
                        "--epochs %d",
                        s->warmup, total_epochs);
    if (s->kind == VGG_LR_COSINE && s->min_lr > s->base_lr)
        return vgg_fail(err, VGG_ERR_ARG,
                        "--lr-min %g: expected at most --lr %g",
                        (double)s->min_lr, (double)s->base_lr);
    return VGG_OK;
}

int vgg_schedule_describe(const vgg_schedule *s, char *buf, size_t n) {
    char warm[48] = "";
    if (s->warmup > 0)
        snprintf(warm, sizeof warm, " after %d warm-up epoch%s", s->warmup,
                 s->warmup == 1 ? "" : "s");
    switch (s->kind) {
    case VGG_LR_STEP: {
        char list[VGG_LR_MAX_STEPS * 8 + 1] = "";
        size_t used = 0;
        for (int i = 0; i < s->nsteps && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%d",
                                     i ? "," : "", s->steps[i]);
        return snprintf(buf, n, "step from %g, x%g after epochs %s%s",
                        (double)s->base_lr, (double)s->gamma, list, warm);
    }
    case VGG_LR_COSINE:
        return snprintf(buf, n, "cosine from %g to %g%s", (double)s->base_lr,
                        (double)s->min_lr, warm);
    default:
        return snprintf(buf, n, "constant %g%s", (double)s->base_lr, warm);
    }
}
