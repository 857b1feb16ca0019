/* vggtrain --resume: the checkpoint's settings for the flags not given. */
#ifndef VGG_CLI_TRAIN_RESUME_H
#define VGG_CLI_TRAIN_RESUME_H

#include "cli/train_options.h"
#include "vgg/checkpoint.h"
#include "vgg/model.h"

/* Reads o->resume's metadata into ck, adopts its settings for flags not
 * given and refuses flags that contradict it; sets *cfg to its network.
 * Returns 0, or an exit status after printing why (ck is then freed). */
int train_resume_options(options *o, vgg_config *cfg, vgg_ckpt_meta *ck);

#endif
