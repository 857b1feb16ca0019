/* vggtrain --resume: adopting and checking a checkpoint's settings. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/common/args.h"
#include "cli/train_resume.h"

static const char *prog = "vggtrain";

/* --resume: adopts the checkpoint's settings for flags not given and
 * refuses flags that contradict it. Returns 0, or an exit status. */
int train_resume_options(options *o, vgg_config *cfg, vgg_ckpt_meta *ck) {
    vgg_error err = {0};
    if (vgg_checkpoint_read_meta(o->resume, ck, &err)) {
        fprintf(stderr, "%s: --resume: %s\n", prog, err.msg);
        return 1;
    }
    const char *bad = NULL;
    char mine[64] = "", theirs[400] = "";
#define RESUME_SAME(flag, field, ckval, fmt)                                   \
    if (!bad && train_given(flag) && o->field != (ckval)) {                    \
        bad = flag;                                                            \
        snprintf(mine, sizeof mine, fmt, o->field);                            \
        snprintf(theirs, sizeof theirs, fmt, ckval);                           \
    }                                                                          \
    o->field = (ckval);
    RESUME_SAME("--classes", classes, ck->cfg.classes, "%d")
    RESUME_SAME("--batch-size", batch_size, ck->batch_size, "%d")
    RESUME_SAME("--lr", lr, ck->sgd.lr, "%g")
    RESUME_SAME("--momentum", momentum, ck->sgd.momentum, "%g")
    RESUME_SAME("--weight-decay", weight_decay, ck->sgd.weight_decay, "%g")
    RESUME_SAME("--seed", seed, ck->seed, "%" PRIu64)
    RESUME_SAME("--limit-train", limit_train, ck->limit_train, "%d")
    RESUME_SAME("--limit-test", limit_test, ck->limit_test, "%d")
    RESUME_SAME("--image-size", image_size, ck->cfg.side, "%d")
#undef RESUME_SAME
    if (!bad && o->arch) { /* the table and batch norm */
        vgg_config mine_cfg = *cfg;
        mine_cfg.classes = ck->cfg.classes;
        mine_cfg.head_width = ck->cfg.head_width;
        if (!vgg_config_equal(&mine_cfg, &ck->cfg)) {
            bad = "--arch";
            snprintf(mine, sizeof mine, "'%.50s'", o->arch);
            const char *name = vgg_config_name(&ck->cfg);
            char table[VGG_MAX_LAYERS * 8 + 1];
            vgg_config_format(table, sizeof table, &ck->cfg);
            snprintf(theirs, sizeof theirs, "'%s'%s", name ? name : table,
                     !name && ck->cfg.no_bn ? " without batch norm" : "");
        }
    }
    if (!bad && o->head && cfg->head_width != ck->cfg.head_width) {
        bad = "--head";
        snprintf(mine, sizeof mine, "%.50s", o->head);
        vgg_config_format_head(theirs, sizeof theirs, &ck->cfg);
    }
    if (bad) {
        fprintf(stderr,
                "%s: %s %s contradicts the checkpoint %s (which has %s %s); "
                "drop the "
                "flag to continue that run, or start a new one without "
                "--resume\n",
                prog, bad, mine, o->resume, bad, theirs);
        vgg_ckpt_meta_free(ck);
        return EXIT_USAGE;
    }
    *cfg = ck->cfg;
    if (o->epochs <= ck->epoch) {
        fprintf(stderr,
                "%s: --epochs %d: %s has already completed epoch %d; --epochs "
                "counts all epochs, so pass more than %d\n",
                prog, o->epochs, o->resume, ck->epoch, ck->epoch);
        vgg_ckpt_meta_free(ck);
        return EXIT_USAGE;
    }
    if (!train_given("--out")) o->out = o->resume;
    return 0;
}
