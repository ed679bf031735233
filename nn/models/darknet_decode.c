/* darknet_decode.c: [yolo] head outputs -> boxes (get_yolo_detections / correct_yolo_boxes) and per-class NMS. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/darknet.h"
#include "util/err.h"

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

typedef struct DetList {
    DnDet *d;
    int n, cap;
} DetList;

static void push(DetList *l, DnDet d) {
    if (l->n == l->cap) l->cap = l->cap ? 2 * l->cap : 256, l->d = xrealloc(l->d, l->cap * sizeof *l->d);
    l->d[l->n++] = d;
}

/* darknet's letterbox correction: the image occupied new_w x new_h of the net input, centred. */
static void undo_letterbox(double *x, double *y, double *w, double *h, int netw, int neth, int img_w, int img_h) {
    int nw, nh;
    if ((float)netw / img_w < (float)neth / img_h) nw = netw, nh = img_h * netw / img_w;
    else nh = neth, nw = img_w * neth / img_h;
    *x = (*x - (netw - nw) / 2.0 / netw) / ((double)nw / netw);
    *y = (*y - (neth - nh) / 2.0 / neth) / ((double)nh / neth);
    *w *= (double)netw / nw;
    *h *= (double)neth / nh;
}

/* One head: x = (i + sigmoid(tx)*s - (s-1)/2) / gw, w = anchor_w * exp(tw) / net_w (and y, h). */
static void decode_head(const DnCfg *c, const DnYolo *y, const Tensor *t, int b, float thresh, bool letter, int img_w,
                        int img_h, DetList *out) {
    int gh = TH(t), gw = TW(t), plane = gh * gw, stride = 5 + y->classes;
    double s = y->scale_x_y;
    const real_t *base = t->data + (size_t)b * TC(t) * plane; /* [nmask*(5+C), gh, gw] */
    for (int loc = 0; loc < plane; loc++)
        for (int a = 0; a < y->nmask; a++) {
            const real_t *p = base + (size_t)a * stride * plane + loc; /* entry e at p[e*plane] */
            double obj = sigm(p[4 * plane]);
            if (!(obj > thresh)) continue;
            int n = y->mask[a], row = loc / gw, col = loc % gw;
            double bx = (col + sigm(p[0]) * s - 0.5 * (s - 1)) / gw, by = (row + sigm(p[plane]) * s - 0.5 * (s - 1)) / gh;
            double bw = exp(p[2 * plane]) * y->anchors[2 * n] / c->width;
            double bh = exp(p[3 * plane]) * y->anchors[2 * n + 1] / c->height;
            if (letter) undo_letterbox(&bx, &by, &bw, &bh, c->width, c->height, img_w, img_h);
            for (int k = 0; k < y->classes; k++) {
                double prob = obj * sigm(p[(5 + k) * plane]);
                if (!(prob > thresh)) continue;
                push(out, (DnDet){(float)(bx - bw / 2), (float)(by - bh / 2), (float)(bx + bw / 2), (float)(by + bh / 2),
                                  (float)prob, k});
            }
        }
}

int darknet_detect(const Darknet *net, Tensor **heads, int b, float thresh, float nms, bool letter, int img_w,
                   int img_h, DnDet **out) {
    DetList all = {0};
    DnNmsKind kind = DN_NMS_IOU;
    float beta = 0.6f;
    for (int k = 0; k < net->nheads; k++) {
        const DnYolo *y = &net->cfg.l[net->head[k]].yolo;
        RN_CHECK(b < TN(heads[k]), "darknet_detect: sample %d of %d", b, TN(heads[k]));
        decode_head(&net->cfg, y, tensor_host(heads[k]), b, thresh, letter, img_w, img_h, &all);
        kind = y->nms_kind, beta = y->beta_nms; /* darknet's map/test use the last head's kind */
    }
    int n = all.n ? darknet_nms(all.d, all.n, nms, kind, beta) : 0;
    *out = all.d;
    return n;
}

/* ---- NMS ----------------------------------------------------------------------------------- */

float dn_box_iou(const DnDet *a, const DnDet *b) {
    double iw = fmin(a->x1, b->x1) - fmax(a->x0, b->x0), ih = fmin(a->y1, b->y1) - fmax(a->y0, b->y0);
    if (iw <= 0 || ih <= 0) return 0;
    double inter = iw * ih, u = (double)(a->x1 - a->x0) * (a->y1 - a->y0) + (double)(b->x1 - b->x0) * (b->y1 - b->y0) - inter;
    return u > 0 ? (float)(inter / u) : 0;
}

/* darknet's DIoU criterion: IoU - (centre distance^2 / enclosing diagonal^2)^beta. */
static double diou(const DnDet *a, const DnDet *b, double beta) {
    double cw = fmax(a->x1, b->x1) - fmin(a->x0, b->x0), ch = fmax(a->y1, b->y1) - fmin(a->y0, b->y0);
    double c = cw * cw + ch * ch, iou = dn_box_iou(a, b);
    if (c == 0) return iou;
    double dx = (a->x0 + a->x1 - b->x0 - b->x1) / 2, dy = (a->y0 + a->y1 - b->y0 - b->y1) / 2;
    return iou - pow((dx * dx + dy * dy) / c, beta);
}

/* Class ascending, then score descending; index keeps the order total (deterministic). */
static int cmp_det(const void *pa, const void *pb) {
    const DnDet *a = pa, *b = pb;
    if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return 0;
}

static int cmp_score(const void *pa, const void *pb) {
    const DnDet *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->cls - b->cls;
}

int darknet_nms(DnDet *d, int n, float thresh, DnNmsKind kind, float beta) {
    qsort(d, n, sizeof *d, cmp_det);
    bool *dead = xcalloc(n ? n : 1, 1);
    for (int i = 0; i < n; i++) {
        if (dead[i]) continue;
        for (int j = i + 1; j < n && d[j].cls == d[i].cls; j++) {
            if (dead[j]) continue;
            double v = kind == DN_NMS_IOU ? dn_box_iou(&d[i], &d[j]) : diou(&d[i], &d[j], kind == DN_NMS_DIOU ? beta : 0.6);
            if (v > thresh) dead[j] = true;
        }
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!dead[i]) d[m++] = d[i];
    free(dead);
    qsort(d, m, sizeof *d, cmp_score);
    return m;
}
