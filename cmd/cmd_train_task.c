/* cmd_train_task.c: `rune train-task` — trains a segmenter (SwiftNet) with cross-entropy on random crops; checkpoints, exact resume. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "nn/io/checkpoint.h"
#include "nn/models/segmenter.h"
#include "nn/optim.h"
#include "train/run.h"
#include "util/args.h"
#include "util/err.h"
#include "util/progress.h"

_Static_assert(sizeof(real_t) == sizeof(float), "training runs in the float32 build");

typedef struct TaskCfg {
    const char *arch, *data, *kind, *split, *out, *optim, *norm;
    int batch, crop, classes;
    int steps, ckpt_every; /* int: ARG_INT's type */
    double width, lr, min_lr, momentum, wd;
    int seed;
    bool resume, quiet;
} TaskCfg;

typedef struct Run {
    const TaskCfg *c;
    Segmenter *s;
    Optim opt;
    Loader *L;
    float *in;
    uint8_t *lab;
    int h, w;
    double ema; /* running mean of the loss, for progress lines */
} Run;

static int open_dataset(const TaskCfg *c, Dataset *ds) {
    if (!strcmp(c->kind, "camvid")) return ds_camvid(c->data, c->split, ds);
    if (!strcmp(c->kind, "cityscapes")) return ds_cityscapes(c->data, c->split, ds);
    return rn_fail("unknown --dataset '%s' (camvid or cityscapes)", c->kind);
}

static void init_optim(Run *r) {
    const TaskCfg *c = r->c;
    if (!strcmp(c->optim, "sgd")) optim_init_sgd(&r->opt, r->s->ps, c->lr, c->momentum, c->wd);
    else optim_init_adam(&r->opt, r->s->ps, c->lr, 0.9, 0.99, 1e-8, c->wd); /* upstream's betas (0.9, 0.99) */
}

static int build(Run *r, int classes, long long *start) {
    const TaskCfg *c = r->c;
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
    const TaskCfg *c = r->c;
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
    return ckpt_save(c->out, r->s->ps, &at, &r->opt);
}

/* One optimisation step: vals = {loss, lr}. */
static int step_once(void *ctx, long long step, double *vals, char *extra, size_t n) {
    Run *r = ctx;
    const TaskCfg *c = r->c;
    TRY(loader_next(r->L, r->in, NULL, r->lab));
    Tensor *x = tensor_from(r->in, c->batch, 3, r->h, r->w);
    Tensor *loss = op_cross_entropy(segmenter_forward(r->s, x, true), r->lab, DS_IGNORE, NULL);
    TRY(loss_check_finite(loss, "cross-entropy"));
    double v = loss->data[0];
    tape_backward(loss);
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
    const TaskCfg *c = r->c;
    char buf[4096];
    r->ema = NAN;
    TrainLoop L = {"train-task", run_sibling(c->out, "_loss.csv", buf, sizeof buf), "loss,lr", 2, start, c->steps,
                   c->ckpt_every, c->quiet, r, step_once, checkpoint};
    return train_loop(&L);
}

static int open_loader(Run *r, const Dataset *ds) {
    const TaskCfg *c = r->c;
    LoaderCfg lc = {0};
    lc.task = LOADER_SEG;
    lc.batch = c->batch;
    lc.patch = c->crop;
    lc.hflip = true; /* street scenes: mirror left-right only */
    lc.seed = (uint64_t)c->seed;
    lc.prefetch = true;
    r->L = loader_open(ds, &lc);
    if (!r->L) return -1;
    int oh, ow;
    loader_dims(r->L, &r->h, &r->w, &oh, &ow);
    r->in = xmalloc((size_t)c->batch * 3 * r->h * r->w * sizeof(float));
    r->lab = xmalloc((size_t)c->batch * r->h * r->w);
    return 0;
}

static int train(const TaskCfg *c) {
    Dataset ds;
    TRY(open_dataset(c, &ds));
    Run r = {0};
    r.c = c;
    long long start = 0;
    int rc = build(&r, c->classes > 0 ? c->classes : ds.nclasses, &start);
    if (rc == 0 && r.s->classes < ds.nclasses)
        rc = rn_fail("the model predicts %d classes, %s has %d", r.s->classes, ds.name, ds.nclasses);
    if (rc == 0) rc = open_loader(&r, &ds);
    if (rc == 0) {
        loader_seek(r.L, start); /* one batch per step: batch index == step */
        if (!c->quiet)
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

int cmd_train_task(int argc, char **argv) {
    TaskCfg c = {.arch = "swiftnet", .kind = "camvid", .split = "train", .out = "swiftnet.h5", .optim = "adam",
                 .norm = "camvid", .batch = 8, .crop = 256, .steps = 1000, .ckpt_every = 200, .width = 0.25,
                 .lr = 4e-4, .min_lr = 1e-6, .momentum = 0.9, .wd = 1e-4, .seed = 1};
    ArgSpec specs[] = {
        {"model", ARG_STR, &c.arch, "ARCH", "architecture to train: swiftnet (or espnet)"},
        {"data", ARG_STR, &c.data, "DIR", "dataset root"},
        {"dataset", ARG_STR, &c.kind, "KIND", "camvid or cityscapes"},
        {"split", ARG_STR, &c.split, "S", "split to train on"},
        {"out", ARG_STR, &c.out, "FILE.h5", "checkpoint (the loss log goes beside it, _loss.csv)"},
        {"steps", ARG_INT, &c.steps, "N", "total steps (a resumed run continues to N)"},
        {"ckpt-every", ARG_INT, &c.ckpt_every, "N", "save a checkpoint every N steps (and at the end)"},
        {"resume", ARG_BOOL, &c.resume, NULL, "continue from --out (weights, optimizer moments, step)"},
        {"batch", ARG_INT, &c.batch, "B", "crops per step"},
        {"crop", ARG_INT, &c.crop, "P", "square random crop side (0 = whole frames)"},
        {"width", ARG_FLOAT, &c.width, "W", "SwiftNet channel scale (1 = ResNet-18's 64..512 and 128 features)"},
        {"classes", ARG_INT, &c.classes, "N", "model outputs (default: the dataset's classes)"},
        {"norm", ARG_STR, &c.norm, "NAME", "input normalisation stored in the model (camvid, cityscapes, imagenet, swiftnet)"},
        {"optim", ARG_STR, &c.optim, "adam|sgd", "optimizer (Adam betas 0.9/0.99 as upstream; SGD with --momentum)"},
        {"lr", ARG_FLOAT, &c.lr, "LR", "initial learning rate, cosine-annealed to --min-lr over --steps"},
        {"min-lr", ARG_FLOAT, &c.min_lr, "LR", "final learning rate"},
        {"momentum", ARG_FLOAT, &c.momentum, "M", "SGD momentum"},
        {"wd", ARG_FLOAT, &c.wd, "WD", "weight decay (L2 added to the gradient)"},
        {"seed", ARG_INT, &c.seed, "S", "seed of the weights and of the crop/flip stream"},
        {"quiet", ARG_BOOL, &c.quiet, NULL, "no progress lines"},
        {0},
    };
    ArgCmd cmd = {"train-task", "--model swiftnet --data DIR --steps N [options]",
                  "Trains a segmentation model from scratch with softmax cross-entropy (label 255 ignored)\n"
                  "on random square crops with random horizontal flips, BN in training mode, Adam or SGD\n"
                  "with a cosine learning-rate schedule. Checkpoints (HDF5, with optimizer state) every N\n"
                  "steps and at the end; --resume continues a run exactly. Score the result with\n"
                  "`rune eval-seg --model FILE.h5`.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!c.data) args_usage_error(&cmd, "--data is required");
    if (c.steps < 1 || c.batch < 1 || c.crop < 0) args_usage_error(&cmd, "--steps and --batch must be >= 1, --crop >= 0");
    if (c.crop > 0 && c.crop < 32) args_usage_error(&cmd, "--crop must be 0 or >= 32");
    if (strcmp(c.optim, "adam") && strcmp(c.optim, "sgd")) args_usage_error(&cmd, "--optim is adam or sgd");
    if (c.width <= 0) args_usage_error(&cmd, "--width must be > 0");
    if (train(&c) < 0) {
        fprintf(stderr, "rune train-task: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
