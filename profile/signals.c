/* signals.c: the tail-frame signals of one prediction map (ratio, ratio_lr, small_count, softmax stats, tail_share) and the flag rule. */
#include "profile/signals.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "profile/tail.h"
#include "util/err.h"
#include "util/progress.h"

static const char *const NAMES[SIG_N] = {"ratio", "ratio_lr", "small_count", "maxprob", "entropy", "tail_share"};

const char *signal_name(SignalId s) { return s >= 0 && s < SIG_N ? NAMES[s] : "?"; }

int signal_parse(const char *name, SignalId *out) {
    for (int s = 0; s < SIG_N; s++)
        if (name && !strcmp(name, NAMES[s])) return *out = (SignalId)s, 0;
    return rn_fail("unknown signal '%s' (ratio, ratio_lr, small_count, maxprob, entropy or tail_share)", name ? name : "");
}

int signal_default_direction(SignalId s) { return s == SIG_ENTROPY ? -1 : +1; }

bool signal_flags(double value, int direction, double thr) {
    if (isnan(value) || isnan(thr)) return false;
    if (direction == +1) return value < thr;
    if (direction == -1) return value > thr;
    return false; /* no direction: nothing is flagged rather than a guess */
}

double signals_tail_share(const long long *px, int k, const bool *tail_cls) {
    long long all = 0, tail = 0;
    for (int c = 0; c < k; c++) all += px[c], tail += tail_cls[c] ? px[c] : 0;
    return all ? (double)tail / (double)all : NAN;
}

/* The prediction as the edge's LR frame would carry it: the pixel at each LR pixel's centre
 * (nearest, no blending: a class map has no in-between values). *lw x *lh; NULL when empty. */
static uint8_t *subsample(const uint8_t *pred, int w, int h, int s, int *lw, int *lh) {
    *lw = w / s, *lh = h / s;
    if (*lw <= 0 || *lh <= 0) return NULL;
    uint8_t *lr = xmalloc((size_t)*lw * *lh);
    for (int y = 0; y < *lh; y++) {
        const uint8_t *row = pred + (size_t)(y * s + s / 2) * w + s / 2;
        for (int x = 0; x < *lw; x++) lr[(size_t)y * *lw + x] = row[(size_t)x * s];
    }
    return lr;
}

/* ratio_lr and its milliseconds; HR is the ratio itself (the cloud would compute the same thing,
 * so it costs what the ratio costs). */
static void ratio_lr(const uint8_t *pred, int w, int h, int scale, double small, FrameSignals *out) {
    if (scale <= 1) {
        out->v[SIG_RATIO_LR] = out->v[SIG_RATIO], out->ratio_lr_ms = out->ratio_ms;
        return;
    }
    double t0 = now_seconds();
    int lw, lh;
    uint8_t *lr = subsample(pred, w, h, scale, &lw, &lh);
    /* the same fraction of the LR frame: a region small at HR is small at LR (areas scale alike) */
    out->v[SIG_RATIO_LR] = lr ? small_region_ratio(lr, lw, lh, small, DS_IGNORE) : NAN;
    free(lr);
    out->ratio_lr_ms = 1000 * (now_seconds() - t0);
}

void signals_compute(const uint8_t *pred, int w, int h, int scale, double small, const SoftStats *soft, int k,
                     const bool *tail_cls, FrameSignals *out) {
    RN_CHECK(k >= 0 && k <= SIG_MAX_CLASSES, "signals_compute: %d classes (at most %d)", k, SIG_MAX_CLASSES);
    memset(out, 0, sizeof *out);
    for (int s = 0; s < SIG_N; s++) out->v[s] = NAN;
    double t0 = now_seconds();
    /* the prediction has no ignore label: the ratio is over the whole frame, as the cloud sees it */
    SmallRegions r = small_regions(pred, w, h, small, DS_IGNORE);
    out->v[SIG_RATIO] = r.labelled ? (double)r.pixels / (double)r.labelled : 0; /* = small_region_ratio */
    out->ratio_ms = 1000 * (now_seconds() - t0);
    out->v[SIG_SMALL_COUNT] = (double)r.regions; /* a by-product of the ratio's flood fill */
    ratio_lr(pred, w, h, scale, small, out);
    if (soft) out->v[SIG_MAXPROB] = soft->maxprob, out->v[SIG_ENTROPY] = soft->entropy;
    out->k = k;
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (pred[i] < k) out->px[pred[i]]++;
    if (tail_cls) out->v[SIG_TAIL_SHARE] = signals_tail_share(out->px, k, tail_cls);
}
