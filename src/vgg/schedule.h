/* Learning-rate schedules, per epoch: constant (the default, as in the
 * reference notebook), step and cosine, with optional linear warm-up.
 *
 *   vgg_schedule s;
 *   vgg_schedule_init(&s, lr);                      constant, no warm-up
 *   for each flag: --lr-schedule --lr-steps --lr-gamma --lr-min --warmup
 *       if (vgg_schedule_set(&s, flag, value, &err)) -> usage error
 *   if (vgg_schedule_check(&s, epochs, &err)) -> usage error
 *   each epoch e = 1..epochs:  sgd.lr = vgg_lr_at(&s, e, epochs);
 *
 * Formulas, with base rate B, epoch e (1-based), total epochs T, warm-up
 * W epochs:
 *   warm-up   e <= W:  B * e / (W + 1)    (rises linearly; epoch W + 1 is
 *                                          the first at the schedule's rate)
 *   constant:          B
 *   step:              B * gamma^m, m = number of milestones M with e > M
 *                      (--lr-steps 30,40: epochs 1-30 at B, 31-40 at
 *                      B*gamma, 41 on at B*gamma^2; PyTorch's MultiStepLR
 *                      stepped once per epoch). Milestones count from
 *                      epoch 1, warm-up included.
 *   cosine:            min + (B - min) * (1 + cos(pi * t / (T - W))) / 2,
 *                      t = e - W - 1: B at the first epoch after warm-up,
 *                      approaching min at the last (PyTorch's
 *                      CosineAnnealingLR with T_max = T - W, eta_min = min).
 */
#ifndef VGG_SCHEDULE_H
#define VGG_SCHEDULE_H

#include <stddef.h>

#include "vgg/status.h"

#define VGG_LR_MAX_STEPS 32

typedef enum vgg_lr_kind {
    VGG_LR_CONSTANT,
    VGG_LR_STEP,
    VGG_LR_COSINE,
} vgg_lr_kind;

typedef struct vgg_schedule {
    vgg_lr_kind kind;
    float base_lr;
    float min_lr; /* cosine's floor; 0 by default */
    float gamma;  /* step's factor; 0.1 by default */
    int nsteps;   /* step's milestones, ascending epochs */
    int steps[VGG_LR_MAX_STEPS];
    int warmup; /* epochs of linear warm-up; 0 by default */
} vgg_schedule;

void vgg_schedule_init(vgg_schedule *s, float base_lr);

/* The learning rate of epoch (1-based) in a run of total_epochs. */
float vgg_lr_at(const vgg_schedule *s, int epoch, int total_epochs);

/* Flag parsers; each error names the flag and the value expected. */
vgg_status vgg_schedule_parse_kind(vgg_schedule *s, const char *value,
                                   vgg_error *err); /* --lr-schedule */
vgg_status vgg_schedule_parse_steps(vgg_schedule *s, const char *value,
                                    vgg_error *err); /* --lr-steps 30,40 */
vgg_status vgg_schedule_parse_gamma(vgg_schedule *s, const char *value,
                                    vgg_error *err); /* --lr-gamma 0.1 */
vgg_status vgg_schedule_parse_min(vgg_schedule *s, const char *value,
                                  vgg_error *err); /* --lr-min 0 */
vgg_status vgg_schedule_parse_warmup(vgg_schedule *s, const char *value,
                                     vgg_error *err); /* --warmup N */

/* Dispatches on the flag's name (one of the five above, with the leading
 * dashes). Returns VGG_ERR_ARG for a flag it does not know;
 * vgg_schedule_is_flag says beforehand. */
int vgg_schedule_is_flag(const char *flag);
vgg_status vgg_schedule_set(vgg_schedule *s, const char *flag,
                            const char *value, vgg_error *err);

/* Checks the whole against the run: step needs milestones (milestones
 * past total_epochs are allowed: a resumed run may go further), warm-up
 * below total_epochs, min_lr not above base_lr for cosine, and no
 * --lr-steps without step. */
vgg_status vgg_schedule_check(const vgg_schedule *s, int total_epochs,
                              vgg_error *err);

/* One line for the start-of-run summary and the checkpoint, e.g.
 * "cosine from 0.01 to 0 after 5 warm-up epochs". Returns what snprintf
 * returns. */
int vgg_schedule_describe(const vgg_schedule *s, char *buf, size_t n);

const char *vgg_lr_kind_name(vgg_lr_kind k);

#endif
