/* profile_analyze.c: from the sweeps to the profile's numbers — tail frames at the reference, group means, picks per target under the byte model with their gains, detectors, cac-share, the paper's pooled threshold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/bootstrap.h"
#include "profile/detector.h"
#include "profile/pareto.h"
#include "profile/profile_run.h"
#include "profile/share.h"
#include "profile/tail_threshold.h"
#include "util/err.h"

#define BOOT_REPS 2000
#define BOOT_SEED 0x2222u /* fixed: the same sweep gives the same intervals */

/* The byte model's cost per configuration for one group (bytes per frame, room for nconfigs). */
static void group_costs(const ProfileDoc *d, const Sweep *s, const bool *group, double *cost) {
    pareto_costs(s, strcmp(d->bytes_model, "own") ? NULL : group, cost);
}

static ProfilePick pick(const Sweep *s, const bool *in_std, const bool *in_tail, const bool *group, const double *cost,
                        double mbps, double fps, int *cfg) {
    ProfilePick p = {.acc_std = NAN, .acc_tail = NAN, .mbps = NAN}; /* scale 0: nothing fits */
    int c = *cfg = pareto_pick(s, group, cost, mbps * 1e6, fps);
    if (c < 0) return p;
    p.scale = s->cfg[c].scale, p.quality = s->cfg[c].quality;
    p.acc_std = pareto_group_mean(s, in_std, c).acc, p.acc_tail = pareto_group_mean(s, in_tail, c).acc;
    p.mbps = 8 * cost[c] * fps / 1e6;
    return p;
}

/* acc(pick a) - acc(pick b) over the frames of the group, paired bootstrap interval. */
static ProfileGain gain(const Sweep *s, const bool *group, int a, int b) {
    ProfileGain g = {NAN, NAN, NAN, 0};
    if (a < 0 || b < 0) return g;
    double *x = xmalloc((size_t)(s->nframes ? s->nframes : 1) * sizeof *x), *y = xmalloc((size_t)(s->nframes ? s->nframes : 1) * sizeof *y);
    int n = 0;
    for (int f = 0; f < s->nframes; f++) {
        double u = s->acc[(size_t)f * s->nconfigs + a], v = s->acc[(size_t)f * s->nconfigs + b];
        if (group[f] && !isnan(u) && !isnan(v)) x[n] = u, y[n] = v, n++;
    }
    BootCI ci;
    bootstrap_mean_diff(x, y, n, BOOT_REPS, BOOT_SEED, &ci);
    free(x), free(y);
    return (ProfileGain){ci.diff, ci.lo, ci.hi, n};
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int profile_auto_targets(const Sweep *s, const bool *tail, bool own, double fps, double *mbps, int cap) {
    int nc = s->nconfigs, *fr = xmalloc((size_t)nc * sizeof *fr), n = 0;
    bool *std = xmalloc((size_t)(s->nframes ? s->nframes : 1));
    double *cost = xmalloc((size_t)nc * sizeof *cost), *all = xmalloc((size_t)2 * nc * sizeof *all);
    for (int f = 0; f < s->nframes; f++) std[f] = !tail[f];
    const bool *grp[2] = {std, tail};
    for (int g = 0; g < 2; g++) {
        pareto_costs(s, own ? grp[g] : NULL, cost);
        int m = pareto_frontier(s, grp[g], cost, fr);
        for (int i = 0; i < m; i++) all[n++] = 8 * cost[fr[i]] * fps / 1e6;
    }
    qsort(all, (size_t)n, sizeof *all, by_value);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || all[i] > all[m - 1]) all[m++] = all[i];
    if (m > cap) fprintf(stderr, "rune profile: %d targets where a pick changes; keeping the %d cheapest\n", m, cap), m = cap;
    memcpy(mbps, all, (size_t)m * sizeof *mbps);
    free(fr), free(std), free(cost), free(all);
    return m;
}

/* Tail frames of train at the reference; the cut-offs (the best tail frame's reference accuracy). */
static double mark_at(const Sweep *s, int ref, double pct, bool *tail) {
    double *acc = xmalloc((size_t)(s->nframes ? s->nframes : 1) * sizeof *acc), cut = NAN;
    for (int f = 0; f < s->nframes; f++) acc[f] = s->acc[(size_t)f * s->nconfigs + ref];
    tail_mark(acc, s->nframes, pct, tail);
    for (int f = 0; f < s->nframes; f++)
        if (tail[f] && !(acc[f] <= cut)) cut = acc[f];
    free(acc);
    return cut;
}

/* Val's tail frames: the TRAIN cut-off on val's reference accuracy (no new ranking on val, so a
 * detector is checked against the same definition of "tail" it was fitted to). */
static bool *val_marks(const ProfileDoc *d, const Sweep *va) {
    bool *t = xcalloc((size_t)(va->nframes ? va->nframes : 1), 1);
    int ref = sweep_find(va, d->ref_scale, d->ref_quality);
    for (int f = 0; f < va->nframes && ref >= 0; f++) t[f] = va->acc[(size_t)f * va->nconfigs + ref] <= d->tail_cutoff;
    return t;
}

static void group_means(ProfileDoc *d, const Sweep *s, const bool *std, const bool *tail) {
    d->ncfg = s->nconfigs, d->nframes = s->nframes;
    for (int c = 0; c < s->nconfigs; c++) {
        GroupMean gs = pareto_group_mean(s, std, c), gt = pareto_group_mean(s, tail, c);
        d->cfg[c] = (ProfileCfg){s->cfg[c].scale, s->cfg[c].quality, gs.bytes, gt.bytes, gs.acc, gt.acc, gs.ratio, gt.ratio};
    }
    d->ntail = 0;
    d->tail_frames = xcalloc((size_t)(s->nframes ? s->nframes : 1), sizeof *d->tail_frames);
    for (int f = 0; f < s->nframes; f++)
        if (tail[f]) d->tail_frames[d->ntail++] = xstrdup(s->name[f]);
}

/* Picks and gains per target; std_cfg[i] keeps the standard pick's configuration for cac-share. */
static void targets(ProfileDoc *d, const Sweep *s, const bool *std, const bool *tail, int *std_cfg) {
    double *cs = xmalloc((size_t)s->nconfigs * sizeof *cs), *ct = xmalloc((size_t)s->nconfigs * sizeof *ct);
    group_costs(d, s, std, cs), group_costs(d, s, tail, ct);
    for (int i = 0; i < d->ntargets; i++) {
        ProfileTarget *t = &d->target[i];
        int a, b;
        t->standard = pick(s, std, tail, std, cs, t->mbps, d->fps, &a);
        t->tail = pick(s, std, tail, tail, ct, t->mbps, d->fps, &b);
        t->gain_tail = gain(s, tail, b, a), t->gain_std = gain(s, std, b, a);
        std_cfg[i] = a;
    }
    free(cs), free(ct);
}

/* cac-share per target: the frames the detector of the standard pick's configuration flags. */
static void shares(ProfileDoc *d, const Sweep *s, int sig, const int *std_cfg) {
    int n = s->nframes, nc = s->nconfigs;
    bool *flag = xmalloc((size_t)(n ? n : 1)), *other = xmalloc((size_t)(n ? n : 1));
    double *cf = xmalloc((size_t)nc * sizeof *cf), *co = xmalloc((size_t)nc * sizeof *co);
    d->nshare = 0;
    for (int i = 0; i < d->ntargets; i++) {
        int c = std_cfg[i];
        const ProfileDetector *det = c >= 0 ? &d->det[c] : NULL; /* det[] follows the sweep's configurations */
        for (int f = 0; f < n; f++) {
            flag[f] = det && signal_flags(profile_signal_value(s, sig, f, c), det->direction, det->threshold);
            other[f] = !flag[f];
        }
        group_costs(d, s, flag, cf), group_costs(d, s, other, co);
        share_choose(s, flag, cf, co, d->target[i].mbps, d->fps, c, &d->share[d->nshare++]);
    }
    free(flag), free(other), free(cf), free(co);
}

/* The scales other than HR, in configuration order, and their highest quality: where the paper's
 * pooled fit runs (the old default reference's quality). */
static int fit_scales(const Sweep *s, int *sc, int *q) {
    int n = 0;
    *q = 0;
    for (int c = 0; c < s->nconfigs; c++) {
        if (s->cfg[c].scale == 1) continue;
        *q = s->cfg[c].quality > *q ? s->cfg[c].quality : *q;
        bool seen = false;
        for (int i = 0; i < n; i++) seen |= sc[i] == s->cfg[c].scale;
        if (!seen && n < SWEEP_MAX_SCALE) sc[n++] = s->cfg[c].scale;
    }
    return n;
}

/* The paper's pooled regression threshold, kept as a report (CAC reads det[]). */
static void pooled(ProfileDoc *d, const Sweep *s) {
    int sc[SWEEP_MAX_SCALE], q, nsc = fit_scales(s, sc, &q);
    LinFit fit = {NAN, NAN, NAN, 0};
    d->threshold = nsc ? tail_threshold_fit(s, sc, nsc, q, d->tail_pct, &fit) : NAN;
    d->fit_a = fit.a, d->fit_b = fit.b, d->fit_r2 = fit.r2, d->fit_n = fit.n;
    d->threshold_recall90 = nsc ? tail_threshold_for_recall(s, sc, nsc, q, d->tail_pct, 0.9) : NAN;
    d->ntrain = profile_check(d, s, d->train);
}

/* Which signal: the named one, or the best by profile_signal_evals. */
static int resolve_signal(ProfileDoc *d, int best) {
    SignalId id = (SignalId)best;
    if (strcmp(d->signal, "auto") && signal_parse(d->signal, &id) < 0) return -1;
    snprintf(d->signal, sizeof d->signal, "%s", signal_name(id));
    return id;
}

/* The detectors and cac-share (d->tail_cutoff, the tail classes and picks already set). */
static int detect(ProfileDoc *d, Sweep *tr, const bool *tail, Sweep *va, const int *std_cfg) {
    SignalId id;
    if (strcmp(d->signal, "auto") && signal_parse(d->signal, &id) < 0) /* a bad name fails before the work */
        return rn_fail("signal %s: %s", d->signal, rn_errmsg());
    profile_fill_tail_share(d, tr);
    bool *vt = NULL;
    if (va) profile_fill_tail_share(d, va), vt = val_marks(d, va);
    int sig = resolve_signal(d, profile_signal_evals(d, tr, tail, va, vt));
    if (sig >= 0) {
        profile_detectors(d, sig, tr, tail, va, vt);
        shares(d, tr, sig, std_cfg);
    }
    free(vt);
    return sig < 0 ? -1 : 0;
}

/* The targets: the given ones, or every cost at which a pick changes. */
static void set_targets(ProfileDoc *d, const Sweep *tr, const bool *tail, const double *mbps, int ntargets) {
    double v[PROFILE_MAX_TARGETS];
    if (ntargets == 0) ntargets = profile_auto_targets(tr, tail, !strcmp(d->bytes_model, "own"), d->fps, v, PROFILE_MAX_TARGETS), mbps = v;
    d->ntargets = ntargets < PROFILE_MAX_TARGETS ? ntargets : PROFILE_MAX_TARGETS;
    for (int i = 0; i < d->ntargets; i++) d->target[i] = (ProfileTarget){.mbps = mbps[i]};
}

int profile_analyze(ProfileDoc *d, Sweep *tr, Sweep *va, const double *mbps, int ntargets, bool *tail_out) {
    int ref = sweep_find(tr, d->ref_scale, d->ref_quality), n = tr->nframes;
    if (ref < 0) return rn_fail("reference %d:%d is not among the profiled configurations", d->ref_scale, d->ref_quality);
    if (strcmp(d->bytes_model, "all") && strcmp(d->bytes_model, "own")) return rn_fail("bytes model %s: all or own", d->bytes_model);
    if (!(d->recall_target > 0 && d->recall_target <= 1)) return rn_fail("recall target %g: must be in (0, 1]", d->recall_target);
    bool *tail = xmalloc((size_t)(n ? n : 1)), *std = xmalloc((size_t)(n ? n : 1));
    d->tail5_cutoff = mark_at(tr, ref, 5, tail);
    d->tail_cutoff = mark_at(tr, ref, d->tail_pct, tail);
    for (int f = 0; f < n; f++) std[f] = !tail[f];
    profile_tail_classes(d, tr, ref);
    group_means(d, tr, std, tail);
    set_targets(d, tr, tail, mbps, ntargets);
    int *std_cfg = xmalloc((size_t)(d->ntargets ? d->ntargets : 1) * sizeof *std_cfg);
    targets(d, tr, std, tail, std_cfg);
    int rc = detect(d, tr, tail, va, std_cfg);
    pooled(d, tr);
    if (va) d->nval = profile_check(d, va, d->val);
    if (tail_out) memcpy(tail_out, tail, (size_t)n);
    free(tail), free(std), free(std_cfg);
    return rc;
}

int profile_check(const ProfileDoc *d, const Sweep *s, ProfileCheck *out) {
    int sc[SWEEP_MAX_SCALE], q, nsc = fit_scales(s, sc, &q), n = 0;
    for (int k = 0; k < nsc; k++) {
        if (sweep_find(s, sc[k], q) < 0) continue; /* a scale not profiled at that quality */
        double ms;
        TailDetect t = tail_detect_scale(s, sc[k], q, d->tail_pct, d->threshold, &ms);
        TailDetect p = tail_detect_scale(s, sc[k], q, d->tail_pct, 0.01, NULL);
        TailDetect r = tail_detect_scale(s, sc[k], q, d->tail_pct, d->threshold_recall90, NULL);
        out[n++] = (ProfileCheck){.scale = sc[k], .frames = t.n, .tail = t.ntail, .predicted = t.npred, .hits = t.hits,
                                  .recall = t.recall, .precision = t.precision, .recall_1pct = p.recall,
                                  .precision_1pct = p.precision, .recall_r90 = r.recall, .precision_r90 = r.precision,
                                  .ratio_ms = ms};
    }
    return n;
}
