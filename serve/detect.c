/* detect.c: the per-configuration tail-frame detector lookup (exact configuration, else the same scale's nearest quality, else none). */
#include "serve/detect.h"

#include <math.h>
#include <stdlib.h>

#include "profile/signals.h"
#include "util/err.h"

int serve_signal_of(const ProfileDoc *d, int *signal) {
    SignalId s;
    if (signal_parse(d->signal[0] ? d->signal : "ratio", &s) < 0) return -1;
    *signal = (int)s;
    return 0;
}

int serve_threshold_check(int signal, double thr) {
    if (isnan(thr)) return 0;
    bool share = signal != SIG_SMALL_COUNT && signal != SIG_ENTROPY;
    if (!(thr >= 0) || !isfinite(thr) || (share && thr > 1))
        return rn_fail("--threshold %g: signal %s is %s", thr, signal_name((SignalId)signal),
                       share ? "a share of the frame (or a probability), 0..1" : "a count or nats, >= 0");
    return 0;
}

/* det[] index of (scale, quality), else the same scale's nearest quality (ties: the higher), else -1. */
static int lookup(const ProfileDoc *d, int scale, int quality) {
    int best = -1;
    for (int i = 0; i < d->ndet; i++) {
        const ProfileDetector *p = &d->det[i];
        if (p->scale != scale) continue;
        if (p->quality == quality) return i;
        int dist = abs(p->quality - quality), bd = best < 0 ? 0 : abs(d->det[best].quality - quality);
        if (best < 0 || dist < bd || (dist == bd && p->quality > d->det[best].quality)) best = i;
    }
    return best;
}

ServeDetector serve_detector(const ProfileDoc *d, int signal, int scale, int quality, double thr_override) {
    ServeDetector r = {.found = false, .threshold = NAN};
    if (d->ndet == 0) { /* version 1: one pooled threshold for every configuration */
        double thr = isfinite(thr_override) ? thr_override : d->threshold;
        if (!isfinite(thr)) return r;
        return (ServeDetector){.found = true, .direction = signal_default_direction((SignalId)signal), .threshold = thr};
    }
    int i = lookup(d, scale, quality);
    if (i < 0) return r;
    const ProfileDetector *p = &d->det[i];
    r = (ServeDetector){.found = true, .scale = p->scale, .quality = p->quality, .direction = p->direction >= 0 ? 1 : -1,
                        .threshold = isfinite(thr_override) ? thr_override : p->threshold};
    return r;
}
