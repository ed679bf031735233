/* train_task.c: training a segmenter with cross-entropy on random crops — model build or resume, one step, the loop, the loader. */
#include "train/train_task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/loader.h"
#include "nn/dist.h"
#include "nn/io/checkpoint.h"
#include "nn/ops/ops.h"
#include "nn/models/segmenter.h"
#include "nn/optim.h"
#include "train/run.h"
#include "util/err.h"
#include "util/progress.h"

_Static_assert(sizeof(real_t) == sizeof(float), "training runs in the float32 build");

void task_train_defaults(TaskTrainCfg *c) {
    *c = (TaskTrainCfg){.arch = "swiftnet", .kind = "camvid", .split = "train", .out = "swiftnet.h5", .optim = "adam",
                        .norm = "camvid", .batch = 8, .crop = 256, .steps = 1000, .ckpt_every = 200, .width = 0.25,
                        .lr = 4e-4, .min_lr = 1e-6, .momentum = 0.9, .wd = 1e-4, .seed = 1};
}

typedef struct Run {
    const TaskTrainCfg *c;
    Segmenter *s;
    Optim opt;
    Loader *L;
    float *in;
    uint8_t *lab;
    int h, w;
    int n;      /* items of each batch on this rank (the whole batch in one process) */
    double ema; /* running mean of the loss, for progress lines */
} Run;

static void init_optim(Run *r) {
    const TaskTrainCfg *c = r->c;
    if (!strcmp(c->optim, "sgd")) optim_init_sgd(&r->opt, r->s->ps, c->lr, c->momentum, c->wd);
    else optim_init_adam(&r->opt, r->s->ps, c->lr, 0.9, 0.99, 1e-8, c->wd); /* upstream's betas (0.9, 0.99) */
}

static int build(Run *r, int classes, long long *start) {
    const TaskTrainCfg *c = r->c;
    *start = 0;
    if (c->resume && access(c->out, F_OK) == 0) { /* --resume without a checkpoint starts fresh */
        CkptAttrs at;
        r->s = segmenter_open(c->out, c->arch, classes, NULL);
        if (!r->s) return -1;
        params_set_trainable(r->s->ps, true);
        init_optim(r);
        TRY(ckpt_load(c->out, r->s->ps, &at, &r->opt));
        *start = attrs_get_int(&at, "step", -1);
        if (*start < 0) return rn_fail("%s: no 'step' attribute; cannot resume", c->out);
        return 0;
    }
    r->s = segmenter_new(c->arch, classes, c->width);
    if (!r->s) return -1;
    if (r->s->swiftnet) {
        swiftnet_init_weights(r->s->swiftnet, (unsigned)c->seed);
        TRY(swiftnet_set_norm_named(r->s->swiftnet, c->norm));
    } else TRY(espnet_set_norm_named(r->s->espnet, c->norm));
    init_optim(r);
    return 0;
}

static int save(Run *r, long long step) {
    const TaskTrainCfg *c = r->c;
    CkptAttrs at = {0};
    attrs_set_str(&at, "model", r->s->arch_name);
    attrs_set_int(&at, "classes", r->s->outputs);
    if (r->s->swiftnet) attrs_set_int(&at, "base", r->s->swiftnet->base), attrs_set_int(&at, "features", r->s->swiftnet->features);
    attrs_set_str(&at, "norm", c->norm);
    attrs_set_int(&at, "step", step);
    attrs_set_int(&at, "seed", c->seed);
    attrs_set_int(&at, "crop", c->crop);
    attrs_set_float(&at, "base_lr", c->lr);
    attrs_set_str(&at, "data", c->data);
    attrs_set_str(&at, "trained_by", "rune train-task");
    return ckpt_save_any(c->out, r->s->ps, &at, &r->opt); /* from a device too: host copies for the write */
}

/* One optimisation step: vals = {loss, lr}. */
static int step_once(void *ctx, long long step, double *vals, char *extra, size_t n) {
    Run *r = ctx;
    const TaskTrainCfg *c = r->c;
    TRY(loader_next(r->L, r->in, NULL, r->lab));
    Tensor *x = tensor_on(tensor_from(r->in, r->n, 3, r->h, r->w), c->device); /* labels go as host bytes */
    Tensor *loss = op_cross_entropy(segmenter_forward(r->s, x, true), r->lab, DS_IGNORE, NULL);
    /* under mpirun: a mean over this rank's counted pixels, scaled to its share of the global
     * count (nn/dist.h). Batch norm still normalises with this rank's own batch statistics, as
     * PyTorch's DDP does without SyncBatchNorm: so N ranks train like one process only up to that */
    size_t npix = (size_t)r->n * r->h * r->w, counted = 0;
    for (size_t i = 0; i < npix; i++) counted += r->lab[i] != DS_IGNORE;
    double share = dist_share((double)counted);
    if (share != 1.0) loss = op_scale(loss, (real_t)share);
    TRY(loss_check_finite(loss, "cross-entropy"));
    double v = tensor_item(loss);
    tape_backward(loss);
    dist_average_grads(r->s->ps);
    dist_mean(&v, 1);
    LrSchedule sch = {LR_COSINE, c->lr, 0, 0, c->steps, c->min_lr, 0}; /* upstream: CosineAnnealingLR */
    r->opt.lr = lr_at(&sch, step);
    optim_step(&r->opt, r->s->ps);
    params_zero_grad(r->s->ps);
    engine_step_reset();
    r->ema = isnan(r->ema) ? v : 0.98 * r->ema + 0.02 * v;
    vals[0] = v, vals[1] = r->opt.lr;
    snprintf(extra, n, "loss %.4f (avg %.4f)  lr %.2g", v, r->ema, r->opt.lr);
    return 0;
}

static int checkpoint(void *ctx, long long step) { return save(ctx, step); }

static int loop(Run *r, long long start) {
    const TaskTrainCfg *c = r->c;
    char buf[4096];
    r->ema = NAN;
    TrainLoop L = {"train-task", run_sibling(c->out, "_loss.csv", buf, sizeof buf), "loss,lr", 2, start, c->steps,
                   c->ckpt_every, c->quiet, r, step_once, checkpoint};
    return train_loop(&L);
}

static int open_loader(Run *r, const Dataset *ds) {
    const TaskTrainCfg *c = r->c;
    LoaderCfg lc = {0};
    lc.task = LOADER_SEG;
    DistShard sh;
    TRY(dist_shard_batch(c->batch, "train-task --batch", &sh));
    lc.batch = c->batch;
    lc.shard_first = (int)sh.begin, lc.shard_items = r->n = (int)sh.count;
    lc.patch = c->crop;
    lc.hflip = true; /* street scenes: mirror left-right only */
    lc.seed = (uint64_t)c->seed;
    lc.prefetch = true;
    r->L = loader_open(ds, &lc);
    if (!r->L) return -1;
    int oh, ow;
    loader_dims(r->L, &r->h, &r->w, &oh, &ow);
    r->in = xmalloc((size_t)r->n * 3 * r->h * r->w * sizeof(float));
    r->lab = xmalloc((size_t)r->n * r->h * r->w);
    return 0;
}

int train_task(const TaskTrainCfg *c) {
    Dataset ds;
    TRY(dataset_open(c->kind, c->data, c->split, &ds));
    Run r = {0};
    r.c = c;
    long long start = 0;
    int rc = build(&r, c->classes > 0 ? c->classes : ds.nclasses, &start);
    if (rc == 0 && r.s->classes < ds.nclasses)
        rc = rn_fail("the model predicts %d classes, %s has %d", r.s->classes, ds.name, ds.nclasses);
    if (rc == 0) rc = dist_same(start, "the step to resume from");
    if (rc == 0) dist_broadcast_state(r.s->ps, &r.opt); /* every rank starts from rank 0's state */
    if (rc == 0) rc = open_loader(&r, &ds);
    if (rc == 0) { /* built or resumed on the host (files are host memory), trained on c->device */
        params_to_device(r.s->ps, c->device);
        optim_to_device(&r.opt, c->device);
    }
    if (rc == 0) {
        loader_seek(r.L, start); /* one batch per step: batch index == step */
        if (!c->quiet && dist_is_root())
            fprintf(stderr, "train-task: %s (%zu trainable parameters), %s: %d frames, batch %d of %dx%d crops, steps %lld..%d\n",
                    r.s->arch_name, params_count_trainable(r.s->ps), ds.name, ds.n, c->batch, r.h, r.w, start, c->steps);
        rc = loop(&r, start);
    }
    if (r.L) loader_close(r.L);
    free(r.in), free(r.lab);
    if (r.s) optim_free(&r.opt);
    segmenter_close(r.s);
    dataset_free(&ds);
    return rc;
}

