/* profile_analyze.c: from a training sweep to the profile's numbers — group means, Pareto choices per target, the tail threshold and its checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profile/pareto.h"
#include "profile/profile_run.h"
#include "profile/tail_threshold.h"
#include "util/err.h"

static ProfilePick pick(const Sweep *s, const bool *in_std, const bool *in_tail, const bool *group, double mbps, double fps) {
    ProfilePick p = {.acc_std = NAN, .acc_tail = NAN, .mbps = NAN}; /* scale 0: nothing fits */
    int c = pareto_pick(s, group, mbps * 1e6, fps);
    if (c < 0) return p;
    GroupMean gs = pareto_group_mean(s, in_std, c), gt = pareto_group_mean(s, in_tail, c), gg = pareto_group_mean(s, group, c);
    p.scale = s->cfg[c].scale, p.quality = s->cfg[c].quality;
    p.acc_std = gs.acc, p.acc_tail = gt.acc, p.mbps = 8 * gg.bytes * fps / 1e6;
    return p;
}

void profile_analyze(ProfileDoc *d, const Sweep *s, const bool *tail, const double *mbps, int ntargets, const int *scales,
                     int nscales) {
    bool *std = xmalloc((size_t)(s->nframes ? s->nframes : 1));
    for (int f = 0; f < s->nframes; f++) std[f] = !tail[f];
    d->ncfg = s->nconfigs, d->nframes = s->nframes;
    for (int c = 0; c < s->nconfigs; c++) {
        GroupMean gs = pareto_group_mean(s, std, c), gt = pareto_group_mean(s, tail, c);
        d->cfg[c] = (ProfileCfg){s->cfg[c].scale, s->cfg[c].quality, gs.bytes, gt.bytes, gs.acc, gt.acc, gs.ratio, gt.ratio};
    }
    d->ntail = 0;
    d->tail_frames = xcalloc((size_t)(s->nframes ? s->nframes : 1), sizeof *d->tail_frames);
    for (int f = 0; f < s->nframes; f++)
        if (tail[f]) d->tail_frames[d->ntail++] = xstrdup(s->name[f]);
    d->ntargets = ntargets < PROFILE_MAX_TARGETS ? ntargets : PROFILE_MAX_TARGETS;
    for (int i = 0; i < d->ntargets; i++) {
        d->target[i].mbps = mbps[i];
        d->target[i].standard = pick(s, std, tail, std, mbps[i], d->fps);
        d->target[i].tail = pick(s, std, tail, tail, mbps[i], d->fps);
    }
    LinFit fit;
    d->threshold = tail_threshold_fit(s, scales, nscales, d->ref_quality, d->tail_pct, &fit);
    d->fit_a = fit.a, d->fit_b = fit.b, d->fit_r2 = fit.r2, d->fit_n = fit.n;
    d->threshold_recall90 = tail_threshold_for_recall(s, scales, nscales, d->ref_quality, d->tail_pct, 0.9);
    d->ntrain = profile_check(d, s, scales, nscales, d->train);
    free(std);
}

int profile_check(const ProfileDoc *d, const Sweep *s, const int *scales, int nscales, ProfileCheck *out) {
    int n = 0;
    for (int k = 0; k < nscales && n < SWEEP_MAX_SCALE; k++) {
        if (sweep_find(s, scales[k], d->ref_quality) < 0) continue;
        double ms;
        TailDetect t = tail_detect_scale(s, scales[k], d->ref_quality, d->tail_pct, d->threshold, &ms);
        TailDetect p = tail_detect_scale(s, scales[k], d->ref_quality, d->tail_pct, 0.01, NULL);
        out[n++] = (ProfileCheck){scales[k], t.n, t.ntail, t.npred, t.hits, t.recall, t.precision, p.recall, p.precision, ms};
    }
    return n;
}
