/* tail_threshold.c: tail marks, the regression threshold on the small-region ratio, recall and precision. */
#include "profile/tail_threshold.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/sort.h"

static int by_acc(const void *a, const void *b, void *ctx) {
    const double *acc = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    return acc[i] < acc[j] ? -1 : acc[i] > acc[j] ? 1 : i - j;
}

int tail_mark(const double *acc, int n, double pct, bool *tail) {
    int *idx = xmalloc((size_t)(n ? n : 1) * sizeof *idx), m = 0;
    for (int f = 0; f < n; f++) {
        tail[f] = false;
        if (!isnan(acc[f])) idx[m++] = f;
    }
    qsort_r(idx, (size_t)m, sizeof *idx, by_acc, (void *)acc);
    int k = (int)ceil(m * pct / 100.0 - 1e-9);
    if (k > m) k = m;
    for (int i = 0; i < k; i++) tail[idx[i]] = true;
    free(idx);
    return k;
}

LinFit linfit(const double *x, const double *y, int n) {
    LinFit f = {NAN, NAN, NAN, n};
    if (n < 2) return f;
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= n, my /= n;
    double sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < n; i++) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my), syy += (y[i] - my) * (y[i] - my);
    if (sxx == 0) return f;
    f.b = sxy / sxx, f.a = my - f.b * mx;
    f.r2 = syy > 0 ? sxy * sxy / (sxx * syy) : NAN;
    return f;
}

TailDetect tail_detect(const double *ratio, const bool *tail, int n, double thr) {
    TailDetect d = {.n = n};
    for (int f = 0; f < n; f++) {
        bool pred = ratio[f] < thr;
        d.ntail += tail[f], d.npred += pred, d.hits += pred && tail[f];
    }
    d.recall = d.ntail ? (double)d.hits / d.ntail : NAN;
    d.precision = d.npred ? (double)d.hits / d.npred : NAN;
    return d;
}

/* Pooled points of the scales at quality q: x = ratio, y = accuracy - the scale's cut-off; tail marks. */
static int pooled(const Sweep *s, const int *scales, int nscales, int q, double pct, double *x, double *y, bool *tail) {
    int n = 0;
    double *acc = xmalloc((size_t)(s->nframes ? s->nframes : 1) * sizeof *acc);
    bool *t = xmalloc((size_t)(s->nframes ? s->nframes : 1));
    for (int k = 0; k < nscales; k++) {
        int c = sweep_find(s, scales[k], q);
        if (c < 0) continue;
        for (int f = 0; f < s->nframes; f++) acc[f] = s->acc[(size_t)f * s->nconfigs + c];
        int nt = tail_mark(acc, s->nframes, pct, t);
        double cut = -INFINITY; /* the best tail frame's accuracy */
        for (int f = 0; f < s->nframes; f++)
            if (t[f] && acc[f] > cut) cut = acc[f];
        if (nt == 0) continue;
        for (int f = 0; f < s->nframes; f++) {
            if (isnan(acc[f])) continue;
            x[n] = s->ratio[(size_t)f * s->nconfigs + c], y[n] = acc[f] - cut, tail[n] = t[f], n++;
        }
    }
    free(acc), free(t);
    return n;
}

double tail_threshold_fit(const Sweep *s, const int *scales, int nscales, int q, double pct, LinFit *fit) {
    size_t cap = (size_t)(s->nframes ? s->nframes : 1) * (nscales ? nscales : 1);
    double *x = xmalloc(cap * sizeof *x), *y = xmalloc(cap * sizeof *y);
    bool *t = xmalloc(cap);
    int n = pooled(s, scales, nscales, q, pct, x, y, t);
    *fit = linfit(x, y, n);
    free(x), free(y), free(t);
    /* y = a + b x reaches 0 (the cut-off) at x = -a / b; only meaningful when accuracy rises with the ratio */
    if (!(fit->b > 0)) return NAN;
    double thr = -fit->a / fit->b;
    return thr > 0 ? thr : 0;
}

double tail_threshold_for_recall(const Sweep *s, const int *scales, int nscales, int q, double pct, double recall) {
    size_t cap = (size_t)(s->nframes ? s->nframes : 1) * (nscales ? nscales : 1);
    double *x = xmalloc(cap * sizeof *x), *y = xmalloc(cap * sizeof *y);
    bool *t = xmalloc(cap);
    int n = pooled(s, scales, nscales, q, pct, x, y, t), m = 0;
    for (int i = 0; i < n; i++)
        if (t[i]) x[m++] = x[i];
    double thr = NAN;
    if (m) {
        qsort(x, (size_t)m, sizeof *x, cmp_double);
        int k = (int)ceil(recall * m - 1e-9);
        if (k < 1) k = 1;
        thr = nextafter(x[k - 1], INFINITY); /* "ratio < thr" must include the k-th smallest */
    }
    free(x), free(y), free(t);
    return thr;
}

TailDetect tail_detect_scale(const Sweep *s, int scale, int q, double pct, double thr, double *mean_ratio_ms) {
    int c = sweep_find(s, scale, q), n = s->nframes;
    RN_CHECK(c >= 0, "no x%d q%d in the sweep", scale, q);
    double *acc = xmalloc((size_t)(n ? n : 1) * sizeof *acc), *r = xmalloc((size_t)(n ? n : 1) * sizeof *r), ms = 0;
    bool *t = xmalloc((size_t)(n ? n : 1));
    for (int f = 0; f < n; f++) {
        size_t at = (size_t)f * s->nconfigs + c;
        acc[f] = s->acc[at], r[f] = s->ratio[at], ms += s->ratio_ms[at];
    }
    tail_mark(acc, n, pct, t);
    TailDetect d = tail_detect(r, t, n, thr);
    if (mean_ratio_ms) *mean_ratio_ms = n ? ms / n : NAN;
    free(acc), free(r), free(t);
    return d;
}
