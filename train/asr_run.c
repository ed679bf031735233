/* asr_run.c: the ASR fine-tuning loop shared by segmentation (finetune_asr.c) and detection (finetune_asr_det.c). */
#include "train/asr_run.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "nn/ops/ops.h"
#include "train/run.h"
#include "util/err.h"

const char *asr_loss_name(AsrLoss l) {
    return l == ASR_LOSS_DETAIL ? "detail" : l == ASR_LOSS_ALL ? "all" : "cloudseg";
}

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
    }
    return 0;
}

int asr_save(const AsrCfg *c, const Carn *sr, const Optim *opt, long long step) {
    CkptAttrs at = {0};
    carn_attrs(sr, &at);
    attrs_set_int(&at, "step", step);
    attrs_set_int(&at, "scale", c->scale);
    attrs_set_int(&at, "quality", c->quality);
    attrs_set_str(&at, "asr_loss", asr_loss_name(c->loss));
    attrs_set_float(&at, "alpha", c->alpha);
    attrs_set_float(&at, "beta", c->beta);
    attrs_set_float(&at, "small", c->small);
    attrs_set_int(&at, "seed", (long long)c->seed);
    attrs_set_str(&at, "sr_init", c->sr);
    attrs_set_str(&at, "task", c->task);
    if (c->kind == ASR_TASK_DET) {
        attrs_set_str(&at, "task_kind", "det");
        attrs_set_float(&at, "focal", c->focal);
    }
    attrs_set_str(&at, "trained_by", "rune finetune-asr");
    return ckpt_save(c->out, &sr->ps, &at, opt);
}

/* One optimisation step; the parts go to *l1v / *lav. NaN (rn_errmsg() set) on failure. */
static double step_once(const AsrCfg *c, Carn *sr, Optim *opt, long long step, AsrForwardFn fwd, void *ctx,
                        double *l1v, double *lav) {
    Tensor *l1 = NULL, *la = NULL;
    if (fwd(ctx, step, &l1, &la) < 0) return NAN;
    Tensor *loss = op_scale(l1, (real_t)c->alpha);
    if (la) loss = op_add(loss, op_scale(la, (real_t)c->beta));
    if (loss_check_finite(loss, "ASR loss") < 0) return NAN;
    *l1v = l1->data[0], *lav = la ? la->data[0] : 0;
    double v = loss->data[0];
    tape_backward(loss);
    opt->lr = c->lr;
    optim_step(opt, &sr->ps);
    params_zero_grad(&sr->ps);
    engine_step_reset();
    return v;
}

int asr_loop(const AsrCfg *c, const char *what, Carn *sr, Optim *opt, long long start, AsrForwardFn fwd, void *ctx) {
    char b1[4096], extra[160] = "";
    TrainLog log;
    TRY(trainlog_open(&log, run_sibling(c->out, "_loss.csv", b1, sizeof b1), "loss,l1,la,lr", start));
    Progress pg;
    progress_start(&pg, what, "steps", c->steps, start);
    for (long long step = start; step < c->steps; step++) {
        double l1 = 0, la = 0, v = step_once(c, sr, opt, step, fwd, ctx, &l1, &la);
        if (isnan(v)) {
            trainlog_close(&log);
            return rn_fail("step %lld: %s", step, rn_errmsg());
        }
        double row[4] = {v, l1, la, c->lr};
        trainlog_row(&log, step + 1, row, 4);
        snprintf(extra, sizeof extra, "loss %.5f  L1 %.5f  L_a %.4f", v, l1, la);
        if (!c->quiet) progress_update(&pg, step + 1, extra, false);
        bool due = (c->ckpt_every > 0 && (step + 1) % c->ckpt_every == 0) || step + 1 == c->steps;
        if (due && asr_save(c, sr, opt, step + 1) < 0) {
            trainlog_close(&log);
            return -1;
        }
    }
    if (!c->quiet) progress_end(&pg, c->steps, extra);
    trainlog_close(&log);
    return 0;
}
