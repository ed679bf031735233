/* finetune_asr.c: ASR fine-tuning loop — alpha*L1 + beta*L_a through a frozen segmenter, SR trainable. */
#include "train/finetune_asr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/degrade.h"
#include "data/loader.h"
#include "nn/models/carn.h"
#include "nn/models/espnet.h"
#include "nn/models/model_io.h"
#include "nn/ops/ops.h"
#include "nn/optim.h"
#include "profile/tail.h"
#include "train/run.h"
#include "train/sr_val.h"
#include "util/err.h"

void asr_defaults(AsrCfg *c) {
    memset(c, 0, sizeof *c);
    c->norm = "camvid";
    c->task_classes = 12;
    c->scale = 4;
    c->alpha = 0.95, c->beta = 0.05;
    c->loss = ASR_LOSS_DETAIL;
    c->small = 0.01;
    c->crop = 0;
    c->batch = 2;
    c->steps = 200;
    c->ckpt_every = 50;
    c->lr = 1e-5;
    c->seed = 1;
}

typedef struct Asr {
    const AsrCfg *c;
    Carn *sr;
    ESPNet task;
    Optim opt;
    Loader *L;
    float *hr;       /* [N,3,H,W] */
    uint8_t *label;  /* [N,H,W] */
    float *lr;       /* [N,3,H/s,W/s] */
    real_t *weight;  /* [N*H*W] detail mask as CE weights */
    int h, w;
} Asr;

static const char *loss_name(AsrLoss l) {
    return l == ASR_LOSS_DETAIL ? "detail" : l == ASR_LOSS_ALL ? "all" : "cloudseg";
}

/* HR item (planar floats that are exact k/255 values) -> the edge's LR frame, planar floats. */
static int degrade_item(const float *hr, int w, int h, int scale, int quality, float *lr) {
    Frame f = {w, h, 3, (float *)hr};
    Image im = image_from_frame(&f);
    Degraded d;
    int rc = degrade(&im, scale, quality, &d);
    image_free(&im);
    TRY(rc);
    Frame lf = frame_from_image(&d.lr);
    memcpy(lr, lf.px, (size_t)3 * lf.w * lf.h * sizeof(float));
    frame_free(&lf);
    degraded_free(&d);
    return 0;
}

/* Detail-mask weights of every item (1 on small-region pixels, 0 elsewhere); returns the count. */
static size_t detail_weights(Asr *a) {
    size_t hw = (size_t)a->h * a->w, total = 0;
    uint8_t *mask = xmalloc(hw);
    for (int n = 0; n < a->c->batch; n++) {
        total += small_region_mask(a->label + n * hw, a->w, a->h, a->c->small, 255, mask);
        for (size_t i = 0; i < hw; i++) a->weight[n * hw + i] = mask[i];
    }
    free(mask);
    return total;
}

/* L_a for the batch (scalar tensor), or NULL when beta = 0. */
static Tensor *task_loss(Asr *a, Tensor *sr, Tensor *hr) {
    const AsrCfg *c = a->c;
    if (c->beta == 0) return NULL;
    Tensor *logits = espnet_forward(&a->task, sr, false);
    if (c->loss == ASR_LOSS_CLOUDSEG) {
        bool g = engine_set_grad(false);
        Tensor *ref = espnet_forward(&a->task, hr, false); /* a constant target: task(hr) */
        engine_set_grad(g);
        return op_mse_loss(logits, ref);
    }
    if (c->loss == ASR_LOSS_ALL) return op_cross_entropy(logits, a->label, 255, NULL);
    detail_weights(a);
    return op_cross_entropy(logits, a->label, 255, a->weight);
}

/* One step; *l1 and *la get the parts, the return value the total (NaN on failure). */
static double step_once(Asr *a, long long step, double *l1v, double *lav) {
    const AsrCfg *c = a->c;
    int N = c->batch, s = c->scale, lh = a->h / s, lw = a->w / s;
    if (loader_next(a->L, a->hr, NULL, a->label) < 0) return NAN;
    for (int n = 0; n < N; n++)
        if (degrade_item(a->hr + (size_t)n * 3 * a->h * a->w, a->w, a->h, s, c->quality, a->lr + (size_t)n * 3 * lh * lw) < 0)
            return NAN;
    Tensor *x = tensor_from(a->lr, N, 3, lh, lw), *y = tensor_from(a->hr, N, 3, a->h, a->w);
    Tensor *sr = carn_forward(a->sr, x, s);
    Tensor *l1 = op_l1_loss(sr, y);
    Tensor *la = task_loss(a, sr, y);
    Tensor *loss = op_scale(l1, (real_t)c->alpha);
    if (la) loss = op_add(loss, op_scale(la, (real_t)c->beta));
    if (loss_check_finite(loss, "ASR loss") < 0) return NAN;
    *l1v = l1->data[0], *lav = la ? la->data[0] : 0;
    double v = loss->data[0];
    tape_backward(loss);
    a->opt.lr = c->lr;
    optim_step(&a->opt, &a->sr->ps);
    params_zero_grad(&a->sr->ps);
    engine_step_reset();
    (void)step;
    return v;
}

static int save(Asr *a, long long step) {
    const AsrCfg *c = a->c;
    CkptAttrs at = {0};
    carn_attrs(a->sr, &at);
    attrs_set_int(&at, "step", step);
    attrs_set_int(&at, "scale", c->scale);
    attrs_set_int(&at, "quality", c->quality);
    attrs_set_str(&at, "asr_loss", loss_name(c->loss));
    attrs_set_float(&at, "alpha", c->alpha);
    attrs_set_float(&at, "beta", c->beta);
    attrs_set_float(&at, "small", c->small);
    attrs_set_int(&at, "seed", (long long)c->seed);
    attrs_set_str(&at, "sr_init", c->sr);
    attrs_set_str(&at, "task", c->task);
    attrs_set_str(&at, "trained_by", "rune finetune-asr");
    return ckpt_save(c->out, &a->sr->ps, &at, &a->opt);
}

static int load_models(Asr *a, long long *start) {
    const AsrCfg *c = a->c;
    bool resuming = c->resume && access(c->out, F_OK) == 0;
    CkptAttrs at;
    TRY(carn_load(resuming ? c->out : c->sr, &a->sr, &at));
    if (!carn_has_scale(a->sr, c->scale)) return rn_fail("%s: no x%d head", resuming ? c->out : c->sr, c->scale);
    optim_init_adam(&a->opt, &a->sr->ps, c->lr, 0.9, 0.999, 1e-8, 0);
    *start = 0;
    if (resuming) {
        TRY(ckpt_load(c->out, &a->sr->ps, &at, &a->opt));
        *start = attrs_get_int(&at, "step", 0);
    }
    espnet_init(&a->task, c->task_classes, 2, 8);
    TRY(espnet_set_norm_named(&a->task, c->norm));
    TRY(model_load_weights(&a->task.ps, c->task, "espnet", NULL, NULL));
    params_set_trainable(&a->task.ps, false); /* frozen: gradients pass through to SR only */
    return 0;
}

static int open_data(Asr *a, Dataset *ds) {
    const AsrCfg *c = a->c;
    LoaderCfg lc = {0};
    lc.task = LOADER_SEG;
    lc.batch = c->batch;
    lc.patch = c->crop;
    lc.hflip = true; /* road scenes: mirror left-right, never upside down */
    lc.seed = c->seed;
    lc.prefetch = true;
    a->L = loader_open(ds, &lc);
    if (!a->L) return -1;
    int oh, ow;
    loader_dims(a->L, &a->h, &a->w, &oh, &ow);
    if (a->h % 8 || a->w % 8 || a->h % c->scale || a->w % c->scale)
        return rn_fail("frames/crops of %dx%d: sides must be multiples of 8 and of the scale %d", a->w, a->h, c->scale);
    size_t hw = (size_t)a->h * a->w;
    a->hr = xmalloc((size_t)c->batch * 3 * hw * sizeof(float));
    a->label = xmalloc((size_t)c->batch * hw);
    a->lr = xmalloc((size_t)c->batch * 3 * hw * sizeof(float));
    a->weight = xmalloc((size_t)c->batch * hw * sizeof(real_t));
    return 0;
}

static int run(Asr *a, long long start) {
    const AsrCfg *c = a->c;
    char b1[4096], extra[160];
    TrainLog log;
    TRY(trainlog_open(&log, run_sibling(c->out, "_loss.csv", b1, sizeof b1), "loss,l1,la,lr", start));
    Progress pg;
    progress_start(&pg, "finetune-asr", "steps", c->steps, start);
    loader_seek(a->L, start);
    for (long long step = start; step < c->steps; step++) {
        double l1, la, v = step_once(a, step, &l1, &la);
        if (isnan(v)) {
            trainlog_close(&log);
            return rn_fail("step %lld: %s", step, rn_errmsg());
        }
        double row[4] = {v, l1, la, c->lr};
        trainlog_row(&log, step + 1, row, 4);
        snprintf(extra, sizeof extra, "loss %.5f  L1 %.5f  L_a %.4f", v, l1, la);
        if (!c->quiet) progress_update(&pg, step + 1, extra, false);
        if ((c->ckpt_every > 0 && (step + 1) % c->ckpt_every == 0) || step + 1 == c->steps) {
            if (save(a, step + 1) < 0) {
                trainlog_close(&log);
                return -1;
            }
        }
    }
    if (!c->quiet) progress_end(&pg, c->steps, extra);
    trainlog_close(&log);
    return 0;
}

int finetune_asr(const AsrCfg *c) {
    Dataset ds;
    TRY(open_frame_dataset(c->data, "train", &ds));
    if (!ds.n || !ds.samples[0].label) {
        dataset_free(&ds);
        return rn_fail("%s: finetune-asr needs labelled frames (a CamVid-style root)", c->data);
    }
    Asr a = {0};
    a.c = c;
    long long start = 0;
    int rc = load_models(&a, &start);
    if (rc == 0) rc = open_data(&a, &ds);
    if (rc == 0 && !c->quiet)
        fprintf(stderr, "finetune-asr: %s x%d, loss %s (alpha %g, beta %g, small %g), %d frames, batch %d of %dx%d, steps %lld..%lld\n",
                carn_kind_name(a.sr->kind), c->scale, loss_name(c->loss), c->alpha, c->beta, c->small, ds.n, c->batch,
                a.w, a.h, start, c->steps);
    if (rc == 0) rc = run(&a, start);
    if (a.L) loader_close(a.L);
    free(a.hr), free(a.label), free(a.lr), free(a.weight);
    if (a.sr) carn_free(a.sr);
    espnet_free(&a.task);
    optim_free(&a.opt);
    dataset_free(&ds);
    return rc;
}
