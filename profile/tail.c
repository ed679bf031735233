/* tail.c: connected small regions, tail-class selection and percentiles. */
#include "profile/tail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/sort.h"

/* Labels every 4-connected same-label component with an id (iterative flood fill with an explicit
 * stack: frames are large, recursion would overflow). comp[i] = -1 for ignored pixels. Returns the
 * component count; area[id] is filled (caller frees *area). */
static int components(const uint8_t *label, int w, int h, int ignore, int *comp, long long **area_out) {
    size_t n = (size_t)w * h;
    int *stack = xmalloc(n * sizeof *stack);
    long long *area = NULL;
    int ncomp = 0, cap = 0;
    for (size_t i = 0; i < n; i++) comp[i] = label[i] == ignore ? -1 : -2;
    for (size_t s = 0; s < n; s++) {
        if (comp[s] != -2) continue;
        if (ncomp == cap) {
            cap = cap ? 2 * cap : 256;
            area = xrealloc(area, (size_t)cap * sizeof *area);
        }
        uint8_t lab = label[s];
        long long a = 0;
        int top = 0;
        stack[top++] = (int)s;
        comp[s] = ncomp;
        while (top) {
            int p = stack[--top], x = p % w, y = p / w;
            a++;
            int nb[4] = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1};
            for (int k = 0; k < 4; k++) {
                int q = nb[k];
                if (q >= 0 && comp[q] == -2 && label[q] == lab) comp[q] = ncomp, stack[top++] = q;
            }
        }
        area[ncomp++] = a;
    }
    free(stack);
    *area_out = area;
    return ncomp;
}

size_t small_region_mask(const uint8_t *label, int w, int h, double frac, int ignore, uint8_t *mask) {
    size_t n = (size_t)w * h, cnt = 0;
    int *comp = xmalloc(n * sizeof *comp);
    long long *area;
    components(label, w, h, ignore, comp, &area);
    double limit = frac * (double)n;
    for (size_t i = 0; i < n; i++) {
        mask[i] = comp[i] >= 0 && (double)area[comp[i]] < limit;
        cnt += mask[i];
    }
    free(area);
    free(comp);
    return cnt;
}

void region_stats(const uint8_t *label, int w, int h, int k, int ignore, long long *count, long long *area_sum) {
    size_t n = (size_t)w * h;
    int *comp = xmalloc(n * sizeof *comp);
    long long *area;
    int nc = components(label, w, h, ignore, comp, &area);
    /* the first pixel of each component (in scan order) names its class */
    char *seen = xcalloc((size_t)nc + 1, 1);
    for (size_t i = 0; i < n; i++) {
        int c = comp[i];
        if (c < 0 || seen[c] || label[i] >= k) continue;
        seen[c] = 1;
        count[label[i]]++;
        area_sum[label[i]] += area[c];
    }
    free(seen);
    free(area);
    free(comp);
}

SmallRegions small_regions(const uint8_t *label, int w, int h, double frac, int ignore) {
    size_t n = (size_t)w * h;
    int *comp = xmalloc((n ? n : 1) * sizeof *comp);
    long long *area;
    int nc = components(label, w, h, ignore, comp, &area);
    SmallRegions r = {0, 0, 0};
    double limit = frac * (double)n; /* the same rule as small_region_mask: area below frac of the frame */
    for (int c = 0; c < nc; c++) {
        r.labelled += area[c];
        if ((double)area[c] < limit) r.pixels += area[c], r.regions++;
    }
    free(area);
    free(comp);
    return r;
}

double small_region_ratio(const uint8_t *label, int w, int h, double frac, int ignore) {
    SmallRegions r = small_regions(label, w, h, frac, ignore);
    return r.labelled ? (double)r.pixels / (double)r.labelled : 0;
}

/* Class ids by score (ctx: the scores), lower first; ties by id, so the order is fixed. */
static int by_score(const void *a, const void *b, void *ctx) {
    const double *score = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    return score[i] < score[j] ? -1 : score[i] > score[j] ? 1 : i - j;
}

int tail_worse_half(const double *score, int k, int *ranked) {
    /* the paper's "50% to 100%": the worse half of the classes with a score, rounding the half
     * down (9 of 19 Cityscapes classes, 5 of 11 CamVid classes) */
    int n = 0;
    for (int c = 0; c < k; c++)
        if (!isnan(score[c])) ranked[n++] = c;
    qsort_r(ranked, (size_t)n, sizeof *ranked, by_score, (void *)score);
    return n / 2;
}

int tail_classes(const Confusion *ref, int k, int *ranked) {
    RN_CHECK(k >= 0 && k <= ref->k, "tail_classes: %d classes of %d", k, ref->k);
    double *iou = xmalloc((size_t)(k ? k : 1) * sizeof *iou);
    for (int c = 0; c < k; c++) iou[c] = confusion_iou(ref, c);
    int n = tail_worse_half(iou, k, ranked);
    free(iou);
    return n;
}

double mean_iou_over(const Confusion *c, const int *cls, int n) {
    double s = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        double v = confusion_iou(c, cls[i]);
        if (!isnan(v)) s += v, m++;
    }
    return m ? s / m : NAN;
}

double percentile(double *v, int n, double p) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double pos = p / 100.0 * (n - 1);
    int lo = (int)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}
