/* sweep_det.c: the sweep's detection task — frames resized whole to the detector's square input, per-frame AP@0.5, the share of small detections. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/darknet.h"
#include "profile/det_score.h"
#include "profile/sweep.h"
#include "util/err.h"
#include "util/progress.h"

/* darknet's `detector map` settings, as eval-det-asr scores Table 6 */
#define DET_THRESH 0.005f
#define DET_NMS 0.45f
#define DET_IOU 0.5

typedef struct DetCtx {
    Darknet net;
    int size, nclasses;
} DetCtx;

/* Ground truth of one image: its boxes in its own pixels (IoU does not change under the resize). */
typedef struct DetGt {
    Box *boxes;
    int n, w, h;
} DetGt;

static int det_check(void *ctx, const Dataset *ds, int i, int *w, int *h) {
    (void)ds, (void)i;
    const DetCtx *c = ctx;
    *w = *h = c->size; /* every frame becomes the net's square input before the edge degrades it */
    return 0;
}

static int det_load(void *ctx, const Dataset *ds, int i, Image *hr, void **gt) {
    DetCtx *c = ctx;
    c->nclasses = ds->nclasses;
    const Sample *sm = &ds->samples[i];
    DetGt *g = xcalloc(1, sizeof *g);
    if (image_probe(sm->frame, &g->w, &g->h) < 0 || dataset_load_square(ds, i, c->size, hr, NULL, NULL) < 0) return free(g), -1;
    g->n = sm->nboxes;
    g->boxes = xmalloc((size_t)(g->n ? g->n : 1) * sizeof *g->boxes);
    if (g->n) memcpy(g->boxes, sm->boxes, (size_t)g->n * sizeof *g->boxes);
    *gt = g;
    return 0;
}

/* Detection's signals: ratio = share of the kept detections (score >= SWEEP_DET_CONF) smaller than
 * `small` of the frame, small_count = how many of them; no class map, so nothing else (NaN). */
static void det_signals(const DetBox *b, int n, double small, const DetGt *g, FrameSignals *sig) {
    memset(sig, 0, sizeof *sig);
    for (int s = 0; s < SIG_N; s++) sig->v[s] = NAN;
    sig->ratio_lr_ms = NAN;
    double t0 = now_seconds();
    int kept = 0, smalln = 0;
    for (int k = 0; k < n; k++) {
        if (b[k].score < SWEEP_DET_CONF) continue;
        kept++;
        smalln += (double)(b[k].x1 - b[k].x0) * (b[k].y1 - b[k].y0) < small * g->w * g->h;
    }
    sig->v[SIG_RATIO] = kept ? (double)smalln / kept : 0; /* nothing detected: no small objects either */
    sig->v[SIG_SMALL_COUNT] = smalln;
    sig->ratio_ms = 1000 * (now_seconds() - t0);
}

static void det_score(void *ctx, const Frame *in, const void *gtp, int scale, double small, SweepScore *out) {
    (void)scale;
    DetCtx *c = ctx;
    const DetGt *g = gtp;
    Image im = image_from_frame(in); /* the cloud's 8-bit frame, as eval-det-asr hands it over */
    DetScoreOpts so = {DET_THRESH, DET_NMS, false, NULL, 0};
    DetEval ev;
    det_eval_init(&ev, c->nclasses, DET_IOU);
    int n;
    double t0 = now_seconds();
    DetBox *b = det_score_image(&c->net, &im, &so, g->w, g->h, g->boxes, g->n, &ev, &n);
    out->t_task = now_seconds() - t0;
    out->acc = det_eval_map(&ev, NULL); /* NaN when the image has no ground truth */
    det_eval_free(&ev);
    det_signals(b, n, small, g, &out->sig);
    free(b);
    image_free(&im);
}

static void det_gt_free(void *gtp) {
    DetGt *g = gtp;
    if (g) free(g->boxes);
    free(g);
}

static void det_close(void *ctx) {
    DetCtx *c = ctx;
    darknet_free(&c->net);
    free(c);
}

int sweep_task_det(SweepTask *t, const char *model, const char *weights) {
    DetCtx *c = xcalloc(1, sizeof *c);
    if (darknet_open(&c->net, model, weights) < 0) return free(c), -1;
    if (!c->net.nheads || c->net.cfg.width != c->net.cfg.height) {
        darknet_free(&c->net), free(c);
        return rn_fail("%s: a darknet detector with a [yolo] head and a square input is needed", model);
    }
    c->size = c->net.cfg.width;
    *t = (SweepTask){.kind = "detection", .classes = c->net.cfg.l[c->net.head[0]].yolo.classes, .per_class = 0, .ctx = c,
                     .check = det_check, .load = det_load, .score = det_score, .gt_free = det_gt_free, .close = det_close};
    return 0;
}
