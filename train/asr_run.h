/* asr_run.h: what the segmentation and detection ASR fine-tuners share — SR model + Adam (resume), checkpoint attributes, the step loop. */
#pragma once
#include "nn/models/carn.h"
#include "nn/optim.h"
#include "train/finetune_asr.h"

const char *asr_loss_name(AsrLoss l); /* "detail", "all", "cloudseg" */

/* --small is a fraction of the frame, in (0, 1); checked before any file is opened. 0, or -1 with
 * rn_errmsg(). */
int asr_check_small(const AsrCfg *c);

/* What a segmentation detail-mask checkpoint records as `small_of`: the regions were measured on
 * the whole frame's label ("frame"). Checkpoints without it were trained with regions measured on
 * the training crop, and are not resumed under the other definition. */
#define ASR_SMALL_OF "frame"

/* The SR model being trained and its Adam state, on c->device: from c->out when resuming and it exists (step
 * reached in *start), else from c->sr (*start = 0). Fails naming the file when it lacks the x`scale`
 * head. */
int asr_open_sr(const AsrCfg *c, Carn **sr, Optim *opt, long long *start);

/* Writes c->out (temp + rename by ckpt_save): the SR weights, Adam state and the run's settings as
 * attributes (step, scale, quality, asr_loss, alpha, beta, small, seed, sr_init, task, trained_by;
 * segmentation detail-mask runs also small_of = ASR_SMALL_OF; detection runs task_kind = det and
 * focal). */
int asr_save(const AsrCfg *c, Carn *sr, Optim *opt, long long step);

/* One step's forward pass: *l1 = L1(SR(lr), hr), *la = the analytics loss (NULL when c->beta = 0).
 * Returns 0, or -1 with rn_errmsg() (a file that failed to load). Under mpirun each rank holds a
 * shard of the batch, and its *la must be such that the mean over ranks is the whole batch's loss
 * (a mean over counted pixels is scaled by dist_share of its count; means over items or elements
 * of equal shards already are). */
typedef int (*AsrForwardFn)(void *ctx, long long step, Tensor **l1, Tensor **la);

/* Steps start..c->steps: loss = alpha*l1 + beta*la, backward, Adam on the SR model only, arena
 * reset; each step appends "step,loss,l1,la,lr" to <out>_loss.csv (rows past `start` dropped
 * first, so a resumed run's log equals an uninterrupted one's), progress lines unless c->quiet,
 * a checkpoint every c->ckpt_every steps and at the end. `what` names the run in progress lines. */
int asr_loop(const AsrCfg *c, const char *what, Carn *sr, Optim *opt, long long start, AsrForwardFn fwd, void *ctx);
