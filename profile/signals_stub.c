/* signals_stub.c: weak stand-ins for the parts of profile/signals.c (helper A, issue 22) that the analysis calls; A's strong definitions replace them at link time — delete this file once signals.c is merged. */
#include <math.h>
#include <string.h>

#include "profile/signals.h"
#include "util/err.h"

static const char *const NAMES[SIG_N] = {"ratio", "ratio_lr", "small_count", "maxprob", "entropy", "tail_share"};

__attribute__((weak)) const char *signal_name(SignalId s) { return s >= 0 && s < SIG_N ? NAMES[s] : "?"; }

__attribute__((weak)) int signal_parse(const char *name, SignalId *out) {
    for (int s = 0; s < SIG_N; s++)
        if (!strcmp(name, NAMES[s])) return *out = (SignalId)s, 0;
    return rn_fail("signal %s: one of ratio, ratio_lr, small_count, maxprob, entropy, tail_share", name);
}

__attribute__((weak)) int signal_default_direction(SignalId s) { return s == SIG_ENTROPY ? -1 : +1; }

__attribute__((weak)) double signals_tail_share(const long long *px, int k, const bool *tail_cls) {
    long long all = 0, t = 0;
    for (int c = 0; c < k; c++) all += px[c], t += tail_cls && tail_cls[c] ? px[c] : 0;
    return all ? (double)t / (double)all : NAN;
}

__attribute__((weak)) bool signal_flags(double value, int direction, double thr) {
    if (isnan(value) || isnan(thr)) return false;
    return direction > 0 ? value < thr : value > thr;
}
