/* signals.c: STAND-IN (helper C, branch cac-C) for helper A's implementation of profile/signals.h — minimal, so the cloud builds; A's file replaces this one at merge. */
#include "profile/signals.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "profile/tail.h"
#include "util/err.h"
#include "util/progress.h"

static const char *const NAMES[SIG_N] = {"ratio", "ratio_lr", "small_count", "maxprob", "entropy", "tail_share"};

const char *signal_name(SignalId s) { return s >= 0 && s < SIG_N ? NAMES[s] : "unknown"; }

int signal_parse(const char *name, SignalId *out) {
    for (int i = 0; i < SIG_N; i++)
        if (name && !strcmp(name, NAMES[i])) return *out = (SignalId)i, 0;
    return rn_fail("signal %s: want ratio, ratio_lr, small_count, maxprob, entropy or tail_share", name ? name : "(none)");
}

int signal_default_direction(SignalId s) { return s == SIG_ENTROPY ? -1 : +1; }

bool signal_flags(double value, int direction, double thr) {
    if (!isfinite(value) || !isfinite(thr)) return false;
    return direction < 0 ? value > thr : value < thr;
}

double signals_tail_share(const long long *px, int k, const bool *tail_cls) {
    long long all = 0, tail = 0;
    for (int c = 0; c < k; c++) all += px[c], tail += tail_cls && tail_cls[c] ? px[c] : 0;
    return all ? (double)tail / (double)all : NAN;
}

/* Small regions counted: 4-connected same-label components of the small-region mask. */
static int small_count(const uint8_t *pred, int w, int h, double small) {
    size_t n = (size_t)w * h;
    uint8_t *mask = xmalloc(n);
    int *stack = xmalloc(n * sizeof *stack), count = 0;
    small_region_mask(pred, w, h, small, DS_IGNORE, mask);
    for (size_t s = 0; s < n; s++) {
        if (!mask[s]) continue;
        int top = 0;
        stack[top++] = (int)s, mask[s] = 0, count++;
        while (top) {
            int p = stack[--top], x = p % w, y = p / w;
            int nb[4] = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && mask[nb[k]] && pred[nb[k]] == pred[p]) mask[nb[k]] = 0, stack[top++] = nb[k];
        }
    }
    free(stack), free(mask);
    return count;
}

/* The ratio on the prediction subsampled by scale (the pixel at each LR pixel's centre). */
static double ratio_lr(const uint8_t *pred, int w, int h, int scale, double small) {
    if (scale <= 1) return small_region_ratio(pred, w, h, small, DS_IGNORE);
    int lw = w / scale, lh = h / scale;
    if (lw < 1 || lh < 1) return NAN;
    uint8_t *lr = xmalloc((size_t)lw * lh);
    for (int y = 0; y < lh; y++)
        for (int x = 0; x < lw; x++) lr[(size_t)y * lw + x] = pred[(size_t)(y * scale + scale / 2) * w + x * scale + scale / 2];
    double r = small_region_ratio(lr, lw, lh, small, DS_IGNORE);
    free(lr);
    return r;
}

void signals_compute(const uint8_t *pred, int w, int h, int scale, double small, const SoftStats *soft, int k,
                     const bool *tail_cls, FrameSignals *out) {
    memset(out, 0, sizeof *out);
    out->k = k < 0 ? 0 : k > SIG_MAX_CLASSES ? SIG_MAX_CLASSES : k;
    double t0 = now_seconds();
    out->v[SIG_RATIO] = small_region_ratio(pred, w, h, small, DS_IGNORE);
    double t1 = now_seconds();
    out->v[SIG_RATIO_LR] = scale <= 1 ? out->v[SIG_RATIO] : ratio_lr(pred, w, h, scale, small);
    out->ratio_ms = 1000 * (t1 - t0), out->ratio_lr_ms = scale <= 1 ? out->ratio_ms : 1000 * (now_seconds() - t1);
    out->v[SIG_SMALL_COUNT] = small_count(pred, w, h, small);
    out->v[SIG_MAXPROB] = soft ? soft->maxprob : NAN;
    out->v[SIG_ENTROPY] = soft ? soft->entropy : NAN;
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (pred[i] < out->k) out->px[pred[i]]++;
    out->v[SIG_TAIL_SHARE] = tail_cls ? signals_tail_share(out->px, out->k, tail_cls) : NAN;
}
