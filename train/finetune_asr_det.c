/* finetune_asr_det.c: detection ASR loop — alpha*L1 + beta*YOLO loss (small boxes) through a frozen darknet detector, SR trainable. */
#include "train/finetune_asr_det.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/degrade.h"
#include "nn/models/darknet.h"
#include "nn/ops/ops.h"
#include "profile/eval_det_tables.h"
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

/* One training image at the detector's size, decoded on first use and kept. */
typedef struct Item {
    Image hr;         /* S x S RGB; px NULL until loaded */
    YoloTruth *truth; /* normalised boxes */
    int nt;
} Item;

typedef struct Det {
    const AsrCfg *c;
    Dataset ds;
    Item *items;      /* [ds.n] */
    Carn *sr;
    Optim opt;
    Darknet net;
    bool have_net;
    int size;         /* S: HR side = the detector's input side */
    float *hr, *lr;   /* [N,3,S,S], [N,3,S/s,S/s] */
    YoloTruth **truth;/* [N] this batch's boxes (flipped copies) */
    int *nt;          /* [N] */
} Det;

/* splitmix64: the batch stream is a pure function of (seed, step), so resuming is exact. */
static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Item k of the endless stream: epoch k / n is a permutation of 0..n-1 seeded by (seed, epoch). */
static int stream_item(int n, uint64_t seed, long long k) {
    int *perm = xmalloc((size_t)n * sizeof *perm);
    uint64_t r = mix(seed ^ mix((uint64_t)(k / n) + 1));
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        r = mix(r);
        int j = (int)(r % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    int v = perm[k % n];
    free(perm);
    return v;
}

static const Item *item_get(Det *a, int i) {
    Item *it = &a->items[i];
    if (!it->hr.px && det_hr_load(&a->ds, i, a->size, &it->hr, &it->truth, &it->nt) < 0) return NULL;
    return it;
}

/* Planar floats [3][h][w] of an RGB image. */
static void planar(const Image *im, float *dst) {
    size_t hw = (size_t)im->w * im->h;
    for (size_t i = 0; i < hw; i++)
        for (int ch = 0; ch < 3; ch++) dst[ch * hw + i] = im->px[i * 3 + ch] / 255.0f;
}

/* A copy of the RGB image, mirrored left-right when flip. */
static Image flipped(const Image *im, bool flip) {
    Image o = image_alloc(im->w, im->h, 3);
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++)
            memcpy(o.px + ((size_t)y * im->w + x) * 3, im->px + ((size_t)y * im->w + (flip ? im->w - 1 - x : x)) * 3, 3);
    return o;
}

/* Batch item n of `step` into a->hr / a->lr / a->truth[n]. */
static int fill_item(Det *a, long long step, int n) {
    const AsrCfg *c = a->c;
    const Item *it = item_get(a, stream_item(a->ds.n, c->seed, step * c->batch + n));
    if (!it) return -1;
    bool flip = mix(c->seed ^ mix((uint64_t)step * 64 + (uint64_t)n + 0x5eed)) & 1;
    Image hr = flipped(&it->hr, flip);
    planar(&hr, a->hr + (size_t)n * 3 * a->size * a->size);
    Degraded d;
    int rc = degrade(&hr, c->scale, c->quality, &d);
    image_free(&hr);
    TRY(rc);
    int ls = a->size / c->scale;
    planar(&d.lr, a->lr + (size_t)n * 3 * ls * ls);
    degraded_free(&d);
    for (int k = 0; k < it->nt; k++) {
        YoloTruth t = it->truth[k];
        if (flip) {
            float x0 = t.x0;
            t.x0 = 1 - t.x1, t.x1 = 1 - x0;
        }
        a->truth[n][k] = t;
    }
    a->nt[n] = it->nt;
    return 0;
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
    int N = c->batch, S = a->size, ls = S / c->scale;
    for (int n = 0; n < N; n++) TRY(fill_item(a, step, n));
    Tensor *x = tensor_from(a->lr, N, 3, ls, ls), *y = tensor_from(a->hr, N, 3, S, S);
    Tensor *sr = carn_forward(a->sr, x, c->scale);
    *l1 = op_l1_loss(sr, y);
    *la = c->beta == 0 ? NULL : task_loss(a, sr, y);
    return 0;
}

static int open_all(Det *a, long long *start) {
    const AsrCfg *c = a->c;
    TRY(det_split_open(c->data, "train", &a->ds));
    a->items = xcalloc((size_t)a->ds.n, sizeof *a->items);
    TRY(asr_open_sr(c, &a->sr, &a->opt, start));
    TRY(darknet_open(&a->net, c->task, c->weights));
    a->have_net = true;
    params_set_trainable(&a->net.ps, false); /* frozen: gradients pass through to SR only */
    if (!a->net.nheads) return rn_fail("%s: the detector has no [yolo] head", c->task);
    int classes = a->net.cfg.l[a->net.head[0]].yolo.classes;
    if (classes != a->ds.nclasses)
        return rn_fail("%s: %d classes, but %s has %d", c->task, classes, c->data, a->ds.nclasses);
    if (c->crop > 0) TRY(dn_cfg_set_input(&a->net.cfg, c->crop, c->crop)); /* another input size, same weights */
    a->size = a->net.cfg.width;
    if (a->net.cfg.height != a->size || a->size % c->scale)
        return rn_fail("%s: input %dx%d; a square side that is a multiple of the scale %d is needed", c->task,
                       a->net.cfg.width, a->net.cfg.height, c->scale);
    size_t hw = (size_t)a->size * a->size;
    a->hr = xmalloc((size_t)c->batch * 3 * hw * sizeof(float));
    a->lr = xmalloc((size_t)c->batch * 3 * hw * sizeof(float));
    a->truth = xcalloc((size_t)c->batch, sizeof *a->truth);
    a->nt = xcalloc((size_t)c->batch, sizeof *a->nt);
    int most = 1;
    for (int i = 0; i < a->ds.n; i++) most = a->ds.samples[i].nboxes > most ? a->ds.samples[i].nboxes : most;
    for (int n = 0; n < c->batch; n++) a->truth[n] = xmalloc((size_t)most * sizeof **a->truth);
    return 0;
}

static void close_all(Det *a) {
    for (int i = 0; a->items && i < a->ds.n; i++) image_free(&a->items[i].hr), free(a->items[i].truth);
    for (int n = 0; a->truth && n < a->c->batch; n++) free(a->truth[n]);
    free(a->items), free(a->hr), free(a->lr), free(a->truth), free(a->nt);
    if (a->sr) carn_free(a->sr);
    if (a->have_net) darknet_free(&a->net);
    optim_free(&a->opt);
    dataset_free(&a->ds);
}

int finetune_asr_det(const AsrCfg *c) {
    Det a = {0};
    a.c = c;
    long long start = 0;
    int rc = open_all(&a, &start);
    if (rc == 0 && !c->quiet)
        fprintf(stderr,
                "finetune-asr det: %s x%d, loss %s (alpha %g, beta %g, small %g, focal %g), %d images at %dx%d, batch %d, "
                "steps %lld..%lld\n",
                carn_kind_name(a.sr->kind), c->scale, asr_loss_name(c->loss), c->alpha, c->beta, c->small, c->focal,
                a.ds.n, a.size, a.size, c->batch, start, c->steps);
    if (rc == 0) rc = asr_loop(c, "finetune-asr det", a.sr, &a.opt, start, forward, &a);
    close_all(&a);
    return rc;
}
