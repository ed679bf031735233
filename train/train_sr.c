/* train_sr.c: the base SR training loop — L1 on random HR patches, Adam, checkpoints, exact resume. */
#include "train/train_sr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/degrade.h"
#include "data/loader.h"
#include "nn/models/carn.h"
#include "nn/dist.h"
#include "nn/models/model_io.h"
#include "nn/ops/ops.h"
#include "nn/optim.h"
#include "train/run.h"
#include "train/sr_val.h"
#include "util/err.h"

_Static_assert(sizeof(real_t) == sizeof(float), "training runs in the float32 build");

void sr_train_defaults(SrTrainCfg *c) {
    memset(c, 0, sizeof *c);
    c->arch = "carn_m";
    c->scale = 4;
    c->lr_patch = 16;
    c->batch = 16;
    c->steps = 1000;
    c->ckpt_every = 250;
    c->val_frames = 4;
    c->lr = 1e-4;
    c->seed = 1;
}

/* A fresh model with one head (x scale), initialised from `init` when given: the body and any head
 * of the same scale are copied by name; an x6/x8 head starts from random weights. */
static int build_model(const SrTrainCfg *c, Carn **out) {
    CarnKind kind = strcmp(c->arch, "carn") == 0 ? CARN_FULL : CARN_M;
    if (strcmp(c->arch, "carn") && strcmp(c->arch, "carn_m") && strcmp(c->arch, "carn-m"))
        return rn_fail("unknown --arch '%s' (carn or carn_m)", c->arch);
    Carn *m = carn_new_heads(kind, &c->scale, 1);
    carn_init_weights(m, c->seed);
    if (c->init) {
        Carn *src = NULL;
        if (path_has_ext(c->init, ".pth")) {
            src = carn_new(kind, 0);
            if (model_load_weights(&src->ps, c->init, NULL, NULL, NULL) < 0) {
                carn_free(src), carn_free(m);
                return -1;
            }
        } else if (carn_load(c->init, &src, NULL) < 0) {
            carn_free(m);
            return -1;
        }
        int n = carn_copy_matching(m, src);
        if (!c->quiet && dist_is_root()) fprintf(stderr, "train-sr: %d of %d tensors initialised from %s\n", n, m->ps.count, c->init);
        carn_free(src);
    }
    *out = m;
    return 0;
}

/* Loads the run's own checkpoint (model, Adam moments, step) to continue it. */
static int resume_model(const SrTrainCfg *c, Carn **m, Optim *opt, long long *step) {
    CkptAttrs at;
    TRY(carn_load(c->out, m, &at));
    if (!carn_has_scale(*m, c->scale)) return rn_fail("%s: has no x%d head to resume", c->out, c->scale);
    optim_init_adam(opt, &(*m)->ps, c->lr, 0.9, 0.999, 1e-8, 0);
    TRY(ckpt_load(c->out, &(*m)->ps, &at, opt));
    *step = attrs_get_int(&at, "step", -1);
    if (*step < 0) return rn_fail("%s: no 'step' attribute; cannot resume", c->out);
    return 0;
}

static int save(const SrTrainCfg *c, Carn *m, Optim *opt, long long step) {
    CkptAttrs at = {0};
    carn_attrs(m, &at);
    attrs_set_int(&at, "step", step);
    attrs_set_int(&at, "scale", c->scale);
    attrs_set_int(&at, "seed", (long long)c->seed);
    attrs_set_int(&at, "quality", c->quality);
    attrs_set_float(&at, "base_lr", c->lr);
    attrs_set_str(&at, "data", c->data);
    attrs_set_str(&at, "trained_by", "rune train-sr");
    return ckpt_save_any(c->out, &m->ps, &at, opt); /* from a device too: host copies for the write */
}

static void validate(const SrTrainCfg *c, Carn *m, const Dataset *val, long long step, TrainLog *vlog) {
    if (!val) return;
    SrScore s;
    if (sr_validate(m, val, c->val_frames, c->scale, c->quality, &s) < 0) {
        fprintf(stderr, "train-sr: validation failed: %s\n", rn_errmsg());
        return;
    }
    fprintf(stderr, "\ntrain-sr: step %lld  held-out PSNR %.3f dB (bilinear %.3f, %+.3f)  SSIM %.4f (bilinear %.4f)  over %d frames\n",
            step, s.psnr_sr, s.psnr_bilinear, s.psnr_sr - s.psnr_bilinear, s.ssim_sr, s.ssim_bilinear, s.frames);
    double v[4] = {s.psnr_sr, s.psnr_bilinear, s.ssim_sr, s.ssim_bilinear};
    trainlog_row(vlog, step, v, 4);
}

typedef struct Loop {
    const SrTrainCfg *c;
    Carn *m;
    Optim opt;
    Loader *L;
    float *lr, *hr;
    int lh, lw, hh, hw;
    int n;            /* items of each batch on this rank (the whole batch in one process) */
    const Dataset *val;
    TrainLog vlog;
    double ema;
} Loop;

/* One optimisation step on the next batch: vals = {loss, lr}. */
static int step_once(void *ctx, long long step, double *vals, char *extra, size_t n) {
    Loop *lp = ctx;
    const SrTrainCfg *c = lp->c;
    TRY(loader_next(lp->L, lp->lr, lp->hr, NULL));
    Tensor *x = tensor_on(tensor_from(lp->lr, lp->n, 3, lp->lh, lp->lw), c->device);
    Tensor *y = tensor_on(tensor_from(lp->hr, lp->n, 3, lp->hh, lp->hw), c->device);
    Tensor *loss = op_l1_loss(carn_forward(lp->m, x, c->scale), y);
    TRY(loss_check_finite(loss, "L1 loss"));
    double v = tensor_item(loss);
    tape_backward(loss);
    /* L1 is a mean over elements and every rank holds as many: the mean of the ranks' gradients
     * (and losses) is the whole batch's */
    dist_average_grads(&lp->m->ps);
    dist_mean(&v, 1);
    LrSchedule sch = {c->lr_halve_every > 0 ? LR_STEP : LR_CONSTANT, c->lr, c->lr_halve_every, 0.5, 0, 0, 0};
    lp->opt.lr = lr_at(&sch, step);
    optim_step(&lp->opt, &lp->m->ps);
    params_zero_grad(&lp->m->ps);
    engine_step_reset();
    lp->ema = isnan(lp->ema) ? v : 0.98 * lp->ema + 0.02 * v;
    vals[0] = v, vals[1] = lp->opt.lr;
    snprintf(extra, n, "loss %.5f (avg %.5f)  lr %.2g", v, lp->ema, lp->opt.lr);
    return 0;
}

static int checkpoint(void *ctx, long long step) {
    Loop *lp = ctx;
    TRY(save(lp->c, lp->m, &lp->opt, step));
    validate(lp->c, lp->m, lp->val, step, &lp->vlog);
    return 0;
}

static int run_loop(Loop *lp, long long start, const Dataset *val) {
    const SrTrainCfg *c = lp->c;
    char buf[4096], vbuf[4096];
    lp->val = val;
    lp->ema = NAN;
    TRY(trainlog_open(&lp->vlog, val ? run_sibling(c->out, "_val.csv", vbuf, sizeof vbuf) : NULL,
                      "psnr_sr,psnr_bilinear,ssim_sr,ssim_bilinear", start));
    TrainLoop L = {"train-sr", run_sibling(c->out, "_loss.csv", buf, sizeof buf), "loss,lr", 2, start, c->steps,
                   c->ckpt_every, c->quiet, lp, step_once, checkpoint};
    int rc = train_loop(&L);
    trainlog_close(&lp->vlog);
    return rc;
}

static int open_loader(Loop *lp, const Dataset *ds) {
    const SrTrainCfg *c = lp->c;
    LoaderCfg lc = {0};
    lc.task = LOADER_SR;
    DistShard sh;
    TRY(dist_shard_batch(c->batch, "train-sr --batch", &sh));
    lc.batch = c->batch;
    lc.shard_first = (int)sh.begin, lc.shard_items = lp->n = (int)sh.count;
    lc.patch = c->lr_patch * c->scale;
    lc.scale = c->scale;
    lc.hflip = lc.vflip = lc.rot90 = true;
    lc.seed = c->seed;
    lc.prefetch = true;
    lc.degrade = degrade_lr; /* LR as the edge makes it: bicubic downscale, JPEG when quality > 0 */
    lc.degrade_ctx = (void *)&c->quality;
    lp->L = loader_open(ds, &lc);
    if (!lp->L) return -1;
    loader_dims(lp->L, &lp->lh, &lp->lw, &lp->hh, &lp->hw);
    lp->lr = xmalloc((size_t)lp->n * 3 * lp->lh * lp->lw * sizeof(float));
    lp->hr = xmalloc((size_t)lp->n * 3 * lp->hh * lp->hw * sizeof(float));
    return 0;
}

int train_sr(const SrTrainCfg *c) {
    Dataset ds, val;
    bool have_val = false;
    TRY(dataset_open("frames", c->data, "train", &ds));
    if (c->val && c->val_frames > 0) {
        if (dataset_open("frames", c->val, "test", &val) < 0) return dataset_free(&ds), -1;
        have_val = true;
    }
    Loop lp = {0};
    lp.c = c;
    long long start = 0;
    bool resuming = c->resume && access(c->out, F_OK) == 0; /* --resume without a checkpoint starts fresh */
    int rc = resuming ? resume_model(c, &lp.m, &lp.opt, &start) : build_model(c, &lp.m);
    if (rc == 0 && !resuming) optim_init_adam(&lp.opt, &lp.m->ps, c->lr, 0.9, 0.999, 1e-8, 0);
    if (rc == 0) rc = dist_same(start, "the step to resume from");
    if (rc == 0) dist_broadcast_state(&lp.m->ps, &lp.opt); /* every rank starts from rank 0's state */
    if (rc == 0) { /* built or resumed on the host (files are host memory), trained on c->device */
        params_to_device(&lp.m->ps, c->device);
        optim_to_device(&lp.opt, c->device);
    }
    if (rc == 0) rc = open_loader(&lp, &ds);
    if (rc == 0) {
        loader_seek(lp.L, start); /* one batch per step: batch index == step */
        if (!c->quiet && dist_is_root())
            fprintf(stderr, "train-sr: %s x%d, %zu trainable parameters, %d frames, batch %d of %dx%d LR patches, steps %lld..%lld\n",
                    carn_kind_name(lp.m->kind), c->scale, params_count_trainable(&lp.m->ps), ds.n, c->batch, lp.lh,
                    lp.lw, start, c->steps);
        rc = run_loop(&lp, start, have_val ? &val : NULL);
    }
    if (lp.L) loader_close(lp.L);
    free(lp.lr), free(lp.hr);
    if (lp.m) carn_free(lp.m);
    optim_free(&lp.opt);
    dataset_free(&ds);
    if (have_val) dataset_free(&val);
    return rc;
}
