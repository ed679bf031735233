/* test_signals.c: the tail-frame signals (profile/signals.h) on hand-made prediction maps, and predict_soft's softmax statistics against a double-precision softmax. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/segmenter.h"
#include "profile/eval_seg.h"
#include "profile/signals.h"
#include "tests/test.h"
#include "util/err.h"

/* 8x8, background 0 and four small regions (4-connected; the two 1s touch only at a corner, so
 * they are two regions):
 *   x: 0 1 2 3 4 5 6 7
 *   y0 . . . . . . . 3
 *   y1 . 1 . . . . . 3
 *   y2 . . 1 . . . . 3
 *   y3 . . . . . . . .
 *   y4 . . . . 2 2 . .
 *   y5 . . . . 2 2 . .
 *   y6-7 background */
static void hand_map(uint8_t *p) {
    memset(p, 0, 64);
    p[1 * 8 + 1] = 1, p[2 * 8 + 2] = 1;
    p[4 * 8 + 4] = p[4 * 8 + 5] = p[5 * 8 + 4] = p[5 * 8 + 5] = 2;
    p[0 * 8 + 7] = p[1 * 8 + 7] = p[2 * 8 + 7] = 3;
}

static bool same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

TEST(signals_ratio_count_and_pixels_by_hand) {
    uint8_t p[64];
    hand_map(p);
    FrameSignals s;
    /* small = 0.1: regions below 6.4 px: the 1, 1, 2x2 and 3-px regions = 4 regions, 9 px of 64;
     * the background (55 px) is not small */
    signals_compute(p, 8, 8, 1, 0.1, NULL, 4, NULL, &s);
    EXPECT_NEAR(s.v[SIG_RATIO], 9.0 / 64, 1e-15);
    EXPECT(s.v[SIG_SMALL_COUNT] == 4, "4-connectivity: the diagonal 1s are two regions: %g", s.v[SIG_SMALL_COUNT]);
    EXPECT(same(s.v[SIG_RATIO_LR], s.v[SIG_RATIO]) && s.ratio_lr_ms == s.ratio_ms, "HR: ratio_lr is the ratio");
    EXPECT(s.ratio_ms >= 0, "timed: %g", s.ratio_ms);
    EXPECT(s.k == 4 && s.px[0] == 55 && s.px[1] == 2 && s.px[2] == 4 && s.px[3] == 3, "px %lld %lld %lld %lld", s.px[0],
           s.px[1], s.px[2], s.px[3]);
    EXPECT(isnan(s.v[SIG_MAXPROB]) && isnan(s.v[SIG_ENTROPY]) && isnan(s.v[SIG_TAIL_SHARE]), "no soft stats, no tail classes");
    /* k = 3: class 3's pixels are counted nowhere */
    signals_compute(p, 8, 8, 1, 0.1, NULL, 3, NULL, &s);
    EXPECT(s.k == 3 && s.px[0] == 55 && s.px[2] == 4 && s.px[3] == 0, "k = 3: px[3] %lld", s.px[3]);
    /* soft stats and tail classes pass through: tail = {1, 2}: 6 of the 64 pixels */
    SoftStats soft = {0.75, 0.5};
    bool tail[4] = {false, true, true, false};
    signals_compute(p, 8, 8, 1, 0.1, &soft, 4, tail, &s);
    EXPECT(s.v[SIG_MAXPROB] == 0.75 && s.v[SIG_ENTROPY] == 0.5, "soft %g %g", s.v[SIG_MAXPROB], s.v[SIG_ENTROPY]);
    EXPECT_NEAR(s.v[SIG_TAIL_SHARE], 6.0 / 64, 1e-15);
}

TEST(signals_ratio_lr_subsamples_at_lr_pixel_centres) {
    uint8_t p[64];
    hand_map(p);
    FrameSignals s;
    /* x2: LR 4x4 from the pixels (2x+1, 2y+1): the 1 at (1,1) -> LR (0,0), the 2x2's (5,5) -> (2,2),
     * the 3s' (7,1) -> (3,0); the 1 at (2,2) is not sampled. Small at 0.1 of 16 px = below 1.6 px:
     * the three single pixels -> 3/16. (Top-left sampling would give 2/16: the (2,2) 1 and (4,4) 2.) */
    signals_compute(p, 8, 8, 2, 0.1, NULL, 4, NULL, &s);
    EXPECT_NEAR(s.v[SIG_RATIO_LR], 3.0 / 16, 1e-15);
    EXPECT_NEAR(s.v[SIG_RATIO], 9.0 / 64, 1e-15); /* the HR ratio does not depend on the scale */
    EXPECT(s.ratio_lr_ms >= 0, "timed separately: %g", s.ratio_lr_ms);
    /* x4: LR 2x2 from (4x+2, 4y+2): (2,2) = 1, the others 0. small 0.3 of 4 px = below 1.2: the 1 -> 1/4
     * (the three 0s are one region of 3); at HR every region but the background is below 19.2 px */
    signals_compute(p, 8, 8, 4, 0.3, NULL, 4, NULL, &s);
    EXPECT_NEAR(s.v[SIG_RATIO_LR], 1.0 / 4, 1e-15);
    EXPECT_NEAR(s.v[SIG_RATIO], 9.0 / 64, 1e-15);
    /* a scale larger than the frame leaves no LR pixel: NaN, not a number made up */
    signals_compute(p, 8, 8, 16, 0.1, NULL, 4, NULL, &s);
    EXPECT(isnan(s.v[SIG_RATIO_LR]), "x16 of 8x8: %g", s.v[SIG_RATIO_LR]);
}

TEST(signals_tail_share_and_flags) {
    long long px[3] = {10, 30, 60};
    bool t1[3] = {true, false, true};
    EXPECT_NEAR(signals_tail_share(px, 3, t1), 0.7, 1e-15);
    long long none[3] = {0, 0, 0};
    EXPECT(isnan(signals_tail_share(none, 3, t1)), "no pixels: NaN");
    /* +1: low value = tail, strictly below; -1: high value = tail, strictly above */
    EXPECT(signal_flags(0.005, +1, 0.01) && !signal_flags(0.01, +1, 0.01) && !signal_flags(0.02, +1, 0.01), "low direction");
    EXPECT(signal_flags(2.0, -1, 1.5) && !signal_flags(1.5, -1, 1.5) && !signal_flags(1.0, -1, 1.5), "high direction");
    EXPECT(!signal_flags(NAN, +1, 0.01) && !signal_flags(NAN, -1, 0.01), "NaN value: not flagged");
    EXPECT(!signal_flags(0.001, +1, NAN) && !signal_flags(9, -1, NAN), "NaN threshold: not flagged");
    EXPECT(!signal_flags(0.001, 0, 0.01), "no direction: not flagged");
}

TEST(signals_names_and_default_directions) {
    for (int s = 0; s < SIG_N; s++) {
        SignalId got;
        EXPECT(signal_parse(signal_name((SignalId)s), &got) == 0 && got == (SignalId)s, "%s", signal_name((SignalId)s));
        EXPECT(signal_default_direction((SignalId)s) == (s == SIG_ENTROPY ? -1 : +1), "%s", signal_name((SignalId)s));
    }
    EXPECT(!strcmp(signal_name(SIG_RATIO_LR), "ratio_lr") && !strcmp(signal_name(SIG_TAIL_SHARE), "tail_share"), "names");
    SignalId x;
    EXPECT(signal_parse("ratiolr", &x) < 0 && strstr(rn_errmsg(), "ratio_lr") && strstr(rn_errmsg(), "entropy"),
           "unknown name lists the known ones: %s", rn_errmsg());
}

/* Softmax max-probability and entropy of pixel i of planar logits [k][hw], in double. */
static void softmax_ref(const float *l, int k, size_t hw, size_t i, double *maxp, double *ent) {
    double m = -INFINITY, s = 0, h = 0;
    for (int c = 0; c < k; c++) m = fmax(m, l[(size_t)c * hw + i]);
    for (int c = 0; c < k; c++) s += exp(l[(size_t)c * hw + i] - m);
    for (int c = 0; c < k; c++) {
        double p = exp(l[(size_t)c * hw + i] - m) / s;
        h -= p > 0 ? p * log(p) : 0;
    }
    *maxp = 1 / s, *ent = h;
}

/* The kernel on hand logits: a tie (lowest index wins, as argmax_channels), logits of 1000 that
 * overflow expf unless the max is subtracted, a certain pixel (entropy 0). */
TEST(softmax_stats_by_hand) {
    /* 3 channels x 3 pixels (w 3, h 1): pixel 0 = (2, 2, 0): tie -> 0; pixel 1 = (1000, 1000, -1000):
     * p = (1/2, 1/2, 0), H = log 2; pixel 2 = (0, 0, 200): p3 = 1 to float precision, H = 0 */
    float l[9] = {2, 1000, 0, 2, 1000, 0, 0, -1000, 200};
    uint8_t pred[3];
    SoftStats st;
    softmax_stats(l, 3, 3, 1, pred, &st);
    EXPECT(pred[0] == 0 && pred[1] == 0 && pred[2] == 2, "argmax %d %d %d", pred[0], pred[1], pred[2]);
    double m0, h0;
    softmax_ref(l, 3, 3, 0, &m0, &h0);
    EXPECT_NEAR(st.maxprob, (m0 + 0.5 + 1) / 3, 1e-6);
    EXPECT_NEAR(st.entropy, (h0 + log(2) + 0) / 3, 1e-6);
    /* one pixel (0, z) at a time over z in [-30, 0): the exponential over its range, to the bound of
     * the test below with k = 2, R = |z| (a wrong digit in its polynomial shows here) */
    double u = FLT_EPSILON / 2;
    for (double z = -30; z < 0; z += 0.0371) {
        float l2[2] = {0, (float)z};
        softmax_stats(l2, 2, 1, 1, pred, &st);
        double e = exp((double)l2[1]), s = 1 + e, r = -l2[1];
        EXPECT_NEAR(st.maxprob, 1 / s, (4 + r) * u);
        EXPECT_NEAR(st.entropy, log(s) + r * e / s, (3 + r + log(2) + r * (9 + 2 * r)) * u);
    }
}

/* The published ESPNet-CamVid on a tiny frame: predict_soft's argmax is predict()'s, and its means
 * match a double softmax over the 11 real classes of the model's own logits (the void channel
 * skipped, as the argmax skips it). */
TEST(predict_soft_matches_a_double_softmax) {
    const char *path = "weights/espnet_camvid.h5";
    EvalTask t;
    EXPECT(eval_task_open(&t, path, NULL, NULL, false) == 0, "%s", rn_errmsg());
    Segmenter *seg = segmenter_open(path, NULL, 0, NULL);
    EXPECT(seg && t.predict_soft && seg->outputs == 12 && t.k == 11, "ESPNet-CamVid: 12 outputs, 11 classes");
    int w = 32, h = 24, k = t.k;
    size_t hw = (size_t)w * h;
    Frame fr = frame_alloc(w, h, 3);
    for (size_t i = 0; i < 3 * hw; i++) fr.px[i] = (float)(0.5 + 0.5 * sin(0.37 * (double)i) * cos(0.011 * (double)i));
    uint8_t *p1 = malloc(hw), *p2 = malloc(hw);
    SoftStats st;
    t.predict(t.ctx, &fr, p1);
    t.predict_soft(t.ctx, &fr, p2, &st);
    EXPECT(!memcmp(p1, p2, hw), "predict_soft's argmax is predict()'s");
    /* the logits themselves, as the task computes them (same model, same input, same threads) */
    bool was = engine_set_grad(false);
    Tensor *x = tensor_new(1, 3, h, w);
    memcpy(x->data, fr.px, 3 * hw * sizeof(float));
    Tensor *y = segmenter_forward(seg, x, false);
    double sm = 0, sh = 0, range = 0;
    for (size_t i = 0; i < hw; i++) {
        double mp, e, lo = INFINITY, hi = -INFINITY;
        softmax_ref(y->data, k, hw, i, &mp, &e);
        sm += mp, sh += e;
        for (int c = 0; c < k; c++) lo = fmin(lo, y->data[c * hw + i]), hi = fmax(hi, y->data[c * hw + i]);
        range = fmax(range, hi - lo);
    }
    engine_step_reset();
    engine_set_grad(was);
    sm /= (double)hw, sh /= (double)hw;
    /* Float32 error per pixel, u = 2^-24, R = the largest logit range of a pixel, z_c = l_c - max:
     * e_c = exp(z_c) is off by <= (R + 2)u relative (z rounded; softmax_stats' exp: 1.43 ulp), S = sum e_c by
     * <= (k + 1 + R)u, so max p = 1/S by <= (k + 2 + R)u (p <= 1). Entropy log S - sum z_c e_c / S:
     * log S by <= (k + 1 + R)u + u log k absolute; sum z e (terms of one sign) by <= (k + R + 4)u
     * relative, over S (k + 1 + R)u more, times |sum z e / S| <= R. A mean over pixels keeps the
     * bound. Measured: 3e-10 and 1e-9 against bounds of 3e-6 and 2e-4; taking the void channel in too
     * moves them by 0.013 and 0.049 on this frame. */
    double u = FLT_EPSILON / 2;
    double tol_p = (k + 2 + range) * u, tol_h = (k + 1 + range + log(k) + range * (2 * k + 2 * range + 5)) * u;
    EXPECT_NEAR(st.maxprob, sm, tol_p);
    EXPECT_NEAR(st.entropy, sh, tol_h);
    EXPECT(st.maxprob > 1.0 / k && st.maxprob <= 1 && st.entropy >= 0 && st.entropy <= log(k), "in range: %g %g", st.maxprob,
           st.entropy);
    free(p1), free(p2);
    frame_free(&fr);
    segmenter_close(seg);
    eval_task_close(&t);
}
