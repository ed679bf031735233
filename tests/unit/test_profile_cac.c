/* test_profile_cac.c: the issue-22 rules of `rune profile` on hand-made sweeps, numbers worked out by hand — HR reference, byte model, auto targets, detectors (threshold, direction), signal choice, tail classes, cac-share, profile.json v2. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "profile/detector.h"
#include "profile/pareto.h"
#include "profile/profile_json.h"
#include "profile/profile_run.h"
#include "profile/share.h"
#include "tests/test.h"
#include "util/err.h"

/* ---------------- hand-made sweeps ---------------- */

#define HF 40 /* frames at most */

/* A sweep made by sweep_init over a dataset of named frames, its arrays then filled by hand. The
 * signal and per-class arrays are the test's own (whatever sweep_init put there is replaced and
 * the test frees its own before sweep_free), so this works with or without the sweep allocating them. */
typedef struct Hand {
    Sweep s;
    Dataset ds;
    Sample smp[HF];
    char names[HF][16];
} Hand;

/* bytes and acc: [f * nc + c]; every signal NaN. */
static void hand_init(Hand *h, int nf, const SweepConfig *cfg, int nc, const double *bytes, const double *acc) {
    memset(h, 0, sizeof *h);
    for (int f = 0; f < nf; f++) snprintf(h->names[f], 16, "f%02d.png", f), h->smp[f].frame = h->names[f];
    h->ds = (Dataset){.name = "hand", .samples = h->smp, .n = nf};
    sweep_init(&h->s, &h->ds, 1, 0, cfg, nc, 0);
    size_t m = (size_t)nf * nc;
    memcpy(h->s.bytes, bytes, m * sizeof(double)), memcpy(h->s.acc, acc, m * sizeof(double));
    for (int g = 0; g < SIG_N; g++) {
        free(h->s.sig[g]);
        h->s.sig[g] = malloc(m * sizeof(double));
        for (size_t i = 0; i < m; i++) h->s.sig[g][i] = NAN;
    }
    h->s.ratio = h->s.sig[SIG_RATIO]; /* the sweep's second name for that array */
    free(h->s.px), free(h->s.tp), free(h->s.lab);
    h->s.px = h->s.tp = h->s.lab = NULL, h->s.k = 0;
}

/* Signal g at configuration c of every frame. */
static void hand_sig(Hand *h, int g, int c, const double *v) {
    for (int f = 0; f < h->s.nframes; f++) h->s.sig[g][(size_t)f * h->s.nconfigs + c] = v[f];
}

static void hand_free(Hand *h) {
    for (int g = 0; g < SIG_N; g++) free(h->s.sig[g]), h->s.sig[g] = NULL;
    free(h->s.px), free(h->s.tp), free(h->s.lab);
    h->s.px = h->s.tp = h->s.lab = NULL;
    sweep_free(&h->s);
}

/* A doc with the analysis settings as `rune profile` sets them by default. */
static ProfileDoc *doc_new(int ref_scale, int ref_quality, double tail_pct) {
    ProfileDoc *d = calloc(1, sizeof *d);
    ProfileOpts o;
    profile_opts_defaults(&o);
    d->fps = o.fps, d->tail_pct = tail_pct, d->recall_target = o.recall_target, d->small = o.small;
    d->ref_scale = ref_scale, d->ref_quality = ref_quality;
    snprintf(d->bytes_model, sizeof d->bytes_model, "%s", o.bytes_model);
    snprintf(d->signal, sizeof d->signal, "%s", o.signal);
    return d;
}

static void doc_del(ProfileDoc *d) {
    profile_doc_free(d);
    free(d);
}

/* ---------------- defaults ---------------- */

/* The defaults CAC's profile runs with: changing one of them fails here. */
TEST(profile_defaults_pinned) {
    ProfileOpts o;
    profile_opts_defaults(&o);
    EXPECT(!strcmp(o.targets, "auto"), "targets %s", o.targets);
    EXPECT(!strcmp(o.reference, ""), "reference %s (empty = HR by profile_default_reference)", o.reference);
    EXPECT(!strcmp(o.bytes_model, "all"), "bytes model %s", o.bytes_model);
    EXPECT(!strcmp(o.signal, "ratio"), "signal %s (the paper's)", o.signal);
    EXPECT(o.recall_target == 0.9, "recall target %g", o.recall_target);
    EXPECT(o.tail_pct == 10 && o.fps == 30 && o.small == 0.01, "tail %g fps %g small %g", o.tail_pct, o.fps, o.small);
    EXPECT(!strcmp(o.hr_qualities, "50,70,90"), "HR qualities %s", o.hr_qualities);
}

/* ---------------- the HR reference ---------------- */

TEST(profile_reference_default_is_hr) {
    SweepConfig with[6] = {{2, 90}, {2, 30}, {4, 90}, {1, 50}, {1, 90}, {1, 70}};
    int s = 0, q = 0;
    EXPECT(profile_default_reference(with, 6, &s, &q) == 0 && s == 1 && q == 90, "HR at its highest quality: %d:%d", s, q);
    SweepConfig without[4] = {{4, 90}, {2, 30}, {2, 80}, {8, 90}};
    EXPECT(profile_default_reference(without, 4, &s, &q) == 1 && s == 2 && q == 80, "no HR: smallest scale, highest q, warn: %d:%d", s, q);

    /* 20 frames: HR marks frames 7 and 12 (the worst 10 %) and 7 alone as the worst 5 %; x2 would mark 3 and 4 */
    SweepConfig cfg[2] = {{2, 90}, {1, 90}};
    double bytes[40] = {0}, acc[40];
    for (int f = 0; f < 20; f++) acc[2 * f] = 0.40 + 0.01 * f, acc[2 * f + 1] = 0.50 + 0.01 * f;
    acc[2 * 3] = 0.10, acc[2 * 4] = 0.20, acc[2 * 7 + 1] = 0.30, acc[2 * 12 + 1] = 0.35;
    Hand h;
    hand_init(&h, 20, cfg, 2, bytes, acc);
    EXPECT(profile_default_reference(cfg, 2, &s, &q) == 0, "HR present");
    ProfileDoc *d = doc_new(s, q, 10);
    bool tail[20];
    EXPECT(profile_analyze(d, &h.s, NULL, (double[]){1}, 1, tail) == 0, "%s", rn_errmsg());
    EXPECT(d->ntail == 2 && !strcmp(d->tail_frames[0], "f07.png") && !strcmp(d->tail_frames[1], "f12.png"),
           "tail frames by HR accuracy: %s %s", d->ntail > 0 ? d->tail_frames[0] : "", d->ntail > 1 ? d->tail_frames[1] : "");
    EXPECT(tail[7] && tail[12] && !tail[3] && !tail[4], "tail[] marks");
    EXPECT_NEAR(d->tail_cutoff, 0.35, 1e-12);
    EXPECT_NEAR(d->tail5_cutoff, 0.30, 1e-12);
    doc_del(d);
    hand_free(&h);
}

/* ---------------- byte model, targets, gains ---------------- */

/* 10 frames x {x4 q90, x2 q30, HR q90}; frames 8 and 9 are the HR tail (20 %). x2 q30 costs 1000 bytes
 * on standard frames and 1400 on tail frames: 1080 over all. Budget 1200 bytes a frame (0.288 Mbps at
 * 30 fps): under "all" the tail pick is x2 q30 (0.45 on tail frames vs 0.30), under "own" it does not fit. */
static void budget_sweep(Hand *h) {
    SweepConfig cfg[3] = {{4, 90}, {2, 30}, {1, 90}};
    double bytes[30], acc[30];
    for (int f = 0; f < 10; f++) {
        bool t = f >= 8;
        bytes[3 * f] = 1000, bytes[3 * f + 1] = t ? 1400 : 1000, bytes[3 * f + 2] = 10000;
        acc[3 * f] = t ? 0.30 : 0.60, acc[3 * f + 1] = t ? 0.45 : 0.55, acc[3 * f + 2] = t ? 0.40 + 0.01 * (f - 8) : 0.80 + 0.001 * f;
    }
    hand_init(h, 10, cfg, 3, bytes, acc);
}

TEST(profile_bytes_model_same_budget) {
    Hand h;
    budget_sweep(&h);
    ProfileDoc *d = doc_new(1, 90, 20);
    EXPECT(profile_analyze(d, &h.s, NULL, (double[]){0.288}, 1, NULL) == 0, "%s", rn_errmsg());
    const ProfileTarget *t = &d->target[0];
    EXPECT(t->standard.scale == 4 && t->tail.scale == 2 && t->tail.quality == 30, "all: standard x%d, tail x%d q%d",
           t->standard.scale, t->tail.scale, t->tail.quality);
    EXPECT_NEAR(t->tail.mbps, 1080 * 8 * 30 / 1e6, 1e-12); /* the mean over ALL frames */
    EXPECT_NEAR(t->gain_tail.mean, 0.15, 1e-12);           /* 0.45 - 0.30 on both tail frames */
    EXPECT_NEAR(t->gain_tail.lo, 0.15, 1e-12);
    EXPECT_NEAR(t->gain_tail.hi, 0.15, 1e-12);
    EXPECT(t->gain_tail.n == 2 && t->gain_std.n == 8, "n %d %d", t->gain_tail.n, t->gain_std.n);
    EXPECT_NEAR(t->gain_std.mean, -0.05, 1e-12);
    doc_del(d);

    d = doc_new(1, 90, 20);
    snprintf(d->bytes_model, sizeof d->bytes_model, "own");
    EXPECT(profile_analyze(d, &h.s, NULL, (double[]){0.288}, 1, NULL) == 0, "%s", rn_errmsg());
    t = &d->target[0];
    EXPECT(t->tail.scale == 4 && t->tail.quality == 90, "own: x2 q30 costs the tail frames 1400 > 1200: x%d q%d", t->tail.scale,
           t->tail.quality);
    EXPECT(t->gain_tail.mean == 0 && t->gain_tail.lo == 0, "same pick: no gain");
    doc_del(d);
    hand_free(&h);
}

/* The picks at a budget, as (standard, tail) configuration indices. */
static void picks_at(const Sweep *s, const bool *tail, bool own, double mbps, int *ps, int *pt) {
    bool std[HF];
    double cs[8], ct[8];
    for (int f = 0; f < s->nframes; f++) std[f] = !tail[f];
    pareto_costs(s, own ? std : NULL, cs), pareto_costs(s, own ? tail : NULL, ct);
    *ps = pareto_pick(s, std, cs, mbps * 1e6, 30), *pt = pareto_pick(s, tail, ct, mbps * 1e6, 30);
}

TEST(profile_auto_targets_hit_every_pick_change) {
    Hand h;
    budget_sweep(&h);
    bool tail[10] = {0};
    tail[8] = tail[9] = true;
    double v[8];
    /* all: standard frontier x4 q90 (1000), HR (10000); tail frontier x4 q90, x2 q30 (1080) — HR is
     * dominated for tail frames (0.405 < 0.45 at more bytes) */
    int n = profile_auto_targets(&h.s, tail, false, 30, v, 8);
    EXPECT(n == 3, "%d targets", n);
    EXPECT_NEAR(v[0], 0.24, 1e-12);
    EXPECT_NEAR(v[1], 0.2592, 1e-12);
    EXPECT_NEAR(v[2], 2.4, 1e-12);
    n = profile_auto_targets(&h.s, tail, true, 30, v, 8);
    EXPECT(n == 3 && fabs(v[1] - 0.336) < 1e-12, "own: x2 q30 at the tail frames' 1400 bytes: %g", v[1]);
    /* each target is a change of either pick; between two targets nothing changes */
    for (int own = 0; own < 2; own++) {
        n = profile_auto_targets(&h.s, tail, own, 30, v, 8);
        int ps0 = -1, pt0 = -1;
        for (int i = 0; i < n; i++) {
            int ps, pt, bs, bt;
            picks_at(&h.s, tail, own, v[i], &ps, &pt);
            picks_at(&h.s, tail, own, v[i] * (1 - 1e-6), &bs, &bt);
            EXPECT(ps != ps0 || pt != pt0, "own %d target %g: a pick changes", own, v[i]);
            EXPECT(bs == ps0 && bt == pt0, "own %d just below %g: the previous picks", own, v[i]);
            ps0 = ps, pt0 = pt;
        }
        int ps, pt;
        picks_at(&h.s, tail, own, 1e6, &ps, &pt);
        EXPECT(ps == ps0 && pt == pt0, "own %d: no change above the last target", own);
    }
    /* profile_analyze with no targets given uses them */
    ProfileDoc *d = doc_new(1, 90, 20);
    EXPECT(profile_analyze(d, &h.s, NULL, NULL, 0, NULL) == 0, "%s", rn_errmsg());
    EXPECT(d->ntargets == 3 && d->target[1].tail.scale == 2 && d->target[1].standard.scale == 4, "auto targets in the doc");
    doc_del(d);
    hand_free(&h);
}

/* ---------------- detectors ---------------- */

TEST(profile_detector_auc_and_z_by_hand) {
    double v[4] = {1, 2, 2, 3};
    bool t[4] = {1, 1, 0, 0};
    /* pairs (tail, standard): (1,2) (1,3) (2,3) lower, (2,2) tied: 3.5 / 4 */
    EXPECT_NEAR(detector_auc(v, t, 4), 0.875, 1e-12);
    double w[5] = {1, 2, 3, 4, 5};
    bool u[5] = {1, 1, 0, 0, 0};
    /* U_low 6, mean 3, variance 2*3/12*6 = 3: z = (3 - 0.5) / sqrt(3) */
    EXPECT_NEAR(detector_mw_z(w, u, 5), 2.5 / sqrt(3), 1e-12);
    EXPECT(isnan(detector_auc(w, (bool[5]){0}, 5)), "no tail frame: NaN");
}

/* Ten tail values 0.01..0.10 among ten standard ones (0.055, 0.095, 0.2, ...). */
TEST(profile_detector_threshold_at_recall_target) {
    double v[21];
    bool t[21] = {0};
    for (int i = 0; i < 10; i++) v[i] = 0.01 * (i + 1), t[i] = true;
    double other[10] = {0.055, 0.095, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
    memcpy(v + 10, other, sizeof other);
    /* low direction, 90 %: the 9th tail value 0.09, the next value of any frame 0.095: midpoint */
    double thr = detector_threshold(v, t, 20, +1, 0.9);
    EXPECT_NEAR(thr, 0.0925, 1e-12);
    DetScore sc = detector_score(v, t, 20, +1, thr);
    EXPECT(sc.hits == 9 && sc.npred == 10 && sc.ntail == 10, "9 tail + 0.055 flagged: %d %d", sc.hits, sc.npred);
    EXPECT_NEAR(sc.recall, 0.9, 1e-12);
    EXPECT_NEAR(sc.precision, 0.9, 1e-12);
    /* high direction: the 9th highest tail value 0.02, the next lower value 0.01: 0.015; flags 9 tail + 10 */
    thr = detector_threshold(v, t, 20, -1, 0.9);
    EXPECT_NEAR(thr, 0.015, 1e-12);
    sc = detector_score(v, t, 20, -1, thr);
    EXPECT(sc.hits == 9 && sc.npred == 19, "%d %d", sc.hits, sc.npred);
    EXPECT_NEAR(detector_threshold(v, t, 20, +1, 1.0), 0.15, 1e-12); /* all ten: between 0.10 and 0.2 */
    /* an 11th tail frame without a value: ceil(0.9 x 11) = 10 of the 10 with one */
    v[20] = NAN, t[20] = true;
    EXPECT_NEAR(detector_threshold(v, t, 21, +1, 0.9), 0.15, 1e-12);
    /* the largest value: just past it */
    double w[3] = {0.1, 0.2, 0.3};
    bool u[3] = {0, 0, 1};
    thr = detector_threshold(w, u, 3, +1, 0.9);
    EXPECT(thr > 0.3 && thr < 0.3000001 && signal_flags(0.3, +1, thr), "just past the largest: %.17g", thr);
}

/* A signal whose train AUC is clearly below 0.5 gets direction -1 from the data; one near 0.5 keeps
 * the signal's default; too few frames to decide keep it too. */
TEST(profile_detector_direction_choice) {
    double v[40];
    bool t[40] = {0};
    for (int i = 0; i < 30; i++) v[i] = 0.3 * i / 30;              /* standard: 0 .. 0.29 */
    for (int i = 30; i < 40; i++) v[i] = 0.5 + 0.01 * i, t[i] = true; /* tail: all higher */
    DetFit fit;
    detector_fit(v, t, 40, +1, 0.9, &fit);
    EXPECT_NEAR(fit.auc_low, 0, 1e-12);
    /* U_low 0, mean 150, variance 10*30/12*41 = 1025 */
    EXPECT_NEAR(fit.z, -149.5 / sqrt(1025), 1e-9);
    EXPECT(fit.direction == -1 && fit.from_data, "high values mean tail here: %d", fit.direction);
    EXPECT(fit.score.recall >= 0.9 && fit.score.precision == 1, "recall %g precision %g", fit.score.recall, fit.score.precision);
    /* interleaved: tail frames at the even ranks, standard at the odd ones: AUC 0.5 + small */
    for (int i = 0; i < 40; i++) v[i] = i, t[i] = i % 4 == 0;
    detector_fit(v, t, 40, +1, 0.9, &fit);
    EXPECT(fabs(fit.auc_low - 0.5) < 0.1 && !fit.from_data && fit.direction == +1, "near 0.5: default +1 (AUC %g, z %g)",
           fit.auc_low, fit.z);
    detector_fit(v, t, 40, -1, 0.9, &fit);
    EXPECT(!fit.from_data && fit.direction == -1, "near 0.5: default -1 (entropy's) kept");
    /* perfectly separated but 2 vs 3 frames: |z| 1.44 < 1.96, the default stays */
    double w[5] = {5, 6, 1, 2, 3};
    bool u[5] = {1, 1, 0, 0, 0};
    detector_fit(w, u, 5, +1, 0.9, &fit);
    EXPECT(fit.auc_low == 0 && !fit.from_data && fit.direction == +1, "not significant: %g", fit.z);
}

/* ---------------- signals ---------------- */

/* 20 frames x {x4 q90, HR q90}; the HR tail (10 %) is frames 0 and 1. ratio does not separate them,
 * maxprob does in the low direction (AUC 0.9), entropy perfectly in the high one (AUC 0): auto takes
 * entropy (max(AUC, 1 - AUC)), and every detector then reads entropy with direction -1. */
static void signal_sweep(Hand *h) {
    SweepConfig cfg[2] = {{4, 90}, {1, 90}};
    double bytes[40] = {0}, acc[40];
    for (int f = 0; f < 20; f++) acc[2 * f] = 0.3 + 0.01 * f, acc[2 * f + 1] = f < 2 ? 0.2 + 0.01 * f : 0.5 + 0.01 * f;
    hand_init(h, 20, cfg, 2, bytes, acc);
    double ratio[20], maxprob[20], entropy[20];
    for (int f = 0; f < 20; f++) {
        ratio[f] = f % 2 ? 0.05 + 0.001 * f : 0.06 - 0.001 * f; /* tail 0.06, 0.051: among the rest */
        maxprob[f] = 0.5 + 0.02 * f;                             /* 0.54 .. 0.88 on standard frames */
        entropy[f] = f < 2 ? 2 + f : 1 - 0.01 * f;              /* tail highest */
    }
    maxprob[0] = 0.55, maxprob[1] = 0.57; /* tail frames low, but above 0.54 (and 0.56): 33 of 36 pairs lower */
    for (int c = 0; c < 2; c++) hand_sig(h, SIG_RATIO, c, ratio), hand_sig(h, SIG_MAXPROB, c, maxprob), hand_sig(h, SIG_ENTROPY, c, entropy);
}

TEST(profile_signal_auto_choice) {
    Hand h;
    signal_sweep(&h);
    ProfileDoc *d = doc_new(1, 90, 10);
    snprintf(d->signal, sizeof d->signal, "auto");
    EXPECT(profile_analyze(d, &h.s, &h.s, (double[]){1}, 1, NULL) == 0, "%s", rn_errmsg());
    EXPECT(!strcmp(d->signal, "entropy"), "auto chose %s", d->signal);
    EXPECT(d->nsig == SIG_N * 2, "every signal at both scales: %d", d->nsig);
    const ProfileSignalEval *mp = &d->sig[SIG_MAXPROB * 2], *en = &d->sig[SIG_ENTROPY * 2], *ts = &d->sig[SIG_TAIL_SHARE * 2];
    EXPECT(mp->signal == SIG_MAXPROB && mp->scale == 4 && mp->quality == 90 && mp->direction == +1, "maxprob at x4 q90");
    EXPECT_NEAR(mp->train_auc, 33.0 / 36, 1e-12); /* |z| 14.5 / sqrt(63) = 1.83: not significant, default +1 */
    EXPECT(en->train_auc == 0 && en->direction == -1 && en->val_recall == 1, "entropy AUC %g dir %d", en->train_auc, en->direction);
    EXPECT(isnan(ts->train_auc) && ts->direction == +1, "tail_share without class counts: NaN, default direction");
    EXPECT(d->ndet == 2 && d->det[0].direction == -1 && d->det[0].from_data && d->det[1].scale == 1, "detectors on entropy");
    /* 2 tail frames among 20: z = -(18 - 0.5) / sqrt(2*18/12*21) */
    EXPECT(d->det[0].train_auc == 1 && d->det[0].train_recall == 1 && d->det[0].train_precision == 1, "perfect on train");
    EXPECT(d->det[0].val_n == 20 && d->det[0].val_tail == 2 && d->det[0].val_recall == 1, "val (the same frames here)");
    doc_del(d);
    /* the signal is chosen on val: entropy turned over there (tail frames the least uncertain) loses to
     * maxprob, which separates as on train (val AUC 33/36 in its train direction against 0) */
    Hand va;
    signal_sweep(&va);
    double flipped[20];
    for (int f = 0; f < 20; f++) flipped[f] = f < 2 ? 0.1 + 0.01 * f : 1 - 0.01 * f;
    for (int c = 0; c < 2; c++) hand_sig(&va, SIG_ENTROPY, c, flipped);
    d = doc_new(1, 90, 10);
    snprintf(d->signal, sizeof d->signal, "auto");
    EXPECT(profile_analyze(d, &h.s, &va.s, (double[]){1}, 1, NULL) == 0, "%s", rn_errmsg());
    EXPECT(!strcmp(d->signal, "maxprob"), "auto on val chose %s", d->signal);
    doc_del(d);
    hand_free(&va);
    /* a named signal is kept whatever the data say */
    d = doc_new(1, 90, 10);
    EXPECT(profile_analyze(d, &h.s, NULL, (double[]){1}, 1, NULL) == 0, "%s", rn_errmsg());
    EXPECT(!strcmp(d->signal, "ratio") && d->det[0].direction == +1 && !d->det[0].from_data, "ratio, default direction");
    EXPECT(d->det[0].val_n == 0 && isnan(d->det[0].val_auc), "no val: no val numbers");
    doc_del(d);
    d = doc_new(1, 90, 10);
    snprintf(d->signal, sizeof d->signal, "nonesuch");
    EXPECT(profile_analyze(d, &h.s, NULL, (double[]){1}, 1, NULL) < 0 && strstr(rn_errmsg(), "nonesuch"), "unknown signal");
    doc_del(d);
    hand_free(&h);
}

/* Val's tail frames are those under the TRAIN cut-off at the reference, not val's own worst 10 %. */
TEST(profile_val_tail_by_train_cutoff) {
    Hand tr, va;
    signal_sweep(&tr);
    signal_sweep(&va);
    for (int f = 0; f < 20; f++) va.s.acc[2 * f + 1] = 0.6; /* no val frame is as bad as train's cut-off (0.21) */
    va.s.acc[2 * 5 + 1] = tr.s.acc[2 * 1 + 1], va.s.acc[2 * 6 + 1] = 0.1, va.s.acc[2 * 7 + 1] = 0.2; /* at the cut-off, under */
    ProfileDoc *d = doc_new(1, 90, 10);
    EXPECT(profile_analyze(d, &tr.s, &va.s, (double[]){1}, 1, NULL) == 0, "%s", rn_errmsg());
    EXPECT_NEAR(d->tail_cutoff, 0.21, 1e-12);
    EXPECT(d->det[0].val_n == 20 && d->det[0].val_tail == 3, "frames 5, 6, 7 at or under 0.21: %d", d->det[0].val_tail);
    doc_del(d);
    hand_free(&tr), hand_free(&va);
}

/* Tail classes from the per-class counts at the reference, and tail_share from them. */
TEST(profile_tail_classes_and_tail_share) {
    SweepConfig cfg[1] = {{1, 90}};
    double bytes[2] = {0}, acc[2] = {0.5, 0.6};
    Hand h;
    hand_init(&h, 2, cfg, 1, bytes, acc);
    /* 4 classes; summed over the two frames: IoU 90/110, 10/60, 40/70, and class 3 neither predicted
     * nor labelled (not ranked): the worse half of 3 is 1 class, class 1 */
    long long px[8] = {60, 10, 30, 0, 40, 10, 30, 0}, tp[8] = {50, 5, 20, 0, 40, 5, 20, 0}, lab[8] = {60, 25, 25, 0, 40, 25, 25, 0};
    h.s.k = 4;
    h.s.px = malloc(sizeof px), h.s.tp = malloc(sizeof tp), h.s.lab = malloc(sizeof lab);
    memcpy(h.s.px, px, sizeof px), memcpy(h.s.tp, tp, sizeof tp), memcpy(h.s.lab, lab, sizeof lab);
    ProfileDoc *d = doc_new(1, 90, 50);
    d->classes = 4;
    profile_tail_classes(d, &h.s, 0);
    EXPECT(d->ntail_classes == 1 && d->tail_classes[0] == 1, "%d classes, first %d", d->ntail_classes, d->tail_classes[0]);
    profile_fill_tail_share(d, &h.s);
    EXPECT_NEAR(h.s.sig[SIG_TAIL_SHARE][0], 10.0 / 100, 1e-12);
    EXPECT_NEAR(h.s.sig[SIG_TAIL_SHARE][1], 10.0 / 80, 1e-12);
    doc_del(d);
    hand_free(&h);
}

/* ---------------- cac-share ---------------- */

/* 10 frames, flagged 0 and 1 (p = 0.2); costs 0.1/0.2/0.4/0.8 Mbps (bytes x 8 x 125 fps); target 0.2.
 * Bands: k 2 holds x2 q50 (0.4), k 4 holds x2 q90 (0.8). Budget 0.2 x cost(A) + 0.8 x cost(B) <= 0.2:
 * A = x2 q50 with B = x8 q50 (0.16) fits; A = x2 q90 needs cost(B) <= 0.05: none. x2 q90 would give
 * the flagged frames 0.9 and a higher 10th percentile (0.529 > 0.5): the budget alone keeps it out. */
TEST(profile_share_budget) {
    SweepConfig cfg[4] = {{8, 50}, {4, 50}, {2, 50}, {2, 90}};
    double bytes[40], acc[40];
    for (int f = 0; f < 10; f++) {
        double b[4] = {100, 200, 400, 800}, flagged[4] = {0.1, 0.2, 0.5, 0.9}, rest[4] = {0.5 + 0.01 * f, 0.6 + 0.01 * f, 0.7, 0.8};
        for (int c = 0; c < 4; c++) bytes[4 * f + c] = b[c], acc[4 * f + c] = f < 2 ? flagged[c] : rest[c];
    }
    Hand h;
    hand_init(&h, 10, cfg, 4, bytes, acc);
    bool flag[10] = {1, 1};
    double cost[4];
    pareto_costs(&h.s, NULL, cost);
    ProfileShare sh;
    share_choose(&h.s, flag, cost, cost, 0.2, 125, 1, &sh);
    EXPECT(sh.k == 2 && sh.flag_scale == 2 && sh.flag_quality == 50 && sh.other_scale == 8, "k %g flag x%d q%d other x%d", sh.k,
           sh.flag_scale, sh.flag_quality, sh.other_scale);
    EXPECT(0.2 * cost[2] + 0.8 * cost[0] <= 0.2e6 / (8 * 125), "the pair's mean rate is within the target");
    EXPECT_NEAR(sh.flagged, 0.2, 1e-12);
    EXPECT_NEAR(sh.p10, 0.5, 1e-12);
    EXPECT_NEAR(sh.mean, (2 * 0.5 + 4.44) / 10, 1e-12);
    EXPECT_NEAR(sh.p10_standard, 0.2, 1e-12); /* x4 q50 on every frame */
    EXPECT_NEAR(sh.mean_standard, (0.4 + 5.24) / 10, 1e-12);
    /* a target too small for any share: none */
    share_choose(&h.s, flag, cost, cost, 0.05, 125, -1, &sh);
    EXPECT(sh.flag_scale == 0 && isnan(sh.k) && isnan(sh.p10_standard), "nothing fits 0.05");
    hand_free(&h);
}

/* ---------------- profile.json v2 ---------------- */

/* A doc with every field set to something recognisable and valid. */
static ProfileDoc *full_doc(void) {
    ProfileDoc *d = doc_new(1, 90, 10);
    d->version = PROFILE_VERSION;
    snprintf(d->task_kind, sizeof d->task_kind, "segmentation");
    d->classes = 11, d->nframes = 20;
    d->ncfg = 2, d->cfg[0] = (ProfileCfg){4, 90, 1000, 1100, 0.5, 0.3, 0.05, 0.04}, d->cfg[1] = (ProfileCfg){1, 90, 9000, 9100, 0.7, 0.4, 0.06, 0.05};
    d->ntargets = 1;
    d->target[0] = (ProfileTarget){.mbps = 0.25, .standard = {4, 90, 0.5, 0.3, 0.24}, .tail = {1, 90, 0.7, 0.4, 0.25},
                                   .gain_tail = {0.125, 0.0625, 0.25, 2}, .gain_std = {-0.03125, -0.0625, 0, 18}};
    d->tail_cutoff = 0.3125, d->tail5_cutoff = 0.25;
    d->ntail_classes = 2, d->tail_classes[0] = 7, d->tail_classes[1] = 3;
    snprintf(d->bytes_model, sizeof d->bytes_model, "own");
    snprintf(d->signal, sizeof d->signal, "entropy");
    d->recall_target = 0.875;
    d->ndet = 2;
    d->det[0] = (ProfileDetector){4, 90, -1, true, 1.5, 20, 2, 18, 3, 0.75, 1, 0.5, 0.625, 0.5, 0.25, 0.375, 0.125};
    d->det[1] = (ProfileDetector){1, 90, 1, false, NAN, 20, 2, 0, 0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    d->nsig = 1, d->sig[0] = (ProfileSignalEval){SIG_SMALL_COUNT, 4, 90, 0.25, 0.375, -1, 0.5, 0.125};
    d->nshare = 2;
    d->share[0] = (ProfileShare){0.25, 3, 2, 50, 8, 30, 0.15, 0.3, 0.45, 0.25, 0.4};
    d->share[1] = (ProfileShare){0.5, NAN, 0, 0, 0, 0, 0.2, NAN, NAN, 0.3, 0.5};
    d->threshold = NAN, d->fit_a = 0.1, d->fit_b = -0.2, d->fit_r2 = 0.03, d->fit_n = 40, d->threshold_recall90 = 0.15;
    d->tail_frames = calloc(1, sizeof *d->tail_frames);
    return d;
}

static bool same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static bool det_eq(const ProfileDetector *a, const ProfileDetector *b) {
    return a->scale == b->scale && a->quality == b->quality && a->direction == b->direction && a->from_data == b->from_data &&
           same(a->threshold, b->threshold) && a->train_n == b->train_n && a->train_tail == b->train_tail &&
           a->val_n == b->val_n && a->val_tail == b->val_tail && same(a->train_auc, b->train_auc) &&
           same(a->train_recall, b->train_recall) && same(a->train_precision, b->train_precision) &&
           same(a->val_auc, b->val_auc) && same(a->val_recall, b->val_recall) && same(a->val_precision, b->val_precision) &&
           same(a->val_recall_other, b->val_recall_other) && same(a->val_precision_other, b->val_precision_other);
}

TEST(profile_json_v2_round_trip) {
    const char *dir = test_temp_dir("pjson");
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/a.json", dir), snprintf(p2, sizeof p2, "%s/b.json", dir);
    ProfileDoc *d = full_doc(), *e = calloc(1, sizeof *e);
    EXPECT(profile_json_write(d, p1) == 0, "%s", rn_errmsg());
    EXPECT(profile_json_read(p1, e) == 0, "%s", rn_errmsg());
    EXPECT(e->version == 2 && !strcmp(e->bytes_model, "own") && !strcmp(e->signal, "entropy") && e->recall_target == 0.875,
           "settings: %s %s %g", e->bytes_model, e->signal, e->recall_target);
    EXPECT(e->tail_cutoff == 0.3125 && e->tail5_cutoff == 0.25, "cut-offs");
    EXPECT(e->ntail_classes == 2 && e->tail_classes[0] == 7 && e->tail_classes[1] == 3, "tail classes");
    const ProfileGain *g = &e->target[0].gain_tail, *h = &e->target[0].gain_std;
    EXPECT(g->mean == 0.125 && g->lo == 0.0625 && g->hi == 0.25 && g->n == 2, "gain_tail");
    EXPECT(h->mean == -0.03125 && h->lo == -0.0625 && h->hi == 0 && h->n == 18, "gain_std");
    EXPECT(e->ndet == 2 && det_eq(&e->det[0], &d->det[0]), "detector 0 field for field");
    const ProfileDetector *x = &e->det[1];
    EXPECT(x->scale == 1 && x->direction == 1 && !x->from_data && isnan(x->threshold) && isnan(x->val_precision_other) &&
           x->train_n == 20 && x->val_n == 0, "detector 1 (nulls)");
    const ProfileSignalEval *a = &e->sig[0], *b = &d->sig[0];
    EXPECT(e->nsig == 1 && a->signal == b->signal && a->scale == b->scale && a->quality == b->quality &&
           a->train_auc == b->train_auc && a->val_auc == b->val_auc && a->direction == b->direction &&
           a->val_recall == b->val_recall && a->val_precision == b->val_precision, "signal evaluation field for field");
    const ProfileShare *p = &e->share[0], *q = &d->share[0];
    EXPECT(e->nshare == 2 && p->mbps == q->mbps && p->k == q->k && p->flag_scale == q->flag_scale &&
           p->flag_quality == q->flag_quality && p->other_scale == q->other_scale && p->other_quality == q->other_quality &&
           p->flagged == q->flagged && p->p10 == q->p10 && p->mean == q->mean && p->p10_standard == q->p10_standard &&
           p->mean_standard == q->mean_standard, "share 0 field for field");
    const ProfileShare *s = &e->share[1];
    EXPECT(s->flag_scale == 0 && s->other_scale == 0 && isnan(s->k) && same(s->p10, NAN) && s->p10_standard == 0.3, "share 1");
    EXPECT(isnan(e->threshold) && e->fit_n == 40, "the paper's threshold kept");
    EXPECT(profile_json_write(e, p2) == 0, "%s", rn_errmsg());
    char *t1 = test_read_text(p1), *t2 = test_read_text(p2);
    EXPECT(t1 && t2 && !strcmp(t1, t2), "written, read, written: the same text");
    free(t1), free(t2);
    doc_del(d), doc_del(e);
}

/* Edits one value of a written profile (a path of object keys and array indices, "." separated) and
 * expects the read to fail with `want` in the message. */
static void refused(const char *good, const char *bad, const char *path, json_t *value, const char *want) {
    json_t *j = json_load_file(good, 0, NULL), *o = j;
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    char *key = strtok_r(buf, ".", &save), *next;
    for (; (next = strtok_r(NULL, ".", &save)); key = next)
        o = json_is_array(o) ? json_array_get(o, (size_t)atoi(key)) : json_object_get(o, key);
    if (json_is_array(o)) json_array_set_new(o, (size_t)atoi(key), value);
    else json_object_set_new(o, key, value);
    json_dump_file(j, bad, 0);
    json_decref(j);
    ProfileDoc *d = calloc(1, sizeof *d);
    int rc = profile_json_read(bad, d);
    EXPECT(rc < 0 && strstr(rn_errmsg(), want), "%s: rc %d, %s", path, rc, rc < 0 ? rn_errmsg() : "read");
    doc_del(d);
}

TEST(profile_json_v2_refuses_v1_and_out_of_range) {
    const char *dir = test_temp_dir("pjbad");
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s/good.json", dir), snprintf(bad, sizeof bad, "%s/bad.json", dir);
    ProfileDoc *d = full_doc();
    EXPECT(profile_json_write(d, good) == 0, "%s", rn_errmsg());
    doc_del(d);
    refused(good, bad, "version", json_integer(1), "re-run rune profile");
    refused(good, bad, "settings.bytes_model", json_string("some"), "bytes_model");
    refused(good, bad, "settings.signal", json_string("auto"), "settings.signal");
    refused(good, bad, "settings.recall_target", json_real(1.5), "recall_target");
    refused(good, bad, "settings.recall_target", json_real(0), "recall_target");
    refused(good, bad, "tail_cutoff", json_real(2), "tail_cutoff");
    refused(good, bad, "tail_classes.0", json_integer(11), "tail_classes");
    refused(good, bad, "tail_classes.1", json_integer(7), "tail_classes");
    refused(good, bad, "targets.0.gain_tail.lo", json_real(0.5), "gain_tail");
    refused(good, bad, "targets.0.gain_std.n", json_integer(-1), "gain_std");
    refused(good, bad, "targets.0.gain_tail", json_null(), "gain_tail");
    refused(good, bad, "detectors.0.direction", json_integer(0), "direction");
    refused(good, bad, "detectors.0.quality", json_integer(101), "detectors[0]");
    refused(good, bad, "detectors.0.val_auc", json_real(1.25), "detectors[0]");
    refused(good, bad, "detectors.0.train_tail", json_integer(21), "detectors[0]");
    refused(good, bad, "detectors.0.from_data", json_integer(1), "from_data");
    refused(good, bad, "detectors.1.threshold", json_string("x"), "threshold");
    refused(good, bad, "detectors.0.scale", json_integer(4294967297LL), "out of range");
    refused(good, bad, "signals.0.signal", json_string("nonesuch"), "signals[].signal");
    refused(good, bad, "signals.0.direction", json_integer(2), "signals[0]");
    refused(good, bad, "share.0.k", json_null(), "share[0]");
    refused(good, bad, "share.0.flagged", json_real(-0.1), "share[0]");
    refused(good, bad, "share.0.flag", json_null(), "share[0]");
    refused(good, bad, "share.1.k", json_real(2), "share[1]");
    refused(good, bad, "detectors", json_null(), "detectors");
}
