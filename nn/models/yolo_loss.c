/* yolo_loss.c: the YOLOv3 training loss over [yolo] head outputs, built from engine ops so it differentiates into the heads. */
#include <math.h>
#include <string.h>

#include "nn/models/darknet.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* Per head, per sample (darknet's forward_yolo_layer, classic YOLOv3 terms):
 *  - targets: each kept truth goes to the anchor (over all `num`) whose shape best matches it
 *    (IoU of centred boxes); when that anchor is one of this head's (mask), the cell holding the
 *    truth's centre is positive. With extra_anchors (AlexeyAB iou_thresh), every anchor of this
 *    head with shape IoU > iou_thresh is positive too. A later truth overwrites an earlier one.
 *  - box: w_box * (2 - w*h) * [(px-tx)^2 + (py-ty)^2 + (tw-tw*)^2 + (th-th*)^2] on positives, with
 *    px = scale_x_y*sigmoid(x) - (scale_x_y-1)/2 and tx = the centre's offset in its cell,
 *    tw* = log(w_pixels / anchor_w): MSE on the (tx, ty, tw, th) parameterisation, not GIoU.
 *  - objectness: BCE-with-logits (or sigmoid focal) against 1 on positives and 0 elsewhere,
 *    except predictions whose decoded box has IoU > ignore_thresh with some truth (not counted).
 *  - classes: BCE (or focal) against one-hot on positives only (darknet's independent logistic).
 *  - small_frac > 0 (ASR's detail loss on small boxes): only truths with area < small_frac give
 *    positives; a larger truth's cell is neither positive nor negative, and larger truths still
 *    cause ignores, so the loss neither teaches nor punishes anything about them.
 * Sums over anchors and cells, averaged over the N samples. The masks and targets carry no
 * gradient; they are computed from the current outputs like darknet's deltas. */

YoloLossOpts yolo_loss_defaults(void) {
    return (YoloLossOpts){.ignore_thresh = -1, .focal_gamma = 0, .focal_alpha = -1, .small_frac = 0,
                          .w_box = 1, .w_obj = 1, .w_cls = 1, .extra_anchors = true};
}

bool yolo_truth_small(const YoloTruth *t, double small_frac) {
    double tw = t->x1 - t->x0, th = t->y1 - t->y0;
    return small_frac <= 0 || tw * th < small_frac;
}

/* Buffers of one head, each [N, A*(5+C), H, W] like the head. */
typedef struct Bufs {
    real_t *mxy, *mwh, *tbox; /* box: sigmoid weight (x,y), raw weight (w,h), target */
    real_t *wobj, *wcls, *t;  /* BCE weights (objectness / classes) and targets */
} Bufs;

typedef struct Head {
    const DnYolo *y;
    int gh, gw, plane, stride;
    double netw, neth;
} Head;

static double iou_cwh(double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh) {
    double iw = fmin(ax + aw / 2, bx + bw / 2) - fmax(ax - aw / 2, bx - bw / 2);
    double ih = fmin(ay + ah / 2, by + bh / 2) - fmax(ay - ah / 2, by - bh / 2);
    if (iw <= 0 || ih <= 0) return 0;
    double inter = iw * ih;
    return inter / (aw * ah + bw * bh - inter);
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Objectness weight 1 / target 0 everywhere, 0 where the prediction overlaps a truth enough. */
static void mark_negatives(const Head *h, const Tensor *x, int b, const YoloTruth *tr, int nt, double ignore, Bufs *B) {
    const DnYolo *y = h->y;
    double s = y->scale_x_y;
    size_t base = (size_t)b * TC(x) * h->plane;
    for (int a = 0; a < y->nmask; a++)
        for (int loc = 0; loc < h->plane; loc++) {
            size_t e = base + (size_t)a * h->stride * h->plane + loc; /* entry 0 of this prediction */
            const real_t *p = x->data + e;
            int n = y->mask[a], row = loc / h->gw, col = loc % h->gw;
            double px = (col + sigm(p[0]) * s - 0.5 * (s - 1)) / h->gw;
            double py = (row + sigm(p[h->plane]) * s - 0.5 * (s - 1)) / h->gh;
            double pw = exp(p[2 * h->plane]) * y->anchors[2 * n] / h->netw;
            double ph = exp(p[3 * h->plane]) * y->anchors[2 * n + 1] / h->neth;
            double best = 0;
            for (int t = 0; t < nt; t++) {
                double tw = tr[t].x1 - tr[t].x0, th = tr[t].y1 - tr[t].y0;
                double v = iou_cwh(px, py, pw, ph, (tr[t].x0 + tr[t].x1) / 2, (tr[t].y0 + tr[t].y1) / 2, tw, th);
                if (v > best) best = v;
            }
            size_t o = e + 4 * (size_t)h->plane;
            B->wobj[o] = best > ignore ? 0 : 1;
            B->t[o] = 0;
        }
}

/* Anchor index (over all num) best matching the truth's shape; shape IoU of anchor n in *iou. */
static int best_anchor(const Head *h, double tw, double th, double *iou) {
    int best = 0;
    for (int n = 0; n < h->y->num; n++) {
        double aw = h->y->anchors[2 * n] / h->netw, ah = h->y->anchors[2 * n + 1] / h->neth;
        iou[n] = iou_cwh(0, 0, aw, ah, 0, 0, tw, th);
        if (iou[n] > iou[best]) best = n;
    }
    return best;
}

static void set_positive(const Head *h, const Tensor *x, int b, int a, const YoloTruth *t, double w_box, Bufs *B) {
    const DnYolo *y = h->y;
    double cx = (t->x0 + t->x1) / 2, cy = (t->y0 + t->y1) / 2, tw = t->x1 - t->x0, th = t->y1 - t->y0;
    int col = (int)(cx * h->gw), row = (int)(cy * h->gh);
    col = col < 0 ? 0 : col >= h->gw ? h->gw - 1 : col;
    row = row < 0 ? 0 : row >= h->gh ? h->gh - 1 : row;
    size_t e = (size_t)b * TC(x) * h->plane + (size_t)a * h->stride * h->plane + (size_t)row * h->gw + col;
    size_t P = h->plane;
    int n = y->mask[a];
    double s = y->scale_x_y, m = sqrt(w_box * (2 - tw * th)), off = 0.5 * (s - 1);
    B->mxy[e] = (real_t)(m * s), B->tbox[e] = (real_t)(m * (cx * h->gw - col + off));
    B->mxy[e + P] = (real_t)(m * s), B->tbox[e + P] = (real_t)(m * (cy * h->gh - row + off));
    B->mwh[e + 2 * P] = (real_t)m, B->tbox[e + 2 * P] = (real_t)(m * log(tw * h->netw / y->anchors[2 * n]));
    B->mwh[e + 3 * P] = (real_t)m, B->tbox[e + 3 * P] = (real_t)(m * log(th * h->neth / y->anchors[2 * n + 1]));
    B->wobj[e + 4 * P] = 1, B->t[e + 4 * P] = 1;
    for (int k = 0; k < y->classes; k++) B->wcls[e + (5 + k) * P] = 1, B->t[e + (5 + k) * P] = k == t->cls;
}

/* A truth that gives no positive (too large under small_frac): its cells are not negatives. */
static void set_neutral(const Head *h, const Tensor *x, int b, int a, const YoloTruth *t, Bufs *B) {
    double cx = (t->x0 + t->x1) / 2, cy = (t->y0 + t->y1) / 2;
    int col = (int)(cx * h->gw), row = (int)(cy * h->gh);
    col = col < 0 ? 0 : col >= h->gw ? h->gw - 1 : col;
    row = row < 0 ? 0 : row >= h->gh ? h->gh - 1 : row;
    size_t e = (size_t)b * TC(x) * h->plane + (size_t)a * h->stride * h->plane + (size_t)row * h->gw + col;
    B->wobj[e + 4 * (size_t)h->plane] = 0;
}

static void assign(const Head *h, const Tensor *x, int b, const YoloTruth *tr, int nt, const YoloLossOpts *o, bool small,
                   Bufs *B) {
    double iou[DN_MAX_ANCHORS];
    for (int t = 0; t < nt; t++) {
        double tw = tr[t].x1 - tr[t].x0, th = tr[t].y1 - tr[t].y0;
        if (!(tw > 0 && th > 0)) continue;
        bool keep = yolo_truth_small(&tr[t], o->small_frac);
        if (keep != small) continue; /* large truths first (neutral), then the positives */
        int best = best_anchor(h, tw, th, iou);
        for (int a = 0; a < h->y->nmask; a++) {
            int n = h->y->mask[a];
            bool extra = o->extra_anchors && h->y->iou_thresh < 1 && iou[n] > h->y->iou_thresh;
            if (n != best && !extra) continue;
            if (keep) set_positive(h, x, b, a, &tr[t], o->w_box, B);
            else set_neutral(h, x, b, a, &tr[t], B);
        }
    }
}

static Tensor *const_like(const Tensor *x, const real_t *v) {
    return tensor_on(tensor_from(v, TN(x), TC(x), TH(x), TW(x)), x->device);
}

/* sum over elements of op(...) / N, from an op that returns the mean. */
static Tensor *as_sum(Tensor *mean, const Tensor *x) {
    return op_scale(mean, (real_t)((double)tensor_numel(x) / TN(x)));
}

/* Focal loss restricted to the elements with weight w != 0: elsewhere the logit is replaced by a
 * constant +40 with target 1, whose focal term (~1e-35) is nil, and whose gradient is cut by the
 * zero mask (op_focal_loss has no per-element weights). */
static Tensor *focal_masked(Tensor *x, const real_t *w, const real_t *t, const YoloLossOpts *o) {
    size_t n = tensor_numel(x);
    Tensor *m = tensor_new(TN(x), TC(x), TH(x), TW(x)), *c = tensor_like(m), *tt = tensor_like(m);
    for (size_t i = 0; i < n; i++) {
        bool on = w[i] != 0;
        m->data[i] = on ? 1 : 0, c->data[i] = on ? 0 : 40, tt->data[i] = on ? t[i] : 1;
    }
    Device d = x->device;
    return as_sum(op_focal_loss(op_add(op_mul(x, tensor_on(m, d)), tensor_on(c, d)), tensor_on(tt, d),
                                (real_t)o->focal_alpha, (real_t)o->focal_gamma), x);
}

static Tensor *head_loss(const DnCfg *cfg, const DnYolo *y, Tensor *x, const YoloTruth *const *truth, const int *ntruth,
                         const YoloLossOpts *o) {
    Head h = {y, TH(x), TW(x), TH(x) * TW(x), 5 + y->classes, cfg->width, cfg->height};
    RN_CHECK(TC(x) == y->nmask * h.stride, "yolo_loss: head has %d channels, want %d", TC(x), y->nmask * h.stride);
    size_t n = tensor_numel(x);
    Arena *ar = engine_arena();
    Bufs B;
    real_t **all[6] = {&B.mxy, &B.mwh, &B.tbox, &B.wobj, &B.wcls, &B.t};
    for (int k = 0; k < 6; k++) *all[k] = arena_zalloc(ar, n * sizeof(real_t)); /* [N,A*(5+C),H,W] */
    double ignore = o->ignore_thresh >= 0 ? o->ignore_thresh : y->ignore_thresh;
    const Tensor *xh = tensor_host(x); /* targets are matched on the host */
    for (int b = 0; b < TN(x); b++) {
        mark_negatives(&h, xh, b, truth[b], ntruth[b], ignore, &B);
        assign(&h, xh, b, truth[b], ntruth[b], o, false, &B);
        assign(&h, xh, b, truth[b], ntruth[b], o, true, &B);
    }
    Tensor *pred = op_add(op_mul(op_sigmoid(x), const_like(x, B.mxy)), op_mul(x, const_like(x, B.mwh)));
    Tensor *loss = as_sum(op_mse_loss(pred, const_like(x, B.tbox)), x);
    if (o->focal_gamma > 0) {
        if (o->w_obj != 0) loss = op_add(loss, op_scale(focal_masked(x, B.wobj, B.t, o), (real_t)o->w_obj));
        if (o->w_cls != 0) loss = op_add(loss, op_scale(focal_masked(x, B.wcls, B.t, o), (real_t)o->w_cls));
        return loss;
    }
    for (size_t i = 0; i < n; i++) B.wobj[i] = (real_t)(o->w_obj * B.wobj[i] + o->w_cls * B.wcls[i]);
    return op_add(loss, as_sum(op_bce_with_logits(x, const_like(x, B.t), B.wobj), x));
}

Tensor *yolo_loss(const DnCfg *cfg, Tensor **heads, const YoloTruth *const *truth, const int *ntruth,
                  const YoloLossOpts *o) {
    int idx[DN_MAX_HEADS], nh = dn_cfg_heads(cfg, idx);
    RN_CHECK(nh > 0, "yolo_loss: %s has no [yolo] layer", cfg->name);
    Tensor *loss = NULL;
    for (int k = 0; k < nh; k++) {
        Tensor *l = head_loss(cfg, &cfg->l[idx[k]].yolo, heads[k], truth, ntruth, o);
        loss = loss ? op_add(loss, l) : l;
    }
    return loss;
}
