/* test_serve_cac.c: CAC's rules on hand-built profiles — detector lookup per configuration, both directions of the hysteresis, its pinned defaults, cac-share's pair, cac-oracle's flag. */
#include <math.h>
#include <string.h>

#include "profile/signals.h"
#include "serve/control.h"
#include "serve/detect.h"
#include "tests/test.h"
#include "util/err.h"

/* Two targets at a profile fps of 30: 1 / 4 Mbps; standard x4 q70 / x2 q90, tail x2 q40 / x2 q60. */
static void two_targets(ProfileDoc *d) {
    memset(d, 0, sizeof *d);
    d->fps = 30, d->threshold = NAN, d->ntargets = 2, d->tail_cutoff = NAN;
    double mb[2] = {1, 4};
    int ss[2] = {4, 2}, sq[2] = {70, 90}, ts[2] = {2, 2}, tq[2] = {40, 60};
    for (int i = 0; i < 2; i++) {
        d->target[i].mbps = mb[i];
        d->target[i].standard = (ProfilePick){.scale = ss[i], .quality = sq[i], .mbps = mb[i] * 0.9};
        d->target[i].tail = (ProfilePick){.scale = ts[i], .quality = tq[i], .mbps = mb[i] * 0.9};
    }
}

static void add_det(ProfileDoc *d, int scale, int quality, int direction, double thr) {
    d->det[d->ndet++] = (ProfileDetector){.scale = scale, .quality = quality, .direction = direction, .threshold = thr};
}

/* serve/detect.c: exact configuration, else the same scale's nearest quality (tie: the higher), else
 * none; a version-1 profile's one threshold; --threshold overrides the threshold, not the direction. */
TEST(serve_detector_lookup) {
    static ProfileDoc d;
    two_targets(&d);
    add_det(&d, 4, 30, +1, 0.05), add_det(&d, 4, 70, -1, 0.2), add_det(&d, 4, 50, +1, 0.07), add_det(&d, 2, 90, +1, 0.1);
    ServeDetector r = serve_detector(&d, SIG_RATIO, 4, 70, NAN);
    EXPECT(r.found && r.scale == 4 && r.quality == 70 && r.direction == -1 && r.threshold == 0.2, "exact x4 q70");
    r = serve_detector(&d, SIG_RATIO, 4, 40, NAN);
    EXPECT(r.found && r.quality == 50 && r.threshold == 0.07, "x4 q40: q30 and q50 tie, the higher wins (got q%d)", r.quality);
    r = serve_detector(&d, SIG_RATIO, 4, 35, NAN);
    EXPECT(r.found && r.quality == 30, "x4 q35: nearest q30 (got q%d)", r.quality);
    r = serve_detector(&d, SIG_RATIO, 4, 90, NAN);
    EXPECT(r.found && r.quality == 70, "x4 q90: nearest q70 (got q%d)", r.quality);
    r = serve_detector(&d, SIG_RATIO, 8, 70, NAN);
    EXPECT(!r.found && isnan(r.threshold), "x8: no detector of that scale, none (not another scale's)");
    EXPECT(!signal_flags(0.0, r.direction, r.threshold), "no detector: nothing flagged");
    r = serve_detector(&d, SIG_RATIO, 4, 70, 0.5);
    EXPECT(r.found && r.threshold == 0.5 && r.direction == -1, "--threshold overrides the threshold, keeps the direction");
    /* version 1: no det[]; the pooled threshold or the override, the signal's default direction */
    d.ndet = 0;
    r = serve_detector(&d, SIG_RATIO, 8, 30, NAN);
    EXPECT(!r.found, "v1 without a fitted threshold: none");
    d.threshold = 0.03;
    r = serve_detector(&d, SIG_RATIO, 8, 30, NAN);
    EXPECT(r.found && r.threshold == 0.03 && r.direction == 1 && r.scale == 0, "v1: the pooled threshold everywhere");
    r = serve_detector(&d, SIG_ENTROPY, 8, 30, 0.085);
    EXPECT(r.found && r.threshold == 0.085 && r.direction == -1, "v1: override, entropy's default direction is high");
    int sig = -1;
    EXPECT(serve_signal_of(&d, &sig) == 0 && sig == SIG_RATIO, "no signal named: the paper's ratio");
    strcpy(d.signal, "entropy");
    EXPECT(serve_signal_of(&d, &sig) == 0 && sig == SIG_ENTROPY, "the profile's signal");
    EXPECT(serve_threshold_check(SIG_RATIO, 0.5) == 0 && serve_threshold_check(SIG_RATIO, NAN) == 0, "ratio 0.5, none");
    EXPECT(serve_threshold_check(SIG_RATIO, 1.5) < 0 && serve_threshold_check(SIG_MAXPROB, 1.5) < 0, "a share above 1 refused");
    EXPECT(serve_threshold_check(SIG_SMALL_COUNT, 12) == 0 && serve_threshold_check(SIG_ENTROPY, 1.7) == 0, "count, nats");
    EXPECT(serve_threshold_check(SIG_ENTROPY, -1) < 0, "negative refused");
    strcpy(d.signal, "bogus");
    EXPECT(serve_signal_of(&d, &sig) < 0, "an unknown signal refused");
}

/* The defaults CAC runs with: a changed hold or margin fails here (issue 22: it passed every test). */
TEST(serve_cac_defaults_pinned) {
    CtlParams par;
    ctl_params_default(&par);
    EXPECT(par.cac_hold == 2, "default --cac-hold 2, got %d", par.cac_hold);
    EXPECT(par.cac_margin == 0.25, "default --cac-margin 0.25, got %g", par.cac_margin);
    /* and as behaviour: with the defaults, one flagged frame enters; 1.24 x thr is inside the margin
     * (not calm); two frames at 1.26 x thr leave */
    static ProfileDoc d;
    two_targets(&d);
    ServePolicy p = {.doc = &d, .edge_fps = 30, .headroom = 1};
    Ctl c;
    ctl_init(&c, CTL_CAC, &p, &par);
    EXPECT(cac_step(&c, 0.09, +1, 0.1), "0.09 < 0.1: tail");
    EXPECT(cac_step(&c, 0.124, +1, 0.1) && c.calm == 0, "1.24 x thr: inside the default margin");
    EXPECT(cac_step(&c, 0.126, +1, 0.1) && c.calm == 1, "1.26 x thr: calm, one of two");
    EXPECT(!cac_step(&c, 0.126, +1, 0.1), "the second calm frame leaves");
}

/* Direction -1 (a high value means tail, e.g. entropy): enter above the threshold, calm at or below
 * threshold x (1 - margin); the band between neither enters nor calms. */
TEST(serve_cac_high_direction) {
    static ProfileDoc d;
    two_targets(&d);
    ServePolicy p = {.doc = &d, .edge_fps = 30, .headroom = 1};
    CtlParams par;
    ctl_params_default(&par);
    par.cac_hold = 2, par.cac_margin = 0.25;
    Ctl c;
    ctl_init(&c, CTL_CAC, &p, &par);
    CtlObs o = {.t = 0, .est_bps = 1.5e6, .value = 0.5, .direction = -1, .threshold = 1.0};
    ctl_observe(&c, &o);
    EXPECT(!c.tail && c.knobs.scale == 4, "0.5 below a high-direction threshold of 1: not tail");
    o.value = 1.2;
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_TAIL && c.tail && c.knobs.scale == 2 && c.knobs.quality == 40, "1.2 > 1: tail");
    o.value = 0.8; /* below the threshold, above 0.75: inside the margin */
    ctl_observe(&c, &o);
    EXPECT(c.tail && c.calm == 0, "0.8: inside the margin, not calm");
    o.value = 0.75;
    ctl_observe(&c, &o);
    EXPECT(c.tail && c.calm == 1, "0.75 = thr x (1 - 0.25): calm");
    o.value = 1.0;
    ctl_observe(&c, &o);
    EXPECT(c.tail && c.calm == 0, "exactly the threshold: neither flagged nor calm, resets the count");
    o.value = 0.7;
    ctl_observe(&c, &o);
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_STANDARD && !c.tail, "two calm frames: back");
    /* the same values read with direction +1 mean the opposite */
    o.value = 1.2, o.direction = +1;
    ctl_observe(&c, &o);
    EXPECT(!c.tail, "1.2 with direction +1 (low = tail): not tail");
    /* a frame without a detector is not flagged and counts as calm */
    o.value = 0.5;
    ctl_observe(&c, &o);
    EXPECT(c.tail, "0.5 < 1 with direction +1: tail");
    o.threshold = NAN;
    ctl_observe(&c, &o);
    EXPECT(c.tail && c.calm == 1, "no detector: calm");
    ctl_observe(&c, &o);
    EXPECT(!c.tail, "two frames without a detector: back");
}

/* cac-share: the share[] entry of the target (else the nearest lower; of one mbps the best p10), flag
 * configuration while flagged (CAC's hysteresis), the other otherwise; CAC's picks without an entry. */
TEST(serve_cac_share_pair) {
    static ProfileDoc d;
    two_targets(&d);
    d.share[0] = (ProfileShare){.mbps = 1, .k = 2, .flag_scale = 2, .flag_quality = 80, .other_scale = 6, .other_quality = 50,
                                .p10 = 0.30, .mean = 0.5};
    d.share[1] = (ProfileShare){.mbps = 1, .k = 3, .flag_scale = 1, .flag_quality = 70, .other_scale = 8, .other_quality = 40,
                                .p10 = 0.35, .mean = 0.4};
    d.share[2] = (ProfileShare){.mbps = 0.5, .k = 2, .flag_scale = 4, .flag_quality = 50, .other_scale = 8, .other_quality = 30,
                                .p10 = 0.9, .mean = 0.9};
    d.nshare = 3;
    ServePolicy p = {.doc = &d, .edge_fps = 30, .headroom = 1};
    EXPECT(cac_share_entry(&d, 0) == 1, "target 1 Mbps: of its two entries the higher p10 (k 3), got %d", cac_share_entry(&d, 0));
    EXPECT(cac_share_entry(&d, 1) == 1, "target 4 Mbps has none: the nearest lower (1 Mbps), got %d", cac_share_entry(&d, 1));
    ServeKnobs k = cac_share_knobs(&p, 0, true);
    EXPECT(k.scale == 1 && k.quality == 70 && k.flags == WIRE_CFG_TAIL, "flagged: the flag configuration, marked tail");
    k = cac_share_knobs(&p, 0, false);
    EXPECT(k.scale == 8 && k.quality == 40 && k.flags == 0, "not flagged: the other configuration");
    CtlParams par;
    ctl_params_default(&par);
    Ctl c;
    ctl_init(&c, CTL_CAC_SHARE, &p, &par);
    EXPECT(c.knobs.scale == 8 && c.knobs.quality == 40, "starts in the other configuration (x%d q%d)", c.knobs.scale, c.knobs.quality);
    CtlObs o = {.t = 0, .est_bps = 1.5e6, .value = 0.2, .direction = +1, .threshold = 0.1};
    ctl_observe(&c, &o);
    EXPECT(c.knobs.scale == 8 && !c.tail, "calm: other");
    o.value = 0.05;
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_TAIL && c.knobs.scale == 1 && c.knobs.quality == 70, "flagged: flag config");
    o.value = 0.2;
    ctl_observe(&c, &o);
    EXPECT(c.knobs.scale == 1, "one calm frame: the hold keeps it");
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_STANDARD && c.knobs.scale == 8, "hold over: other again");
    d.nshare = 0;
    k = cac_share_knobs(&p, 1, true);
    EXPECT(k.scale == 2 && k.quality == 60 && (k.flags & WIRE_CFG_TAIL), "no share entry: CAC's tail pick");
    k = cac_share_knobs(&p, 1, false);
    EXPECT(k.scale == 2 && k.quality == 90 && k.flags == 0, "no share entry: CAC's standard pick");
    CtlKind kind;
    EXPECT(ctl_kind_parse("cac-share", &kind) == 0 && kind == CTL_CAC_SHARE && ctl_kind_flags(kind), "parse cac-share");
}

/* cac-oracle: CAC's loop flagged by the reference accuracy at or below the profile's tail_cutoff. */
TEST(serve_cac_oracle_flag) {
    static ProfileDoc d;
    two_targets(&d);
    ServePolicy p = {.doc = &d, .edge_fps = 30, .headroom = 1};
    CtlParams par;
    ctl_params_default(&par);
    Ctl c;
    ctl_init(&c, CTL_CAC_ORACLE, &p, &par);
    CtlObs o = {.t = 0, .est_bps = 1.5e6};
    oracle_observe(&o, 0.41, 0.40);
    ctl_observe(&c, &o);
    EXPECT(!c.tail && c.knobs.scale == 4, "accuracy 0.41 above the cutoff 0.40: standard");
    oracle_observe(&o, 0.40, 0.40);
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_TAIL && c.tail && c.knobs.scale == 2 && c.knobs.quality == 40,
           "accuracy at the cutoff (the tail group's highest): tail pick");
    oracle_observe(&o, 0.45, 0.40); /* inside the margin (0.5 = 0.40 x 1.25) */
    ctl_observe(&c, &o);
    EXPECT(c.tail && c.calm == 0, "0.45: not calm");
    oracle_observe(&o, 0.6, 0.40);
    ctl_observe(&c, &o);
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_STANDARD && !c.tail, "two calm frames: back");
    oracle_observe(&o, NAN, 0.40);
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_NONE && !c.tail, "no label (NaN): nothing changes");
    /* what it needs to start */
    d.tail_cutoff = NAN;
    EXPECT(oracle_check(&d, true) < 0 && strstr(rn_errmsg(), "tail_cutoff"), "no tail_cutoff: refused");
    d.tail_cutoff = 0.4;
    EXPECT(oracle_check(&d, false) < 0 && strstr(rn_errmsg(), "--data"), "no labels: refused");
    EXPECT(oracle_check(&d, true) == 0, "both: runs");
    CtlKind kind;
    EXPECT(ctl_kind_parse("cac-oracle", &kind) == 0 && kind == CTL_CAC_ORACLE && !strcmp(ctl_kind_name(kind), "cac-oracle"),
           "parse cac-oracle");
}
