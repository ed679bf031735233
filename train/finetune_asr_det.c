/* finetune_asr_det.c: detection ASR loop — alpha*L1 + beta*YOLO loss (small boxes) through a frozen darknet detector, SR trainable. */
#include "train/finetune_asr_det.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/degrade.h"
#include "data/loader.h"
#include "nn/dist.h"
#include "nn/models/darknet.h"
#include "nn/ops/ops.h"
#include "train/asr_run.h"
#include "util/err.h"

void asr_det_defaults(AsrCfg *c) {
    asr_defaults(c);
    c->kind = ASR_TASK_DET;
    c->alpha = 0.9, c->beta = 0.1;
    c->small = 0.01;
    c->focal = 2;
    c->batch = 4;
}

typedef struct Det {
    const AsrCfg *c;
    Dataset ds;
    Loader *L;
    Carn *sr;
    Optim opt;
    Darknet net;
    bool have_net;
    int size;          /* S: HR side = the detector's input side */
    float *hr, *lr;    /* [N,3,S,S], [N,3,S/s,S/s] */
    YoloTruth **truth; /* [N] this batch's boxes (mirrored with their image) */
    int *nt;           /* [N] */
    int n;             /* N: items of each batch on this rank (the whole batch in one process) */
} Det;

/* The loader's boxes of this batch as the YOLO loss wants them. */
static void batch_truth(Det *a) {
    for (int n = 0; n < a->n; n++) {
        const Box *b = loader_boxes(a->L, n, &a->nt[n]);
        for (int k = 0; k < a->nt[n]; k++) a->truth[n][k] = (YoloTruth){b[k].cls, b[k].x0, b[k].y0, b[k].x1, b[k].y1};
    }
}

/* L_a on the detector's outputs for SR(lr). */
static Tensor *task_loss(Det *a, Tensor *sr, Tensor *hr) {
    const AsrCfg *c = a->c;
    Tensor *heads[DN_MAX_HEADS];
    /* the detector sees a valid image, as in eval (8-bit, clamped): see finetune_asr.c */
    int nh = darknet_forward(&a->net, op_clamp(sr, 0, 1), heads);
    if (c->loss == ASR_LOSS_CLOUDSEG) {
        Tensor *ref[DN_MAX_HEADS];
        bool g = engine_set_grad(false);
        darknet_forward(&a->net, hr, ref); /* a constant target: the detector's outputs on hr */
        engine_set_grad(g);
        Tensor *l = NULL;
        for (int k = 0; k < nh; k++) {
            Tensor *m = op_mse_loss(heads[k], ref[k]);
            l = l ? op_add(l, m) : m;
        }
        return l;
    }
    YoloLossOpts o = yolo_loss_defaults();
    o.focal_gamma = c->focal;
    o.small_frac = c->loss == ASR_LOSS_DETAIL ? c->small : 0;
    return yolo_loss(&a->net.cfg, heads, (const YoloTruth *const *)a->truth, a->nt, &o);
}

static int forward(void *ctx, long long step, Tensor **l1, Tensor **la) {
    Det *a = ctx;
    const AsrCfg *c = a->c;
    int N = a->n, S = a->size, ls = S / c->scale;
    (void)step; /* the loader was seeked to the start step and yields batches in order */
    TRY(loader_next(a->L, a->lr, a->hr, NULL));
    batch_truth(a);
    Tensor *x = tensor_on(tensor_from(a->lr, N, 3, ls, ls), c->device);
    Tensor *y = tensor_on(tensor_from(a->hr, N, 3, S, S), c->device);
    Tensor *sr = carn_forward(a->sr, x, c->scale);
    *l1 = op_l1_loss(sr, y);
    *la = c->beta == 0 ? NULL : task_loss(a, sr, y);
    return 0;
}

/* Batches of the whole training images at the detector's size, mirrored, degraded as the edge does.
 * Under mpirun each rank takes its shard: the YOLO loss is a mean over items, L1 and MSE over
 * elements, so equal shards need no reweighting (asr_run.h). */
static int open_loader(Det *a) {
    const AsrCfg *c = a->c;
    DistShard sh;
    TRY(dist_shard_batch(c->batch, "finetune-asr --batch", &sh));
    a->n = (int)sh.count;
    LoaderCfg lc = {.task = LOADER_DET, .batch = c->batch, .patch = a->size, .scale = c->scale, .hflip = true,
                    .seed = c->seed, .prefetch = true, .degrade = degrade_lr, .degrade_ctx = (void *)&c->quality,
                    .shard_first = (int)sh.begin, .shard_items = (int)sh.count};
    a->L = loader_open(&a->ds, &lc);
    if (!a->L) return -1;
    size_t hw = (size_t)a->size * a->size;
    a->hr = xmalloc((size_t)a->n * 3 * hw * sizeof(float));
    a->lr = xmalloc((size_t)a->n * 3 * hw * sizeof(float));
    a->truth = xcalloc((size_t)a->n, sizeof *a->truth);
    a->nt = xcalloc((size_t)a->n, sizeof *a->nt);
    int most = 1;
    for (int i = 0; i < a->ds.n; i++) most = a->ds.samples[i].nboxes > most ? a->ds.samples[i].nboxes : most;
    for (int n = 0; n < a->n; n++) a->truth[n] = xmalloc((size_t)most * sizeof **a->truth);
    return 0;
}

static int open_all(Det *a, long long *start) {
    const AsrCfg *c = a->c;
    TRY(dataset_open("yolo", c->data, "train", &a->ds));
    TRY(asr_open_sr(c, &a->sr, &a->opt, start));
    TRY(darknet_open(&a->net, c->task, c->weights));
    a->have_net = true;
    params_set_trainable(&a->net.ps, false); /* frozen: gradients pass through to SR only */
    params_to_device(&a->net.ps, c->device);  /* where SR's output meets it */
    if (!a->net.nheads) return rn_fail("%s: the detector has no [yolo] head", c->task);
    int classes = a->net.cfg.l[a->net.head[0]].yolo.classes;
    if (classes != a->ds.nclasses)
        return rn_fail("%s: %d classes, but %s has %d", c->task, classes, c->data, a->ds.nclasses);
    if (c->crop > 0) TRY(dn_cfg_set_input(&a->net.cfg, c->crop, c->crop)); /* another input size, same weights */
    a->size = a->net.cfg.width;
    if (a->net.cfg.height != a->size || a->size % c->scale)
        return rn_fail("%s: input %dx%d; a square side that is a multiple of the scale %d is needed", c->task,
                       a->net.cfg.width, a->net.cfg.height, c->scale);
    TRY(open_loader(a));
    loader_seek(a->L, *start); /* one batch per step: batch index == step */
    return 0;
}

static void close_all(Det *a) {
    if (a->L) loader_close(a->L);
    for (int n = 0; a->truth && n < a->n; n++) free(a->truth[n]);
    free(a->hr), free(a->lr), free(a->truth), free(a->nt);
    if (a->sr) carn_free(a->sr);
    if (a->have_net) darknet_free(&a->net);
    optim_free(&a->opt);
    dataset_free(&a->ds);
}

int finetune_asr_det(const AsrCfg *c) {
    TRY(asr_check_small(c));
    Det a = {0};
    a.c = c;
    long long start = 0;
    int rc = open_all(&a, &start);
    if (rc == 0 && !c->quiet && dist_is_root())
        fprintf(stderr,
                "finetune-asr det: %s x%d, loss %s (alpha %g, beta %g, small %g, focal %g), %d images at %dx%d, batch %d, "
                "steps %lld..%lld\n",
                carn_kind_name(a.sr->kind), c->scale, asr_loss_name(c->loss), c->alpha, c->beta, c->small, c->focal,
                a.ds.n, a.size, a.size, c->batch, start, c->steps);
    if (rc == 0) rc = asr_loop(c, "finetune-asr det", a.sr, &a.opt, start, forward, &a);
    close_all(&a);
    return rc;
}
