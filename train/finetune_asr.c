/* finetune_asr.c: ASR fine-tuning loop — alpha*L1 + beta*L_a through a frozen segmenter, SR trainable. */
#include "train/finetune_asr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/degrade.h"
#include "data/loader.h"
#include "nn/dist.h"
#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "nn/ops/ops.h"
#include "nn/optim.h"
#include "profile/tail.h"
#include "train/asr_run.h"
#include "util/err.h"

void asr_defaults(AsrCfg *c) {
    memset(c, 0, sizeof *c);
    c->norm = NULL;       /* the task checkpoint's */
    c->task_classes = 0;  /* the task checkpoint's */
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
    Segmenter *task; /* frozen */
    Optim opt;
    Loader *L;
    float *hr;       /* [N,3,H,W] */
    uint8_t *label;  /* [N,H,W] */
    float *lr;       /* [N,3,H/s,W/s] */
    real_t *weight;  /* [N*H*W] detail mask as CE weights */
    int h, w;
    int n;           /* N: items of each batch on this rank (the whole batch in one process) */
} Asr;

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

int asr_frame_detail_mask(const Image *label, uint8_t *mask, void *small) {
    small_region_mask(label->px, label->w, label->h, *(const double *)small, DS_IGNORE, mask);
    return 0;
}

/* Detail-mask weights of every item (1 on small-region pixels, 0 elsewhere): the loader's crops of
 * each whole frame's mask; returns the count. */
static size_t detail_weights(Asr *a) {
    size_t npix = (size_t)a->n * a->h * a->w, total = 0;
    const uint8_t *mask = loader_masks(a->L);
    for (size_t i = 0; i < npix; i++) {
        a->weight[i] = mask[i];
        total += mask[i];
    }
    return total;
}

/* The denominator of the cross-entropy's weighted mean over this rank's pixels: the weights (1
 * without) of the pixels not ignored. */
static double ce_count(const Asr *a, const real_t *weight) {
    size_t npix = (size_t)a->n * a->h * a->w;
    double den = 0;
    for (size_t i = 0; i < npix; i++)
        if (a->label[i] != 255) den += weight ? (double)weight[i] : 1.0;
    return den;
}

/* A mean over counted pixels differs from rank to rank in its count: scaled by the rank's share of
 * the global count, the ranks' mean is the whole batch's (nn/dist.h: dist_share); 1 in one process. */
static Tensor *ce_shared(const Asr *a, Tensor *ce, const real_t *weight) {
    double share = dist_share(ce_count(a, weight));
    return share == 1.0 ? ce : op_scale(ce, (real_t)share);
}

/* L_a for the batch (scalar tensor), or NULL when beta = 0. */
static Tensor *task_loss(Asr *a, Tensor *sr, Tensor *hr) {
    const AsrCfg *c = a->c;
    if (c->beta == 0) return NULL;
    /* the task model sees what the cloud would hand it: SR clamped to valid pixel values (as
     * rune eval does); unclamped, ASR learns out-of-range pixels that only help in training */
    Tensor *logits = segmenter_forward(a->task, op_clamp(sr, 0, 1), false);
    if (c->loss == ASR_LOSS_CLOUDSEG) {
        bool g = engine_set_grad(false);
        Tensor *ref = segmenter_forward(a->task, hr, false); /* a constant target: task(hr) */
        engine_set_grad(g);
        return op_mse_loss(logits, ref);
    }
    if (c->loss == ASR_LOSS_ALL) return ce_shared(a, op_cross_entropy(logits, a->label, 255, NULL), NULL);
    detail_weights(a);
    return ce_shared(a, op_cross_entropy(logits, a->label, 255, a->weight), a->weight);
}

/* The step's forward pass (train/asr_run.h does the rest): next batch, degrade, SR, the losses. */
static int forward(void *ctx, long long step, Tensor **l1, Tensor **la) {
    Asr *a = ctx;
    const AsrCfg *c = a->c;
    int N = a->n, s = c->scale, lh = a->h / s, lw = a->w / s;
    (void)step; /* the loader was seeked to the start step and yields batches in order */
    TRY(loader_next(a->L, a->hr, NULL, a->label));
    for (int n = 0; n < N; n++)
        TRY(degrade_item(a->hr + (size_t)n * 3 * a->h * a->w, a->w, a->h, s, c->quality, a->lr + (size_t)n * 3 * lh * lw));
    /* labels and detail weights stay host arrays: the cross-entropy op uploads them itself */
    Tensor *x = tensor_on(tensor_from(a->lr, N, 3, lh, lw), c->device);
    Tensor *y = tensor_on(tensor_from(a->hr, N, 3, a->h, a->w), c->device);
    Tensor *sr = carn_forward(a->sr, x, s);
    *l1 = op_l1_loss(sr, y);
    *la = task_loss(a, sr, y);
    return 0;
}

static int load_models(Asr *a, long long *start) {
    const AsrCfg *c = a->c;
    TRY(asr_open_sr(c, &a->sr, &a->opt, start));
    /* architecture, outputs and normalisation come from the file; frozen: gradients pass
     * through to SR only */
    a->task = segmenter_open(c->task, NULL, 0, c->norm);
    if (!a->task) return -1;
    params_to_device(a->task->ps, c->device); /* frozen, but SR's output meets it there */
    if (c->task_classes > 0 && c->task_classes != a->task->outputs)
        return rn_fail("%s: %d classes asked for, but this %s has %d outputs", c->task, c->task_classes,
                       a->task->arch_name, a->task->outputs);
    return 0;
}

static int open_data(Asr *a, Dataset *ds) {
    const AsrCfg *c = a->c;
    LoaderCfg lc = {0};
    lc.task = LOADER_SEG;
    DistShard sh;
    TRY(dist_shard_batch(c->batch, "finetune-asr --batch", &sh));
    lc.batch = c->batch;
    lc.shard_first = (int)sh.begin, lc.shard_items = a->n = (int)sh.count;
    lc.patch = c->crop;
    lc.hflip = true; /* road scenes: mirror left-right, never upside down */
    lc.seed = c->seed;
    lc.prefetch = true;
    if (c->loss == ASR_LOSS_DETAIL && c->beta != 0) { /* Eq. 3's dtl: regions small against the whole frame */
        lc.label_mask = asr_frame_detail_mask;
        lc.label_mask_ctx = (void *)&c->small;
    }
    a->L = loader_open(ds, &lc);
    if (!a->L) return -1;
    int oh, ow;
    loader_dims(a->L, &a->h, &a->w, &oh, &ow);
    if (a->h % 8 || a->w % 8 || a->h % c->scale || a->w % c->scale)
        return rn_fail("frames/crops of %dx%d: sides must be multiples of 8 and of the scale %d", a->w, a->h, c->scale);
    size_t hw = (size_t)a->h * a->w;
    a->hr = xmalloc((size_t)a->n * 3 * hw * sizeof(float));
    a->label = xmalloc((size_t)a->n * hw);
    a->lr = xmalloc((size_t)a->n * 3 * hw * sizeof(float));
    a->weight = xmalloc((size_t)a->n * hw * sizeof(real_t));
    return 0;
}

/* The training split, every label map present and of its frame's size (before any model loads). */
static int open_split(const AsrCfg *c, Dataset *ds) {
    TRY(dataset_open("frames", c->data, "train", ds));
    if (dataset_check_labels(ds) < 0) {
        dataset_free(ds);
        return rn_fail("--data %s: %s", c->data, rn_errmsg());
    }
    return 0;
}

int finetune_asr(const AsrCfg *c) {
    TRY(asr_check_small(c));
    Dataset ds;
    TRY(open_split(c, &ds));
    Asr a = {0};
    a.c = c;
    long long start = 0;
    int rc = load_models(&a, &start);
    if (rc == 0) rc = open_data(&a, &ds);
    if (rc == 0 && !c->quiet && dist_is_root())
        fprintf(stderr, "finetune-asr: %s x%d, loss %s (alpha %g, beta %g, small %g), %d frames, batch %d of %dx%d, steps %lld..%lld\n",
                carn_kind_name(a.sr->kind), c->scale, asr_loss_name(c->loss), c->alpha, c->beta, c->small, ds.n, c->batch,
                a.w, a.h, start, c->steps);
    if (rc == 0) {
        loader_seek(a.L, start);
        rc = asr_loop(c, "finetune-asr", a.sr, &a.opt, start, forward, &a);
    }
    if (a.L) loader_close(a.L);
    free(a.hr), free(a.label), free(a.lr), free(a.weight);
    if (a.sr) carn_free(a.sr);
    segmenter_close(a.task);
    optim_free(&a.opt);
    dataset_free(&ds);
    return rc;
}
