/* seg_metrics.c: confusion-matrix bookkeeping and IoU. */
#include "profile/seg_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void confusion_init(Confusion *c, int k) {
    c->k = k;
    c->m = xcalloc((size_t)k * k, sizeof *c->m);
}

void confusion_free(Confusion *c) {
    free(c->m);
    c->m = NULL;
}

void confusion_reset(Confusion *c) { memset(c->m, 0, (size_t)c->k * c->k * sizeof *c->m); }

void confusion_add(Confusion *c, const uint8_t *pred, const uint8_t *label, size_t n, int ignore) {
    for (size_t i = 0; i < n; i++) {
        int t = label[i], p = pred[i];
        if (t == ignore || t >= c->k || p >= c->k) continue;
        c->m[(size_t)t * c->k + p]++;
    }
}

void confusion_merge(Confusion *dst, const Confusion *src) {
    RN_CHECK(dst->k == src->k, "class counts differ");
    for (size_t i = 0; i < (size_t)dst->k * dst->k; i++) dst->m[i] += src->m[i];
}

double confusion_iou(const Confusion *c, int i) {
    long long tp = c->m[(size_t)i * c->k + i], row = 0, col = 0;
    for (int j = 0; j < c->k; j++) {
        row += c->m[(size_t)i * c->k + j];
        col += c->m[(size_t)j * c->k + i];
    }
    long long uni = row + col - tp;
    return uni > 0 ? (double)tp / (double)uni : NAN;
}

double confusion_miou(const Confusion *c) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < c->k; i++) {
        double v = confusion_iou(c, i);
        if (!isnan(v)) s += v, n++;
    }
    return n ? s / n : NAN;
}

double confusion_pixel_acc(const Confusion *c) {
    long long tp = 0, all = 0;
    for (int i = 0; i < c->k; i++)
        for (int j = 0; j < c->k; j++) {
            all += c->m[(size_t)i * c->k + j];
            if (i == j) tp += c->m[(size_t)i * c->k + j];
        }
    return all ? (double)tp / (double)all : NAN;
}

void argmax_channels(const float *logits, int k, size_t hw, uint8_t *pred) {
#pragma omp parallel for schedule(static) if (hw > 16384)
    for (size_t i = 0; i < hw; i++) {
        int best = 0;
        float bv = logits[i];
        for (int c = 1; c < k; c++) {
            float v = logits[(size_t)c * hw + i];
            if (v > bv) bv = v, best = c;
        }
        pred[i] = (uint8_t)best;
    }
}
