/* det_metrics.c: per-class AP by COCO's or darknet's definition, with VisDrone/COCO-crowd ignored regions. */
#include "profile/det_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void det_eval_init(DetEval *e, int nclasses, double iou_thresh) {
    det_eval_init_def(e, nclasses, iou_thresh, (DetApDef){DET_AP_COCO, 101, 0});
}

/* numpy's linspace: start + k * step, the last one exactly the stop. */
double det_coco_iou(int k) { return k == DET_COCO_NIOU - 1 ? 0.95 : 0.5 + k * ((0.95 - 0.5) / (DET_COCO_NIOU - 1)); }

void det_eval_init_def(DetEval *e, int nclasses, double iou_thresh, DetApDef def) {
    memset(e, 0, sizeof *e);
    e->nclasses = nclasses, e->iou_thresh = iou_thresh, e->def = def;
    e->npos = xcalloc(nclasses, sizeof *e->npos);
    e->n = xcalloc(nclasses, sizeof *e->n);
    e->cap = xcalloc(nclasses, sizeof *e->cap);
    e->score = xcalloc(nclasses, sizeof *e->score);
    e->tp = xcalloc(nclasses, sizeof *e->tp);
}

void det_eval_free(DetEval *e) {
    for (int c = 0; c < e->nclasses; c++) free(e->score[c]), free(e->tp[c]);
    free(e->npos), free(e->n), free(e->cap), free(e->score), free(e->tp);
    memset(e, 0, sizeof *e);
}

static double area(float x0, float y0, float x1, float y1) { return x1 > x0 && y1 > y0 ? (double)(x1 - x0) * (y1 - y0) : 0; }

static double inter(const DetBox *d, const Box *g) {
    double iw = fmin(d->x1, g->x1) - fmax(d->x0, g->x0), ih = fmin(d->y1, g->y1) - fmax(d->y0, g->y0);
    return iw > 0 && ih > 0 ? iw * ih : 0;
}

static double iou(const DetBox *d, const Box *g) {
    double i = inter(d, g), u = area(d->x0, d->y0, d->x1, d->y1) + area(g->x0, g->y0, g->x1, g->y1) - i;
    return u > 0 ? i / u : 0;
}

static void push(DetEval *e, int c, float score, bool tp) {
    if (e->n[c] == e->cap[c]) {
        e->cap[c] = e->cap[c] ? 2 * e->cap[c] : 64;
        e->score[c] = xrealloc(e->score[c], e->cap[c] * sizeof **e->score);
        e->tp[c] = xrealloc(e->tp[c], e->cap[c]);
    }
    e->score[c][e->n[c]] = score, e->tp[c][e->n[c]] = tp;
    e->n[c]++;
}

/* Indices by descending score (ctx: the scores); ties keep index order. */
static int by_score_desc(const void *a, const void *b, void *ctx) {
    const float *s = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    if (s[i] != s[j]) return s[i] > s[j] ? -1 : 1;
    return i - j;
}

/* idx[0..n) = 0..n-1 ranked by descending score[]. */
static void rank_by_score(const float *score, int n, int *idx) {
    for (int i = 0; i < n; i++) idx[i] = i;
    qsort_r(idx, (size_t)n, sizeof *idx, by_score_desc, (void *)score);
}

/* Whether an unmatched detection lies in an ignored region of its class (or of every class). */
static bool in_ignored(const DetEval *e, const DetBox *d, const Box *gt, int ng) {
    double a = area(d->x0, d->y0, d->x1, d->y1);
    for (int g = 0; g < ng; g++) {
        if (!gt[g].ignore || (gt[g].cls >= 0 && gt[g].cls != d->cls)) continue;
        if (e->def.kind == DET_AP_DARKNET) {
            if (iou(d, &gt[g]) > e->iou_thresh) return true; /* its `difficult` rule */
        } else if (a > 0) {
            double iof = inter(d, &gt[g]) / a;
            if (gt[g].cls < 0 ? iof > 0.5 : iof >= e->iou_thresh) return true; /* VisDrone : pycocotools crowd */
        }
    }
    return false;
}

/* COCO: the unmatched ground truth of d's class with the highest IoU >= the threshold (a later
 * equal IoU wins, as in pycocotools' loop), or -1. */
static int match_coco(const DetEval *e, const DetBox *d, const Box *gt, int ng, const bool *used) {
    int best = -1;
    double bi = e->iou_thresh;
    for (int g = 0; g < ng; g++) {
        if (gt[g].ignore || used[g] || gt[g].cls != d->cls) continue;
        double v = iou(d, &gt[g]);
        if (v >= bi) bi = v, best = g;
    }
    return best;
}

/* darknet: the ground truth of d's class with the highest IoU > the threshold, taken or not (the
 * first of equal IoUs), or -1. */
static int match_darknet(const DetEval *e, const DetBox *d, const Box *gt, int ng) {
    int best = -1;
    double bi = 0;
    for (int g = 0; g < ng; g++) {
        if (gt[g].ignore || gt[g].cls != d->cls) continue;
        double v = iou(d, &gt[g]);
        if (v > e->iou_thresh && v > bi) bi = v, best = g;
    }
    return best;
}

void det_eval_add(DetEval *e, const DetBox *dets, int nd, const Box *gt, int ng) {
    for (int g = 0; g < ng; g++)
        if (!gt[g].ignore && gt[g].cls >= 0 && gt[g].cls < e->nclasses) e->npos[gt[g].cls]++;
    int *idx = xmalloc((nd ? nd : 1) * sizeof *idx), *kept = xcalloc(e->nclasses ? e->nclasses : 1, sizeof *kept);
    float *score = xmalloc((nd ? nd : 1) * sizeof *score);
    bool *used = xcalloc(ng ? ng : 1, 1);
    for (int i = 0; i < nd; i++) score[i] = dets[i].score;
    rank_by_score(score, nd, idx);
    free(score);
    for (int k = 0; k < nd; k++) {
        const DetBox *d = &dets[idx[k]];
        if (d->cls < 0 || d->cls >= e->nclasses) continue;
        /* pycocotools cuts to maxDets before matching, so a cut detection frees no ground truth */
        if (e->def.max_dets > 0 && kept[d->cls]++ >= e->def.max_dets) continue;
        bool darknet = e->def.kind == DET_AP_DARKNET;
        int best = darknet ? match_darknet(e, d, gt, ng) : match_coco(e, d, gt, ng, used);
        if (best >= 0 && !used[best]) used[best] = true, push(e, d->cls, d->score, true);
        else if (best >= 0 || !in_ignored(e, d, gt, ng)) push(e, d->cls, d->score, false); /* darknet: taken = FP */
    }
    free(idx), free(kept), free(used);
}

/* COCO: the precision envelope (made monotone from the right) at the first point with recall >=
 * r/100 (numpy searchsorted 'left'), r = 0..100. prec is overwritten. */
static double ap_coco(double *prec, const double *rec, int n) {
    for (int k = n - 2; k >= 0; k--) prec[k] = fmax(prec[k], prec[k + 1]);
    double s = 0;
    int k = 0;
    for (int r = 0; r <= 100; r++) {
        double want = r * 0.01; /* bit for bit numpy.linspace(0, 1, 101) as pycocotools uses */
        while (k < n && rec[k] < want) k++;
        if (k < n) s += prec[k];
    }
    return s / 101;
}

/* darknet, -points 0: its loop verbatim — from the last rank down, each recall step times the best
 * precision at or after it, then the step from recall 0 to the first rank's. */
static double ap_darknet_area(const double *prec, const double *rec, int n) {
    double last_rec = rec[n - 1], last_prec = prec[n - 1], s = 0;
    for (int k = n - 2; k >= 0; k--) {
        double dr = last_rec - rec[k];
        last_rec = rec[k];
        if (prec[k] > last_prec) last_prec = prec[k];
        s += dr * last_prec;
    }
    return s + last_rec * last_prec;
}

/* darknet, -points N: the mean over k = 0..N-1 of the best precision at recall >= k/(N-1), 0 where
 * no rank reaches that recall. The recall point is k * (1.0 / (N-1)), not the source's
 * k * 1.0 / (N-1): darknet's own builds (Makefile and CMake) compile with -Ofast, whose reciprocal
 * math hoists 1/(N-1) out of the loop, so -points 11 asks for recall >= 0.6000000000000001 and a
 * class at exactly 3/5 misses that point. We follow the binary people run (measured:
 * results/coco/ap_check.md). */
static double ap_darknet_points(const double *prec, const double *rec, int n, int points) {
    double s = 0, step = 1.0 / (points - 1);
    for (int p = 0; p < points; p++) {
        double want = p * step, best = 0;
        for (int k = 0; k < n; k++)
            if (rec[k] >= want && prec[k] > best) best = prec[k];
        s += best;
    }
    return s / points;
}

double det_eval_ap(const DetEval *e, int c) {
    if (e->npos[c] == 0) return NAN;
    int n = e->n[c];
    if (!n) return 0;
    int *idx = xmalloc(n * sizeof *idx);
    double *prec = xmalloc(n * sizeof *prec), *rec = xmalloc(n * sizeof *rec);
    rank_by_score(e->score[c], n, idx);
    long tp = 0;
    for (int k = 0; k < n; k++) {
        tp += e->tp[c][idx[k]];
        prec[k] = (double)tp / (k + 1), rec[k] = (double)tp / e->npos[c];
    }
    double ap = e->def.kind == DET_AP_COCO ? ap_coco(prec, rec, n)
                : e->def.points > 1        ? ap_darknet_points(prec, rec, n, e->def.points)
                                           : ap_darknet_area(prec, rec, n);
    free(idx), free(prec), free(rec);
    return ap;
}

double det_eval_map(const DetEval *e, double *ap) {
    double s = 0;
    int m = 0;
    for (int c = 0; c < e->nclasses; c++) {
        double a = det_eval_ap(e, c);
        if (ap) ap[c] = a;
        if (!isnan(a)) s += a, m++;
    }
    return m ? s / m : NAN;
}

double det_eval_map_darknet(const DetEval *e, const bool *counted) {
    double s = 0;
    int m = 0;
    for (int c = 0; c < e->nclasses; c++) {
        if (!counted[c]) continue;
        double a = det_eval_ap(e, c);
        s += isnan(a) ? 0 : a, m++;
    }
    return m ? s / m : NAN;
}

void det_eval_counts(const DetEval *e, int c, float thresh, int *tp, int *fp) {
    *tp = *fp = 0;
    for (int i = 0; i < e->n[c]; i++)
        if (e->score[c][i] >= thresh) *tp += e->tp[c][i], *fp += !e->tp[c][i];
}
