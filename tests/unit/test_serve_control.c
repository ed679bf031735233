/* test_serve_control.c: the cloud's controllers on a hand-built profile — target choice per bits per frame, CAC's hysteresis, AWStream's congestion/probe/profiling rounds, fixed, and the bandwidth estimate. */
#include <math.h>
#include <string.h>

#include "serve/rate.h"
#include "serve/control.h"
#include "tests/test.h"

/* Three targets at a profile fps of 30: 0.25 / 1 / 4 Mbps; standard x8/x4/x2, tail x4/x2/x2@lower q. */
static void hand_doc(ProfileDoc *d) {
    memset(d, 0, sizeof *d);
    d->fps = 30, d->threshold = 0.01, d->ntargets = 3;
    double mb[3] = {0.25, 1, 4};
    int ss[3] = {8, 4, 2}, sq[3] = {50, 70, 90}, ts[3] = {4, 2, 2}, tq[3] = {30, 40, 60};
    for (int i = 0; i < 3; i++) {
        d->target[i].mbps = mb[i];
        d->target[i].standard = (ProfilePick){.scale = ss[i], .quality = sq[i], .mbps = mb[i] * 0.9};
        d->target[i].tail = (ProfilePick){.scale = ts[i], .quality = tq[i], .mbps = mb[i] * 0.9};
    }
}

TEST(serve_target_choice_per_frame_budget) {
    ProfileDoc d;
    hand_doc(&d);
    /* at 2 fps the same bits per frame need 2/30 of the bandwidth: 1 Mbps@30 = 66.7 kbit/s@2 */
    ServePolicy p = {.doc = &d, .edge_fps = 2, .headroom = 1};
    EXPECT(serve_target_for(&p, NAN) == 0, "no estimate: the smallest target");
    EXPECT(serve_target_for(&p, 1000) == 0, "below every target: the smallest");
    EXPECT(serve_target_for(&p, 66.7e3) == 1, "1 Mbps at 30 fps = 66.7 kbit/s at 2 fps");
    EXPECT(serve_target_for(&p, 66.6e3) == 0, "just below");
    EXPECT(serve_target_for(&p, 1e9) == 2, "plenty: the largest");
    p.headroom = 0.9;
    EXPECT(serve_target_for(&p, 70e3) == 0, "headroom 0.9: 63 kbit/s of 70 is not enough for 66.7");
    ServeKnobs k = serve_pick_knobs(&p, 1, true);
    EXPECT(k.scale == 2 && k.quality == 40 && k.flags == WIRE_CFG_TAIL, "tail pick of target 1");
    d.target[1].tail.scale = 0;
    k = serve_pick_knobs(&p, 1, true);
    EXPECT(k.scale == 4 && k.quality == 70 && k.flags == WIRE_CFG_TAIL, "no tail pick: the standard one, still flagged");
    d.target[0].standard.scale = 0;
    EXPECT(serve_target_for(&p, NAN) == 1, "a target without a standard pick is skipped");
}

TEST(serve_cac_hysteresis) {
    ProfileDoc d;
    hand_doc(&d);
    ServePolicy p = {.doc = &d, .edge_fps = 30, .headroom = 1};
    CtlParams par;
    ctl_params_default(&par);
    par.cac_hold = 2, par.cac_margin = 0.25;
    Ctl c;
    ctl_init(&c, CTL_CAC, &p, &par);
    /* the paper's direction: a low value (few small regions) means tail */
    CtlObs o = {.t = 0, .est_bps = 1.5e6, .value = 0.02, .direction = +1, .threshold = 0.01, .queue_ms = 0};
    int r = ctl_observe(&c, &o);
    EXPECT(c.target == 1 && !c.tail && c.knobs.scale == 4 && c.knobs.quality == 70, "standard pick for 1.5 Mbps");
    EXPECT(r == WIRE_REASON_BANDWIDTH, "moved up from the start target: %d", r);
    o.value = 0.005;
    r = ctl_observe(&c, &o);
    EXPECT(c.tail && c.knobs.scale == 2 && c.knobs.quality == 40 && (c.knobs.flags & WIRE_CFG_TAIL), "one tail frame: tail pick");
    EXPECT(r == WIRE_REASON_TAIL, "reason tail: %d", r);
    o.value = 0.011; /* above the threshold, inside the margin: not calm */
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_NONE && c.tail, "inside the margin: stays");
    o.value = 0.02;
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_NONE && c.tail && c.calm == 1, "one calm frame: stays");
    o.value = 0.011;
    ctl_observe(&c, &o);
    EXPECT(c.tail && c.calm == 0, "the margin frame resets the calm count");
    o.value = 0.02;
    ctl_observe(&c, &o);
    r = ctl_observe(&c, &o);
    EXPECT(!c.tail && r == WIRE_REASON_STANDARD && c.knobs.scale == 4 && c.knobs.flags == 0, "two calm frames: back");
    o.value = NAN;
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_NONE, "NaN value changes nothing");
    o.value = 0.001, o.est_bps = 10e6;
    r = ctl_observe(&c, &o);
    EXPECT(c.tail && c.target == 2 && c.knobs.scale == 2 && c.knobs.quality == 60, "tail at the largest target");
    EXPECT(c.switches == 4, "switches counted: %d", c.switches);
}

TEST(serve_standard_and_fixed) {
    ProfileDoc d;
    hand_doc(&d);
    ServePolicy p = {.doc = &d, .edge_fps = 30, .headroom = 1};
    CtlParams par;
    ctl_params_default(&par);
    Ctl c;
    ctl_init(&c, CTL_STANDARD, &p, &par);
    CtlObs o = {.t = 0, .est_bps = 5e6, .value = 0.0001, .direction = 1, .threshold = 0.01};
    ctl_observe(&c, &o);
    EXPECT(c.target == 2 && c.knobs.scale == 2 && c.knobs.quality == 90 && c.knobs.flags == 0, "standard ignores the ratio");
    par.fixed = (ServeKnobs){.scale = 3, .quality = 55};
    ctl_init(&c, CTL_FIXED, &p, &par);
    o.est_bps = 100;
    EXPECT(ctl_observe(&c, &o) == WIRE_REASON_NONE && c.knobs.scale == 3 && c.knobs.quality == 55, "fixed never moves");
    CtlKind k;
    EXPECT(ctl_kind_parse("awstream", &k) == 0 && k == CTL_AWSTREAM, "parse");
    EXPECT(ctl_kind_parse("bogus", &k) < 0, "unknown controller refused");
}

TEST(serve_awstream_rounds) {
    ProfileDoc d;
    hand_doc(&d);
    ServePolicy p = {.doc = &d, .edge_fps = 30, .headroom = 1};
    CtlParams par;
    ctl_params_default(&par);
    par.aw_period = 10, par.aw_quiet = 5, par.aw_queue_ms = 200;
    Ctl c;
    ctl_init(&c, CTL_AWSTREAM, &p, &par);
    CtlObs o = {.t = 100, .est_bps = 1.5e6, .value = 0.001, .direction = 1, .threshold = 0.01, .queue_ms = 0};
    ctl_observe(&c, &o);
    EXPECT(c.target == 1 && !(c.knobs.flags & WIRE_CFG_TAIL), "first frame: target for the estimate, no tail switch on ratio");
    o.t = 101, o.queue_ms = 500, o.est_bps = 0.3e6;
    int r = ctl_observe(&c, &o);
    EXPECT(c.target == 0 && r == WIRE_REASON_CONGESTION, "queue over 200 ms: degrade to the measured bandwidth (%d)", r);
    o.t = 103, o.queue_ms = 0, o.est_bps = 10e6;
    ctl_observe(&c, &o);
    EXPECT(c.target == 0, "quiet for 2 s only: no probe up yet");
    o.t = 106.5;
    r = ctl_observe(&c, &o);
    EXPECT(c.target == 1 && r == WIRE_REASON_BANDWIDTH, "quiet 5 s: one target up");
    EXPECT(!c.want_probe, "no profiling round before 10 s");
    o.t = 110.5;
    ctl_observe(&c, &o);
    EXPECT(c.want_probe, "10 s since the first frame: ask for a full-quality frame");
    r = ctl_profiled(&c, 111, 0.5, 0.7);
    EXPECT(r == WIRE_REASON_POLICY && (c.knobs.flags & WIRE_CFG_TAIL) && c.knobs.scale == 2, "tail pick measured better");
    r = ctl_profiled(&c, 121, 0.7, 0.5);
    EXPECT(r == WIRE_REASON_POLICY && !(c.knobs.flags & WIRE_CFG_TAIL), "standard again");
    o.t = 112, o.dropped_before = true, o.est_bps = 0.3e6;
    ctl_observe(&c, &o);
    EXPECT(c.target == 0, "edge drops = congestion");
}

TEST(serve_rate_estimate) {
    RateEst r;
    memset(&r, 0, sizeof r);
    EXPECT(isnan(rate_bps(&r, 0, 3)), "nothing arrived");
    /* 10 frames of 10 kbit, each 10 ms on the link: 1 Mbit/s whatever the send rate */
    for (int i = 0; i < 10; i++) rate_add(&r, i * 0.5, 10000, 0.01);
    EXPECT_NEAR(rate_bps(&r, 4.5, 3), 1e6, 1e-6);
    rate_add(&r, 5, 20000, 0.1); /* a slower link now: 200 kbit/s for this frame */
    /* window 1 s at t = 5: frames at 4.0, 4.5, 5.0 -> 40 kbit / 0.12 s */
    EXPECT_NEAR(rate_bps(&r, 5, 1), 40000 / 0.12, 1e-6);
    EXPECT_NEAR(rate_bps(&r, 100, 1), 20000 / 0.1, 1e-6); /* stale window: the newest frame */
    for (int i = 0; i < 1000; i++) rate_add(&r, 200 + i, 8000, 0.008);
    EXPECT(r.n == RATE_MAX, "bounded ring");
    EXPECT_NEAR(rate_bps(&r, 1199, 5), 1e6, 1e-6);
}
