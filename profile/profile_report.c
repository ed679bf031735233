/* profile_report.c: profile.md (the answer first: where tail picks differ and by how much, which signal detects tail frames; then targets, detectors, cac-share, the paper's threshold, configurations, time) and the gnuplot figures of `rune profile`. */
#include "profile/profile_report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "profile/pareto.h"
#include "profile/profile_run.h"
#include "profile/report.h"
#include "profile/tail_threshold.h"
#include "util/err.h"

static const char GP_TERM[] = "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1100,480 font ',10' } "
                              "else { set terminal png size 1100,480 }\n";

typedef struct Out {
    FILE *f, *echo;
} Out;

static void w(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w(Out *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o->f, fmt, ap);
    va_end(ap);
    if (o->echo) {
        va_start(ap, fmt);
        vfprintf(o->echo, fmt, ap);
        va_end(ap);
    }
}

static const char *cfg_name(int scale, int q, char *buf) {
    if (scale == 0) snprintf(buf, 32, "none fits");
    else if (scale == 1) snprintf(buf, 32, "HR q%d", q);
    else snprintf(buf, 32, "x%d q%d", scale, q);
    return buf;
}

static const char *pct(double v, char *buf) {
    if (isnan(v)) snprintf(buf, 32, "-");
    else snprintf(buf, 32, "%.1f", 100 * v);
    return buf;
}

static void checks_md(Out *o, const char *split, const ProfileCheck *c, int n) {
    char a[32], b[32], e[32], g[32];
    for (int i = 0; i < n; i++) {
        w(o, "| %s | x%d | %d | %d | %d | %s | %s | %s / %s |", split, c[i].scale, c[i].frames, c[i].tail, c[i].predicted,
          pct(c[i].recall, a), pct(c[i].precision, b), pct(c[i].recall_1pct, e), pct(c[i].precision_1pct, g));
        w(o, " %s / %s | %.4f |\n", pct(c[i].recall_r90, a), pct(c[i].precision_r90, b), c[i].ratio_ms);
    }
}

static void timing_md(Out *o, const char *split, const ProfileTiming *t, int ncfg) {
    if (!t->frames) return;
    double per = t->measured ? t->wall / ((double)t->measured * ncfg) : NAN;
    w(o, "| %s | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.3f |\n", split, t->frames, t->measured, ncfg, t->wall,
      t->load, t->degrade, t->sr, t->task, t->ratio, per);
}

/* "+1.2 [0.3, 2.0]" in points, or "-". */
static const char *gain_s(const ProfileGain *g, char *buf) {
    if (isnan(g->mean)) snprintf(buf, 64, "-");
    else snprintf(buf, 64, "%+.1f [%+.1f, %+.1f]", 100 * g->mean, 100 * g->lo, 100 * g->hi);
    return buf;
}

static const char *auc_s(double v, char *buf) {
    if (isnan(v)) snprintf(buf, 32, "-");
    else snprintf(buf, 32, "%.2f", v);
    return buf;
}

static bool differs(const ProfileTarget *t) {
    return t->standard.scale != t->tail.scale || t->standard.quality != t->tail.quality;
}

/* The answer first: where the tail picks differ and what they gain on tail frames. */
static void answer_picks(Out *o, const ProfileDoc *d) {
    char a[32], b[32], g1[64], g2[64];
    int nd = 0;
    for (int i = 0; i < d->ntargets; i++) nd += differs(&d->target[i]);
    w(o, "**Tail picks differ from standard picks at %d of %d targets** (costs: the `%s` byte model).", nd, d->ntargets,
      d->bytes_model);
    if (!nd) {
        w(o, " At every target the most accurate configuration for the tail frames is the standard one.\n\n");
        return;
    }
    w(o, " Gain = mean per-frame accuracy of the tail pick minus the standard pick, points, paired bootstrap 95 %% "
         "interval over the frames:\n\n| target Mbps | standard | tail | gain on tail frames | on standard frames |\n"
         "|---|---|---|---|---|\n");
    for (int i = 0; i < d->ntargets; i++) {
        const ProfileTarget *t = &d->target[i];
        if (!differs(t)) continue;
        w(o, "| %.3f | %s | %s | %s (n %d) |", t->mbps, cfg_name(t->standard.scale, t->standard.quality, a),
          cfg_name(t->tail.scale, t->tail.quality, b), gain_s(&t->gain_tail, g1), t->gain_tail.n);
        w(o, " %s (n %d) |\n", gain_s(&t->gain_std, g2), t->gain_std.n);
    }
    w(o, "\n");
}

/* A signal's mean over the scales of an AUC turned to the signal's train direction. */
static double mean_auc(const ProfileDoc *d, int sig, bool val) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < d->nsig; i++) {
        const ProfileSignalEval *e = &d->sig[i];
        double v = val ? e->val_auc : e->train_auc;
        if (e->signal != sig || isnan(v)) continue;
        s += e->direction > 0 ? v : 1 - v, n++;
    }
    return n ? s / n : NAN;
}

/* The answer on detection: which signal separates tail frames on val, and the profile's detectors. */
static void answer_signals(Out *o, const ProfileDoc *d) {
    char a[32], b[32], c[32];
    int best = -1;
    for (int sig = 0; sig < SIG_N; sig++)
        if (!isnan(mean_auc(d, sig, true)) && (best < 0 || mean_auc(d, sig, true) > mean_auc(d, best, true))) best = sig;
    if (best >= 0)
        w(o, "**Best tail-frame signal on %s: `%s`**, mean AUC %.2f over the scales in its train direction (0.5 = no "
             "separation). ", d->val_split, signal_name((SignalId)best), mean_auc(d, best, true));
    w(o, "CAC reads `%s`. AUC per scale in the direction chosen on %s (direction: + low value = tail, - high; train / %s):\n\n",
      d->signal, d->split, d->val_split[0] ? d->val_split : "no val");
    w(o, "| signal | mean train | mean val |");
    for (int i = 0; i < d->nsig && d->sig[i].signal == d->sig[0].signal; i++) w(o, " %s |", cfg_name(d->sig[i].scale, d->sig[i].quality, a));
    w(o, "\n|---|---|---|");
    for (int i = 0; i < d->nsig && d->sig[i].signal == d->sig[0].signal; i++) w(o, "---|");
    for (int i = 0; i < d->nsig; i++) {
        const ProfileSignalEval *e = &d->sig[i];
        if (i == 0 || e->signal != d->sig[i - 1].signal)
            w(o, "\n| %s | %s | %s |", signal_name((SignalId)e->signal), auc_s(mean_auc(d, e->signal, false), a),
              auc_s(mean_auc(d, e->signal, true), b));
        double tr = e->direction > 0 ? e->train_auc : 1 - e->train_auc, va = e->direction > 0 ? e->val_auc : 1 - e->val_auc;
        w(o, " %c %s / %s |", e->direction > 0 ? '+' : '-', auc_s(tr, b), auc_s(va, c));
    }
    w(o, "\n\n");
}

static void detectors_md(Out *o, const ProfileDoc *d) {
    char a[32], b[32], c[32], e[32], f[32], g[32], h[32];
    const char *val = d->val_split[0] ? d->val_split : "val";
    w(o, "Detectors of `%s`, one per configuration (recall, precision in %%): threshold catching >= %.0f %% of the %s tail "
         "frames; direction from a two-sided 5 %% Mann-Whitney test on %s (`data`) or the signal's default (`default`).",
      d->signal, 100 * d->recall_target, d->split, d->split);
    if (d->val_split[0]) w(o, " %s tail frames: reference accuracy <= the %s cut-off.", val, d->split);
    else w(o, " No held-out split (--val-split): no val numbers.");
    w(o, "\n\n| config | dir | threshold | %s AUC | recall | precision | %s AUC | recall | precision | other direction: "
         "recall / precision |\n|---|---|---|---|---|---|---|---|---|---|\n", d->split, val);
    for (int i = 0; i < d->ndet; i++) {
        const ProfileDetector *k = &d->det[i];
        w(o, "| %s | %c %s | %.5g | %s | %s | %s |", cfg_name(k->scale, k->quality, a), k->direction > 0 ? '+' : '-',
          k->from_data ? "data" : "default", k->threshold, auc_s(k->train_auc, b), pct(k->train_recall, c),
          pct(k->train_precision, e));
        w(o, " %s | %s | %s | %s / %s |\n", auc_s(k->val_auc, b), pct(k->val_recall, f), pct(k->val_precision, g),
          pct(k->val_recall_other, h), pct(k->val_precision_other, c));
    }
    w(o, "\n");
}

static void share_md(Out *o, const ProfileDoc *d) {
    char a[32], b[32], c[32], e[32], f[32], g[32];
    w(o, "cac-share on %s (flagged frames by the detector of the standard pick's configuration get about k x the target, "
         "the others pay; k and the pair maximise the 10th-percentile frame accuracy):\n\n| target Mbps | k | flagged | "
         "flag config | other config | p10 | mean | standard p10 | standard mean |\n|---|---|---|---|---|---|---|---|---|\n",
      d->split);
    for (int i = 0; i < d->nshare; i++) {
        const ProfileShare *s = &d->share[i];
        char k[32];
        snprintf(k, sizeof k, isnan(s->k) ? "-" : "%g", s->k);
        w(o, "| %.3f | %s | %s | %s | %s |", s->mbps, k, pct(s->flagged, a), cfg_name(s->flag_scale, s->flag_quality, b),
          cfg_name(s->other_scale, s->other_quality, c));
        w(o, " %s | %s | %s | %s |\n", pct(s->p10, e), pct(s->mean, f), pct(s->p10_standard, g), pct(s->mean_standard, a));
    }
    w(o, "\n");
}

static void targets_md(Out *o, const ProfileDoc *d) {
    char a[32], b[32], c[32], e[32];
    w(o, "| target Mbps | standard config | Mbps | acc std | acc tail | tail config | Mbps | acc std | acc tail |\n"
         "|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < d->ntargets; i++) {
        const ProfilePick *s = &d->target[i].standard, *t = &d->target[i].tail;
        char m1[32], m2[32];
        snprintf(m1, 32, s->scale ? "%.3f" : "-", s->mbps), snprintf(m2, 32, t->scale ? "%.3f" : "-", t->mbps);
        w(o, "| %.3f | %s | %s | %s | %s |", d->target[i].mbps, cfg_name(s->scale, s->quality, a), m1, pct(s->acc_std, b),
          pct(s->acc_tail, c));
        w(o, " %s | %s | %s | %s |\n", cfg_name(t->scale, t->quality, a), m2, pct(t->acc_std, b), pct(t->acc_tail, e));
    }
}

static void paper_threshold_md(Out *o, const ProfileDoc *d, bool det) {
    char thr[48]; /* no crossing (a line that does not rise with the ratio) has no threshold */
    if (isfinite(d->threshold)) snprintf(thr, sizeof thr, "%.4f %%", 100 * d->threshold);
    else snprintf(thr, sizeof thr, "none (the fitted line does not rise)");
    w(o, "\nThe paper's pooled threshold on the %s (%s < %g of the frame; a report, CAC reads the detectors above): "
         "**%s** (fit: acc - cut = %.4f + %.4f x ratio, r2 %.3f, %d points); the threshold catching 90 %% of the "
         "training tail points would be %.4f %%. Per scale, tail frames = that scale's own worst %.0f %%:\n\n",
      det ? "share of small detections" : "small-region ratio", det ? "boxes" : "regions", d->small, thr, d->fit_a, d->fit_b,
      d->fit_r2, d->fit_n, 100 * d->threshold_recall90, d->tail_pct);
    w(o, "| split | scale | frames | tail | predicted | recall %% | precision %% | recall / precision at 1 %% | "
         "at the recall-90 threshold | ratio ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
    checks_md(o, d->split, d->train, d->ntrain);
    checks_md(o, d->val_split, d->val, d->nval);
}

static void configs_md(Out *o, const ProfileDoc *d) {
    char a[32], b[32], c[32];
    w(o, "\n| config | kB std | kB tail | acc std | acc tail | small ratio std %% | tail %% |\n|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < d->ncfg; i++) {
        const ProfileCfg *k = &d->cfg[i];
        w(o, "| %s | %.2f | %.2f | %s | %s |", cfg_name(k->scale, k->quality, a), k->bytes_std / 1e3, k->bytes_tail / 1e3,
          pct(k->acc_std, b), pct(k->acc_tail, c));
        w(o, " %.2f | %.2f |\n", 100 * k->ratio_std, 100 * k->ratio_tail);
    }
    w(o, "\n| sweep | frames | measured | configs | wall s | load s | degrade s | SR s | task s | ratio s | s per frame-config |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|\n");
    timing_md(o, d->split, &d->t_train, d->ncfg);
    timing_md(o, d->val_split, &d->t_val, d->ncfg);
}

/* The detector of configuration c in d (det[] holds the training sweep's configurations). */
static const ProfileDetector *det_of(const ProfileDoc *d, int scale, int quality) {
    for (int i = 0; i < d->ndet; i++)
        if (d->det[i].scale == scale && d->det[i].quality == quality) return &d->det[i];
    return NULL;
}

/* Fig. 8 as a table: per scale, how the detector of its configuration does on the worst 5 % frames
 * (reference accuracy <= tail5_cutoff) of the split shown. */
static void fig8_md(Out *o, const ProfileDoc *d, const Sweep *s, const char *split) {
    char a[32], b[32], c[32];
    int sc[SWEEP_MAX_SCALE], nsc = sweep_scales(s, sc), ref = sweep_find(s, d->ref_scale, d->ref_quality);
    SignalId sig = SIG_RATIO;
    signal_parse(d->signal, &sig);
    w(o, "Fig. 8 on %s: the worst 5 %% frames (reference accuracy <= %.1f %%, the %s cut-off) against each scale's "
         "detector of `%s`:\n\n| config | frames | worst 5 %% | flagged | recall %% | precision %% |\n|---|---|---|---|---|---|\n",
      split, 100 * d->tail5_cutoff, d->split, d->signal);
    for (int k = 0; k < nsc && ref >= 0; k++) {
        int cf = profile_scale_config(d, s, sc[k]);
        const ProfileDetector *e = cf >= 0 ? det_of(d, s->cfg[cf].scale, s->cfg[cf].quality) : NULL;
        if (!e) continue;
        int n5 = 0, nf = 0, hits = 0;
        for (int f = 0; f < s->nframes; f++) {
            bool t = s->acc[(size_t)f * s->nconfigs + ref] <= d->tail5_cutoff;
            bool fl = signal_flags(profile_signal_value(s, sig, f, cf), e->direction, e->threshold);
            n5 += t, nf += fl, hits += t && fl;
        }
        w(o, "| %s | %d | %d | %d | %s | %s |\n", cfg_name(s->cfg[cf].scale, s->cfg[cf].quality, a), s->nframes, n5, nf,
          pct(n5 ? (double)hits / n5 : NAN, b), pct(nf ? (double)hits / nf : NAN, c));
    }
    w(o, "\n");
}

static int summary(const ProfileDoc *d, const Sweep *fs, const char *fsplit, const char *stem, FILE *echo) {
    char path[4200], a[32];
    snprintf(path, sizeof path, "%s.md", stem);
    Out o = {fopen(path, "w"), echo};
    if (!o.f) return rn_fail("cannot write %s", path);
    bool det = !strcmp(d->task_kind, "detection");
    const char *acc = det ? "AP@0.5" : "mIoU";
    w(&o, "# rune profile: %s/%s, %d frames (%d tail), %d configurations\n\n", d->kind, d->split, d->nframes, d->ntail, d->ncfg);
    w(&o, "Tail frames: the worst %.0f %% by per-frame %s at the reference %s (cut-off %.1f %%; the worst 5 %%: %.1f %%). "
          "Accuracy = mean per-frame %s (%%); Mbps = bytes per frame x 8 x %.0f fps, %s.\n\n",
      d->tail_pct, acc, cfg_name(d->ref_scale, d->ref_quality, a), 100 * d->tail_cutoff, 100 * d->tail5_cutoff, acc, d->fps,
      strcmp(d->bytes_model, "own") ? "a configuration's mean over all frames for both groups" : "each group's own mean");
    answer_picks(&o, d);
    answer_signals(&o, d);
    w(&o, "`%s`\n\n## Every target\n\n", d->command);
    targets_md(&o, d);
    w(&o, "\n## Detectors and cac-share\n\n");
    detectors_md(&o, d);
    fig8_md(&o, d, fs, fsplit);
    share_md(&o, d);
    w(&o, "## The paper's threshold, configurations, time\n");
    paper_threshold_md(&o, d, det);
    configs_md(&o, d);
    if (fclose(o.f) != 0) return rn_fail("writing %s failed", path);
    return 0;
}

/* ---------------- figures ---------------- */

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int pareto_fig(const ProfileDoc *d, const Sweep *s, const bool *tail, const char *stem, char *gp) {
    char path[4200];
    double fps = d->fps;
    snprintf(path, sizeof path, "%s_pareto.dat", stem);
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("cannot write %s", path);
    bool *std = xmalloc((size_t)s->nframes), own = !strcmp(d->bytes_model, "own");
    for (int i = 0; i < s->nframes; i++) std[i] = !tail[i];
    const bool *grp[2] = {std, tail};
    int *fr = xmalloc((size_t)s->nconfigs * sizeof *fr);
    double *cost = xmalloc((size_t)s->nconfigs * sizeof *cost);
    for (int g = 0; g < 2; g++) {
        pareto_costs(s, own ? grp[g] : NULL, cost); /* the byte model's cost: what the picks were budgeted on */
        fprintf(f, "# %s: scale quality Mbps acc%%\n", g ? "tail" : "standard");
        for (int c = 0; c < s->nconfigs; c++)
            fprintf(f, "%d %d %.4f %.3f\n", s->cfg[c].scale, s->cfg[c].quality, 8 * cost[c] * fps / 1e6,
                    100 * pareto_group_mean(s, grp[g], c).acc);
        fprintf(f, "\n\n# %s frontier\n", g ? "tail" : "standard");
        int n = pareto_frontier(s, grp[g], cost, fr);
        for (int i = 0; i < n; i++)
            fprintf(f, "%d %d %.4f %.3f\n", s->cfg[fr[i]].scale, s->cfg[fr[i]].quality, 8 * cost[fr[i]] * fps / 1e6,
                    100 * pareto_group_mean(s, grp[g], fr[i]).acc);
        fprintf(f, "\n\n");
    }
    free(std), free(fr), free(cost);
    if (fclose(f) != 0) return rn_fail("writing %s failed", path);
    snprintf(gp, 4200, "%s_pareto.gp", stem);
    f = fopen(gp, "w");
    if (!f) return rn_fail("cannot write %s", gp);
    const char *b = base(stem);
    fprintf(f, "# %s_pareto.gp: bandwidth (%s byte model) vs per-frame accuracy of every configuration, standard and tail "
               "frames, frontier joined\n%sset output '%s_pareto.png'\nset multiplot layout 1,2\nset logscale x\nset grid\n"
               "set xlabel 'Mbps at %.0f fps'\nset ylabel 'mean per-frame accuracy (%%)'\nset key bottom right\n",
            b, d->bytes_model, GP_TERM, b, fps);
    for (int g = 0; g < 2; g++)
        fprintf(f, "set title '%s frames'\nplot '%s_pareto.dat' index %d using 3:4:($1==1 ? sprintf(\"HR q%%d\", $2) : "
                   "sprintf(\"x%%d q%%d\", $1, $2)) with labels font ',7' offset 0,0.6 notitle, '' index %d using 3:4 with points pt 7 ps 0.6 "
                   "title 'configurations', '' index %d using 3:4 with linespoints lw 2 pt 6 title 'frontier'\n",
                g ? "tail" : "standard", b, 2 * g, 2 * g, 2 * g + 1);
    fprintf(f, "unset multiplot\n");
    return fclose(f) != 0 ? rn_fail("writing %s failed", gp) : 0;
}

/* Fig. 8's data: per scale at its configuration, each frame's signal, accuracy and whether its
 * reference accuracy is within the worst-5 % cut-off (the paper's red crosses). Returns the scales
 * written (their configurations in cfg[]). */
static int fig8_data(const ProfileDoc *d, const Sweep *s, FILE *f, int *cfg) {
    int sc[SWEEP_MAX_SCALE], nsc = sweep_scales(s, sc), ref = sweep_find(s, d->ref_scale, d->ref_quality), n = 0;
    SignalId sig = SIG_RATIO;
    signal_parse(d->signal, &sig);
    for (int k = 0; k < nsc; k++) {
        int c = profile_scale_config(d, s, sc[k]);
        if (c < 0) continue;
        cfg[n++] = c;
        fprintf(f, "# %s: %s / per-frame accuracy %% / worst 5 %% at the reference\n",
                s->cfg[c].scale == 1 ? "HR" : "scale", d->signal);
        for (int i = 0; i < s->nframes; i++) {
            double r = ref >= 0 ? s->acc[(size_t)i * s->nconfigs + ref] : NAN;
            fprintf(f, "%.6g %.3f %d\n", profile_signal_value(s, sig, i, c), 100 * s->acc[(size_t)i * s->nconfigs + c],
                    r <= d->tail5_cutoff);
        }
        fprintf(f, "\n\n");
    }
    return n;
}

static int fig8(const ProfileDoc *d, const Sweep *s, const char *split, const char *stem, char *gp) {
    char path[4200], a[32];
    snprintf(path, sizeof path, "%s_fig8.dat", stem);
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("cannot write %s", path);
    int cfg[SWEEP_MAX_SCALE], n = fig8_data(d, s, f, cfg);
    if (fclose(f) != 0) return rn_fail("writing %s failed", path);
    snprintf(gp, 4200, "%s_fig8.gp", stem);
    f = fopen(gp, "w");
    if (!f) return rn_fail("cannot write %s", gp);
    const char *b = base(stem);
    fprintf(f, "# %s_fig8.gp: the paper's Fig. 8 — per-frame accuracy against the signal %s of the prediction, the worst "
               "5 %% frames at the reference as red crosses, each configuration's detector threshold dashed\n"
               "%sset output '%s_fig8.png'\nset multiplot layout 1,%d\nset grid\nset xlabel '%s'\n"
               "set ylabel 'per-frame accuracy (%%)'\nset key bottom right\n",
            b, d->signal, GP_TERM, b, n ? n : 1, d->signal);
    for (int k = 0; k < n; k++) {
        const SweepConfig *c = &s->cfg[cfg[k]];
        const ProfileDetector *e = det_of(d, c->scale, c->quality);
        fprintf(f, "unset arrow\n");
        if (e && isfinite(e->threshold))
            fprintf(f, "set arrow 1 from %.6g, graph 0 to %.6g, graph 1 nohead dt 2 lw 2\n", e->threshold, e->threshold);
        fprintf(f, "set title '%s (%s)'\nplot '%s_fig8.dat' index %d using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb "
                   "'#3060c0' title 'frames', '' index %d using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'worst 5 %%'\n",
                cfg_name(c->scale, c->quality, a), split, b, k, k);
    }
    fprintf(f, "unset multiplot\n");
    return fclose(f) != 0 ? rn_fail("writing %s failed", gp) : 0;
}

int profile_report_write(const ProfileDoc *d, const Sweep *train, const bool *tail, const Sweep *val, const char *stem,
                         bool figures, FILE *echo) {
    TRY(summary(d, val ? val : train, val ? d->val_split : d->split, stem, echo));
    char gp1[4200], gp2[4200];
    TRY(pareto_fig(d, train, tail, stem, gp1));
    TRY(fig8(d, val ? val : train, val ? d->val_split : d->split, stem, gp2));
    if (!figures) return 0;
    char dir[4200];
    const char *slash = strrchr(stem, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - stem) : 1, slash ? stem : ".");
    report_gnuplot(dir, base(gp1), "profile");
    report_gnuplot(dir, base(gp2), "profile");
    return 0;
}
