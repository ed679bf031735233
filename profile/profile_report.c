/* profile_report.c: profile.md (targets, threshold, checks, configurations, time) and the gnuplot figures of `rune profile`. */
#include "profile/profile_report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "profile/pareto.h"
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

static int summary(const ProfileDoc *d, const char *stem, FILE *echo) {
    char path[4200], a[32], b[32], c[32], e[32];
    snprintf(path, sizeof path, "%s.md", stem);
    Out o = {fopen(path, "w"), echo};
    if (!o.f) return rn_fail("cannot write %s", path);
    w(&o, "# rune profile: %s/%s, %d frames (%d tail), %d configurations\n\n", d->kind, d->split, d->nframes, d->ntail, d->ncfg);
    bool det = !strcmp(d->task_kind, "detection");
    const char *acc = det ? "AP@0.5" : "mIoU";
    w(&o, "`%s`\n\nTail frames: the worst %.0f %% by per-frame %s at %s. Accuracy = mean per-frame %s (%%); "
          "Mbps = mean bytes x 8 x %.0f fps over the group the choice was made for.\n\n",
      d->command, d->tail_pct, acc, cfg_name(d->ref_scale, d->ref_quality, a), acc, d->fps);
    w(&o, "| target Mbps | standard config | Mbps | acc std | acc tail | tail config | Mbps | acc std | acc tail |\n"
          "|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < d->ntargets; i++) {
        const ProfilePick *s = &d->target[i].standard, *t = &d->target[i].tail;
        char m1[32], m2[32];
        snprintf(m1, 32, s->scale ? "%.2f" : "-", s->mbps), snprintf(m2, 32, t->scale ? "%.2f" : "-", t->mbps);
        w(&o, "| %g | %s | %s | %s | %s |", d->target[i].mbps, cfg_name(s->scale, s->quality, a), m1, pct(s->acc_std, b),
          pct(s->acc_tail, c));
        w(&o, " %s | %s | %s | %s |\n", cfg_name(t->scale, t->quality, a), m2, pct(t->acc_std, b), pct(t->acc_tail, e));
    }
    char thr[48]; /* no crossing (a line that does not rise with the ratio) has no threshold */
    if (isfinite(d->threshold)) snprintf(thr, sizeof thr, "%.4f %%", 100 * d->threshold);
    else snprintf(thr, sizeof thr, "none (the fitted line does not rise)");
    w(&o, "\nTail-frame threshold on the %s (%s < %g of the frame): **%s** (fit: acc - cut = "
          "%.4f + %.4f x ratio, r2 %.3f, %d points); the threshold catching 90 %% of the training tail points would be %.4f %%.\n\n",
      det ? "share of small detections" : "small-region ratio", det ? "boxes" : "regions", d->small, thr, d->fit_a, d->fit_b, d->fit_r2, d->fit_n, 100 * d->threshold_recall90);
    w(&o, "| split | scale | frames | tail | predicted | recall %% | precision %% | recall / precision at 1 %% | "
          "at the recall-90 threshold | ratio ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
    checks_md(&o, d->split, d->train, d->ntrain);
    checks_md(&o, d->val_split, d->val, d->nval);
    w(&o, "\n| config | kB std | kB tail | acc std | acc tail | small ratio std %% | tail %% |\n|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < d->ncfg; i++) {
        const ProfileCfg *k = &d->cfg[i];
        w(&o, "| %s | %.2f | %.2f | %s | %s |", cfg_name(k->scale, k->quality, a), k->bytes_std / 1e3, k->bytes_tail / 1e3,
          pct(k->acc_std, b), pct(k->acc_tail, c));
        w(&o, " %.2f | %.2f |\n", 100 * k->ratio_std, 100 * k->ratio_tail);
    }
    w(&o, "\n| sweep | frames | measured | configs | wall s | load s | degrade s | SR s | task s | ratio s | s per frame-config |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|\n");
    timing_md(&o, d->split, &d->t_train, d->ncfg);
    timing_md(&o, d->val_split, &d->t_val, d->nval);
    if (fclose(o.f) != 0) return rn_fail("writing %s failed", path);
    return 0;
}

/* ---------------- figures ---------------- */

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int pareto_fig(const Sweep *s, const bool *tail, double fps, const char *stem, char *gp) {
    char path[4200];
    snprintf(path, sizeof path, "%s_pareto.dat", stem);
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("cannot write %s", path);
    bool *std = xmalloc((size_t)s->nframes);
    for (int i = 0; i < s->nframes; i++) std[i] = !tail[i];
    const bool *grp[2] = {std, tail};
    int *fr = xmalloc((size_t)s->nconfigs * sizeof *fr);
    for (int g = 0; g < 2; g++) {
        fprintf(f, "# %s: scale quality Mbps acc%%\n", g ? "tail" : "standard");
        for (int c = 0; c < s->nconfigs; c++) {
            GroupMean m = pareto_group_mean(s, grp[g], c);
            fprintf(f, "%d %d %.4f %.3f\n", s->cfg[c].scale, s->cfg[c].quality, 8 * m.bytes * fps / 1e6, 100 * m.acc);
        }
        fprintf(f, "\n\n# %s frontier\n", g ? "tail" : "standard");
        int n = pareto_frontier(s, grp[g], fr);
        for (int i = 0; i < n; i++) {
            GroupMean m = pareto_group_mean(s, grp[g], fr[i]);
            fprintf(f, "%d %d %.4f %.3f\n", s->cfg[fr[i]].scale, s->cfg[fr[i]].quality, 8 * m.bytes * fps / 1e6, 100 * m.acc);
        }
        fprintf(f, "\n\n");
    }
    free(std), free(fr);
    if (fclose(f) != 0) return rn_fail("writing %s failed", path);
    snprintf(gp, 4200, "%s_pareto.gp", stem);
    f = fopen(gp, "w");
    if (!f) return rn_fail("cannot write %s", gp);
    const char *b = base(stem);
    fprintf(f, "# %s_pareto.gp: bandwidth vs per-frame mIoU of every configuration, standard and tail frames, frontier joined\n"
               "%sset output '%s_pareto.png'\nset multiplot layout 1,2\nset logscale x\nset grid\n"
               "set xlabel 'Mbps at %.0f fps'\nset ylabel 'mean per-frame mIoU (%%)'\nset key bottom right\n",
            b, GP_TERM, b, fps);
    for (int g = 0; g < 2; g++)
        fprintf(f, "set title '%s frames'\nplot '%s_pareto.dat' index %d using 3:4:($1==1 ? sprintf(\"HR q%%d\", $2) : "
                   "sprintf(\"x%%d q%%d\", $1, $2)) with labels font ',7' offset 0,0.6 notitle, '' index %d using 3:4 with points pt 7 ps 0.6 "
                   "title 'configurations', '' index %d using 3:4 with linespoints lw 2 pt 6 title 'frontier'\n",
                g ? "tail" : "standard", b, 2 * g, 2 * g, 2 * g + 1);
    fprintf(f, "unset multiplot\n");
    return fclose(f) != 0 ? rn_fail("writing %s failed", gp) : 0;
}

static int fig8(const ProfileDoc *d, const Sweep *s, const char *split, const int *scales, int nscales, const char *stem,
                char *gp) {
    char path[4200];
    snprintf(path, sizeof path, "%s_fig8.dat", stem);
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("cannot write %s", path);
    int *idx = xmalloc((size_t)nscales * sizeof *idx), n = 0;
    double *acc = xmalloc((size_t)s->nframes * sizeof *acc);
    bool *t = xmalloc((size_t)s->nframes);
    for (int k = 0; k < nscales; k++) {
        int c = sweep_find(s, scales[k], d->ref_quality);
        if (c < 0) continue;
        idx[n++] = scales[k];
        for (int i = 0; i < s->nframes; i++) acc[i] = s->acc[(size_t)i * s->nconfigs + c];
        tail_mark(acc, s->nframes, d->tail_pct, t);
        fprintf(f, "# x%d q%d: small-region ratio %% / per-frame mIoU %% / tail\n", scales[k], d->ref_quality);
        for (int i = 0; i < s->nframes; i++) fprintf(f, "%.4f %.3f %d\n", 100 * s->ratio[(size_t)i * s->nconfigs + c], 100 * acc[i], t[i]);
        fprintf(f, "\n\n");
    }
    free(acc), free(t);
    if (fclose(f) != 0) return free(idx), rn_fail("writing %s failed", path);
    snprintf(gp, 4200, "%s_fig8.gp", stem);
    f = fopen(gp, "w");
    if (!f) return free(idx), rn_fail("cannot write %s", gp);
    const char *b = base(stem);
    fprintf(f, "# %s_fig8.gp: the paper's Fig. 8 — per-frame mIoU against the small-region ratio of the prediction, "
               "tail frames (worst %.0f %%) as red crosses, the fitted threshold dashed, the paper's 1 %% dotted\n"
               "%sset output '%s_fig8.png'\nset multiplot layout 1,%d\nset grid\nset xlabel 'small-region ratio (%%)'\n"
               "set ylabel 'per-frame mIoU (%%)'\nset key bottom right\n",
            b, d->tail_pct, GP_TERM, b, n ? n : 1);
    /* the fitted threshold dashed black, the paper's 1 % dotted grey */
    if (isfinite(d->threshold)) fprintf(f, "set arrow 1 from %.5f, graph 0 to %.5f, graph 1 nohead dt 2 lw 2\n", 100 * d->threshold, 100 * d->threshold);
    fprintf(f, "set arrow 2 from 1, graph 0 to 1, graph 1 nohead dt 3 lw 1 lc rgb 'grey50'\n");
    for (int k = 0; k < n; k++)
        fprintf(f, "set title 'x%d (%s)'\nplot '%s_fig8.dat' index %d using ($3==0?$1:1/0):2 with points pt 7 ps 0.5 lc rgb "
                   "'#3060c0' title 'frames', '' index %d using ($3==1?$1:1/0):2 with points pt 2 ps 1 lc rgb 'red' title 'tail'\n",
                idx[k], split, b, k, k);
    fprintf(f, "unset multiplot\n");
    free(idx);
    return fclose(f) != 0 ? rn_fail("writing %s failed", gp) : 0;
}

int profile_report_write(const ProfileDoc *d, const Sweep *train, const bool *tail, const Sweep *val, const int *scales,
                         int nscales, const char *stem, bool figures, FILE *echo) {
    TRY(summary(d, stem, echo));
    char gp1[4200], gp2[4200];
    TRY(pareto_fig(train, tail, d->fps, stem, gp1));
    TRY(fig8(d, val ? val : train, val ? d->val_split : d->split, scales, nscales, stem, gp2));
    if (!figures) return 0;
    char dir[4200];
    const char *slash = strrchr(stem, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - stem) : 1, slash ? stem : ".");
    report_gnuplot(dir, base(gp1), "profile");
    report_gnuplot(dir, base(gp2), "profile");
    return 0;
}
