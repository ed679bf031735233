/* bootstrap.c: paired frame bootstrap of a mean-IoU difference (percentile interval). */
#include "profile/bootstrap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profile/seg_metrics.h"
#include "profile/tail.h"
#include "util/err.h"
#include "util/rng.h"

/* Sum of frames idx[0..n) of per-frame matrices src into c (reset first). */
static void sum_frames(Confusion *c, const long long *src, const int *idx, int n) {
    size_t kk = (size_t)c->k * c->k;
    confusion_reset(c);
    for (int i = 0; i < n; i++) {
        const long long *m = src + (size_t)idx[i] * kk;
        for (size_t j = 0; j < kk; j++) c->m[j] += m[j];
    }
}

static double stat_diff(Confusion *ca, Confusion *cb, const long long *a, const long long *b, const int *idx, int n,
                        const int *cls, int ncls) {
    sum_frames(ca, a, idx, n);
    sum_frames(cb, b, idx, n);
    return mean_iou_over(ca, cls, ncls) - mean_iou_over(cb, cls, ncls);
}

void bootstrap_miou_diff(const long long *a, const long long *b, int nframes, int k, const int *cls, int ncls,
                         int reps, uint64_t seed, BootCI *out) {
    RN_CHECK(nframes > 0 && k > 0 && reps > 0, "bootstrap over %d frames, %d replicates", nframes, reps);
    Confusion ca, cb;
    confusion_init(&ca, k), confusion_init(&cb, k);
    int *idx = xmalloc((size_t)nframes * sizeof *idx);
    for (int i = 0; i < nframes; i++) idx[i] = i;
    out->diff = stat_diff(&ca, &cb, a, b, idx, nframes, cls, ncls);
    double *d = xmalloc((size_t)reps * sizeof *d);
    int nd = 0;
    uint64_t s = seed;
    for (int r = 0; r < reps; r++) {
        /* modulo bias is below 2^-40 for any frame count we meet */
        for (int i = 0; i < nframes; i++) idx[i] = (int)(splitmix64_next(&s) % (uint64_t)nframes);
        double v = stat_diff(&ca, &cb, a, b, idx, nframes, cls, ncls);
        if (!isnan(v)) d[nd++] = v;
    }
    out->reps = nd;
    out->lo = nd ? percentile(d, nd, 2.5) : NAN;
    out->hi = nd ? percentile(d, nd, 97.5) : NAN;
    free(d), free(idx);
    confusion_free(&ca), confusion_free(&cb);
}

void bootstrap_mean_diff(const double *a, const double *b, int n, int reps, uint64_t seed, BootCI *out) {
    *out = (BootCI){NAN, NAN, NAN, 0};
    if (n <= 0 || reps <= 0) return;
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] - b[i];
    out->diff = s / n;
    double *d = xmalloc((size_t)reps * sizeof *d);
    uint64_t st = seed;
    for (int r = 0; r < reps; r++) {
        double m = 0;
        for (int i = 0; i < n; i++) {
            int j = (int)(splitmix64_next(&st) % (uint64_t)n);
            m += a[j] - b[j];
        }
        d[r] = m / n;
    }
    out->reps = reps;
    out->lo = percentile(d, reps, 2.5), out->hi = percentile(d, reps, 97.5);
    free(d);
}
