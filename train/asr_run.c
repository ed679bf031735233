/* asr_run.c: the ASR fine-tuning loop shared by segmentation (finetune_asr.c) and detection (finetune_asr_det.c). */
#include "train/asr_run.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nn/dist.h"
#include "nn/ops/ops.h"
#include "train/run.h"
#include "util/err.h"

const char *asr_loss_name(AsrLoss l) {
    return l == ASR_LOSS_DETAIL ? "detail" : l == ASR_LOSS_ALL ? "all" : "cloudseg";
}

int asr_check_small(const AsrCfg *c) {
    if (!(c->small > 0 && c->small < 1))
        return rn_fail("--small %g: a fraction of the frame's area, between 0 and 1 (0.01 = 1 %% of the frame)", c->small);
    return 0;
}

/* Only a segmentation detail-mask run depends on where regions are measured. */
static bool seg_detail(const AsrCfg *c) { return c->kind == ASR_TASK_SEG && c->loss == ASR_LOSS_DETAIL; }

int asr_open_sr(const AsrCfg *c, Carn **sr, Optim *opt, long long *start) {
    bool resuming = c->resume && access(c->out, F_OK) == 0;
    const char *from = resuming ? c->out : c->sr;
    CkptAttrs at;
    TRY(carn_load(from, sr, &at));
    if (!carn_has_scale(*sr, c->scale)) return rn_fail("%s: no x%d head", from, c->scale);
    optim_init_adam(opt, &(*sr)->ps, c->lr, 0.9, 0.999, 1e-8, 0);
    *start = 0;
    if (resuming) {
        TRY(ckpt_load(c->out, &(*sr)->ps, &at, opt));
        *start = attrs_get_int(&at, "step", 0);
        if (seg_detail(c) && strcmp(attrs_get_str(&at, "small_of", ""), ASR_SMALL_OF))
            return rn_fail("%s: trained with the detail mask measured on training crops (no small_of = %s); the mask "
                           "is now measured on the whole frame: start the run again rather than resume it",
                           c->out, ASR_SMALL_OF);
    }
    TRY(dist_same(*start, "the step to resume from"));
    dist_broadcast_state(&(*sr)->ps, opt); /* every rank starts from rank 0's state */
    /* loaded on the host (files are host memory), trained on c->device */
    params_to_device(&(*sr)->ps, c->device);
    optim_to_device(opt, c->device);
    return 0;
}

int asr_save(const AsrCfg *c, Carn *sr, Optim *opt, long long step) {
    CkptAttrs at = {0};
    carn_attrs(sr, &at);
    attrs_set_int(&at, "step", step);
    attrs_set_int(&at, "scale", c->scale);
    attrs_set_int(&at, "quality", c->quality);
    attrs_set_str(&at, "asr_loss", asr_loss_name(c->loss));
    attrs_set_float(&at, "alpha", c->alpha);
    attrs_set_float(&at, "beta", c->beta);
    attrs_set_float(&at, "small", c->small);
    if (seg_detail(c)) attrs_set_str(&at, "small_of", ASR_SMALL_OF);
    attrs_set_int(&at, "seed", (long long)c->seed);
    attrs_set_str(&at, "sr_init", c->sr);
    attrs_set_str(&at, "task", c->task);
    if (c->kind == ASR_TASK_DET) {
        attrs_set_str(&at, "task_kind", "det");
        attrs_set_float(&at, "focal", c->focal);
    }
    attrs_set_str(&at, "trained_by", "rune finetune-asr");
    return ckpt_save_any(c->out, &sr->ps, &at, opt); /* from a device too: host copies for the write */
}

typedef struct AsrLoopCtx {
    const AsrCfg *c;
    Carn *sr;
    Optim *opt;
    AsrForwardFn fwd;
    void *ctx;
} AsrLoopCtx;

/* One optimisation step: vals = {loss, l1, la, lr}. */
static int step_once(void *ctx, long long step, double *vals, char *extra, size_t n) {
    AsrLoopCtx *x = ctx;
    const AsrCfg *c = x->c;
    Tensor *l1 = NULL, *la = NULL;
    TRY(x->fwd(x->ctx, step, &l1, &la));
    Tensor *loss = op_scale(l1, (real_t)c->alpha);
    if (la) loss = op_add(loss, op_scale(la, (real_t)c->beta));
    TRY(loss_check_finite(loss, "ASR loss"));
    vals[0] = tensor_item(loss), vals[1] = tensor_item(l1), vals[2] = la ? tensor_item(la) : 0, vals[3] = c->lr;
    tape_backward(loss);
    /* the forward function made each rank's loss a share of the global mean (asr_run.h): the
     * mean over ranks of the gradients and of the logged losses is the whole batch's */
    dist_average_grads(&x->sr->ps);
    dist_mean(vals, 3);
    x->opt->lr = c->lr;
    optim_step(x->opt, &x->sr->ps);
    params_zero_grad(&x->sr->ps);
    engine_step_reset();
    snprintf(extra, n, "loss %.5f  L1 %.5f  L_a %.4f", vals[0], vals[1], vals[2]);
    return 0;
}

static int checkpoint(void *ctx, long long step) {
    AsrLoopCtx *x = ctx;
    return asr_save(x->c, x->sr, x->opt, step);
}

int asr_loop(const AsrCfg *c, const char *what, Carn *sr, Optim *opt, long long start, AsrForwardFn fwd, void *ctx) {
    char buf[4096];
    AsrLoopCtx x = {c, sr, opt, fwd, ctx};
    TrainLoop L = {what, run_sibling(c->out, "_loss.csv", buf, sizeof buf), "loss,l1,la,lr", 4, start, c->steps,
                   c->ckpt_every, c->quiet, &x, step_once, checkpoint};
    return train_loop(&L);
}
