/* detector.c: ranks, the Mann-Whitney z, the threshold at a recall target and the detector's score. */
#include "profile/detector.h"

#include <math.h>
#include <stdlib.h>

#include "profile/signals.h"
#include "util/err.h"
#include "util/sort.h"

/* One finite value and its mark, sorted by value. */
typedef struct VT {
    double v;
    bool t;
} VT;

static int by_v(const void *a, const void *b) {
    double x = ((const VT *)a)->v, y = ((const VT *)b)->v;
    return x < y ? -1 : x > y;
}

/* The rank sums behind both the AUC and the z: U_low = the pairs (tail, standard) with the tail
 * value lower, ties counted half; tie = sum over tied groups of t^3 - t. */
typedef struct Ranks {
    double n1, n0, u_low, tie;
} Ranks;

static Ranks ranks(const double *v, const bool *tail, int n) {
    VT *a = xmalloc((size_t)(n ? n : 1) * sizeof *a);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) a[m++] = (VT){v[i], tail[i]};
    qsort(a, (size_t)m, sizeof *a, by_v);
    Ranks r = {0};
    double rsum = 0; /* sum of the tail values' midranks (1-based) */
    for (int i = 0; i < m;) {
        int j = i;
        while (j < m && a[j].v == a[i].v) j++;
        double mid = (i + 1 + j) / 2.0, t = j - i;
        for (int k = i; k < j; k++) rsum += a[k].t ? mid : 0, r.n1 += a[k].t;
        r.tie += t * t * t - t;
        i = j;
    }
    r.n0 = m - r.n1;
    /* rsum - n1(n1+1)/2 = pairs with the tail value higher (+ half ties) */
    r.u_low = r.n1 * r.n0 - (rsum - r.n1 * (r.n1 + 1) / 2);
    free(a);
    return r;
}

double detector_auc(const double *v, const bool *tail, int n) {
    Ranks r = ranks(v, tail, n);
    return r.n1 > 0 && r.n0 > 0 ? r.u_low / (r.n1 * r.n0) : NAN;
}

double detector_mw_z(const double *v, const bool *tail, int n) {
    Ranks r = ranks(v, tail, n);
    if (!(r.n1 > 0 && r.n0 > 0)) return NAN;
    double N = r.n1 + r.n0, mu = r.n1 * r.n0 / 2;
    double var = r.n1 * r.n0 / 12 * ((N + 1) - r.tie / (N * (N - 1)));
    if (!(var > 0)) return 0;
    double d = r.u_low - mu, a = fabs(d) - 0.5;
    return (a > 0 ? copysign(a, d) : 0) / sqrt(var);
}

int detector_direction(double z, int def, bool *from_data) {
    *from_data = fabs(z) > DETECTOR_Z05; /* NaN: false */
    return *from_data ? (z > 0 ? +1 : -1) : def;
}

double detector_threshold(const double *v, const bool *tail, int n, int direction, double recall) {
    /* work on s*v so that the high direction is the low one mirrored */
    double s = direction > 0 ? 1 : -1, *tv = xmalloc((size_t)(n ? n : 1) * sizeof *tv);
    int m = 0, ntail = 0;
    for (int i = 0; i < n; i++) {
        ntail += tail[i];
        if (tail[i] && isfinite(v[i])) tv[m++] = s * v[i];
    }
    double thr = NAN;
    if (m > 0) {
        qsort(tv, (size_t)m, sizeof *tv, cmp_double);
        int k = (int)ceil(recall * ntail - 1e-9);
        k = k < 1 ? 1 : k > m ? m : k;
        double vk = tv[k - 1], next = INFINITY;
        for (int i = 0; i < n; i++)
            if (isfinite(v[i]) && s * v[i] > vk && s * v[i] < next) next = s * v[i];
        thr = s * (isfinite(next) ? vk + (next - vk) / 2 : nextafter(vk, INFINITY));
    }
    free(tv);
    return thr;
}

DetScore detector_score(const double *v, const bool *tail, int n, int direction, double thr) {
    DetScore d = {.n = n};
    for (int i = 0; i < n; i++) {
        bool f = signal_flags(v[i], direction, thr);
        d.ntail += tail[i], d.npred += f, d.hits += f && tail[i];
    }
    d.recall = d.ntail ? (double)d.hits / d.ntail : NAN;
    d.precision = d.npred ? (double)d.hits / d.npred : NAN;
    return d;
}

void detector_fit(const double *v, const bool *tail, int n, int def, double recall, DetFit *out) {
    out->auc_low = detector_auc(v, tail, n);
    out->z = detector_mw_z(v, tail, n);
    out->direction = detector_direction(out->z, def, &out->from_data);
    out->threshold = detector_threshold(v, tail, n, out->direction, recall);
    out->threshold_other = detector_threshold(v, tail, n, -out->direction, recall);
    out->score = detector_score(v, tail, n, out->direction, out->threshold);
}
