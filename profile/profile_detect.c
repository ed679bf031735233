/* profile_detect.c: the tail-frame detectors of a profile — tail classes, the tail_share column, every signal evaluated per scale, one detector per configuration. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profile/detector.h"
#include "profile/profile_run.h"
#include "profile/tail.h"
#include "util/err.h"

double profile_signal_value(const Sweep *s, int sig, int f, int c) {
    size_t at = (size_t)f * s->nconfigs + c;
    if (s->sig[sig]) return s->sig[sig][at];
    return sig == SIG_RATIO && s->ratio ? s->ratio[at] : NAN;
}

int profile_scale_config(const ProfileDoc *d, const Sweep *s, int scale) {
    if (scale == d->ref_scale) return sweep_find(s, scale, d->ref_quality);
    int best = -1;
    for (int c = 0; c < s->nconfigs; c++)
        if (s->cfg[c].scale == scale && (best < 0 || s->cfg[c].quality > s->cfg[best].quality)) best = c;
    return best;
}

void profile_tail_classes(ProfileDoc *d, const Sweep *s, int c) {
    d->ntail_classes = 0;
    int k = s->k < SIG_MAX_CLASSES ? s->k : SIG_MAX_CLASSES;
    if (!s->px || !s->tp || !s->lab || k <= 0 || c < 0) return;
    double iou[SIG_MAX_CLASSES];
    int ranked[SIG_MAX_CLASSES];
    for (int cls = 0; cls < k; cls++) {
        long long tp = 0, px = 0, lab = 0;
        for (int f = 0; f < s->nframes; f++) {
            size_t at = ((size_t)f * s->nconfigs + c) * s->k + cls;
            tp += s->tp[at], px += s->px[at], lab += s->lab[at];
        }
        long long uni = px + lab - tp; /* as confusion_iou: NaN where the class is neither predicted nor labelled */
        iou[cls] = uni > 0 ? (double)tp / (double)uni : NAN;
    }
    d->ntail_classes = tail_worse_half(iou, k, ranked);
    memcpy(d->tail_classes, ranked, (size_t)d->ntail_classes * sizeof *ranked);
}

void profile_fill_tail_share(const ProfileDoc *d, Sweep *s) {
    if (!s->px || s->k <= 0 || s->k > SIG_MAX_CLASSES) return;
    bool cls[SIG_MAX_CLASSES] = {0};
    for (int i = 0; i < d->ntail_classes; i++) cls[d->tail_classes[i]] = true;
    size_t m = (size_t)s->nframes * s->nconfigs;
    if (!s->sig[SIG_TAIL_SHARE]) s->sig[SIG_TAIL_SHARE] = xmalloc((m ? m : 1) * sizeof(double));
    for (size_t at = 0; at < m; at++) s->sig[SIG_TAIL_SHARE][at] = signals_tail_share(s->px + at * s->k, s->k, cls);
}

/* Signal sig of every frame at configuration c (malloc'ed; NaN where c < 0). */
static double *column(const Sweep *s, int sig, int c) {
    double *v = xmalloc((size_t)(s->nframes ? s->nframes : 1) * sizeof *v);
    for (int f = 0; f < s->nframes; f++) v[f] = c >= 0 ? profile_signal_value(s, sig, f, c) : NAN;
    return v;
}

/* The detector of signal sig fitted on train at configuration ct and checked on val at cv. */
typedef struct DetRun {
    DetFit fit;
    double val_auc_low;
    DetScore val, val_other;
} DetRun;

static void det_run(const ProfileDoc *d, int sig, const Sweep *tr, const bool *tail, int ct, const Sweep *va,
                    const bool *vtail, int cv, DetRun *r) {
    double *v = column(tr, sig, ct);
    detector_fit(v, tail, tr->nframes, signal_default_direction((SignalId)sig), d->recall_target, &r->fit);
    free(v);
    r->val_auc_low = NAN;
    r->val = r->val_other = (DetScore){.recall = NAN, .precision = NAN};
    if (!va || cv < 0) return;
    v = column(va, sig, cv);
    r->val_auc_low = detector_auc(v, vtail, va->nframes);
    r->val = detector_score(v, vtail, va->nframes, r->fit.direction, r->fit.threshold);
    r->val_other = detector_score(v, vtail, va->nframes, -r->fit.direction, r->fit.threshold_other);
    free(v);
}

/* An AUC of the low direction turned to the given direction. */
static double in_dir(double auc_low, int direction) { return direction > 0 ? auc_low : 1 - auc_low; }

int profile_signal_evals(ProfileDoc *d, const Sweep *tr, const bool *tail, const Sweep *va, const bool *vtail) {
    int sc[SWEEP_MAX_SCALE], nsc = sweep_scales(tr, sc), best = SIG_RATIO;
    double best_score = -1;
    d->nsig = 0;
    for (int sig = 0; sig < SIG_N; sig++) {
        double sum = 0;
        int nsum = 0;
        for (int i = 0; i < nsc; i++) {
            int ct = profile_scale_config(d, tr, sc[i]);
            const SweepConfig *k = &tr->cfg[ct];
            DetRun r;
            det_run(d, sig, tr, tail, ct, va, vtail, va ? sweep_find(va, k->scale, k->quality) : -1, &r);
            d->sig[d->nsig++] = (ProfileSignalEval){sig, k->scale, k->quality, r.fit.auc_low, r.val_auc_low, r.fit.direction,
                                                    r.val.recall, r.val.precision};
            /* direction and threshold are fitted on train; the signal is a hyper-parameter, chosen on val
             * where there is one (its AUC in the train direction: a signal whose train direction turns
             * over on val is worse than none), else by the train AUC in that direction */
            double auc = va ? in_dir(r.val_auc_low, r.fit.direction) : in_dir(r.fit.auc_low, r.fit.direction);
            if (isfinite(auc)) sum += auc, nsum++;
        }
        /* the best mean AUC over the scales; ties keep the earlier signal (ratio first) */
        if (nsum && sum / nsum > best_score) best_score = sum / nsum, best = sig;
    }
    return best;
}

void profile_detectors(ProfileDoc *d, int sig, const Sweep *tr, const bool *tail, const Sweep *va, const bool *vtail) {
    d->ndet = 0;
    for (int c = 0; c < tr->nconfigs; c++) {
        const SweepConfig *k = &tr->cfg[c];
        DetRun r;
        det_run(d, sig, tr, tail, c, va, vtail, va ? sweep_find(va, k->scale, k->quality) : -1, &r);
        ProfileDetector *o = &d->det[d->ndet++];
        *o = (ProfileDetector){.scale = k->scale, .quality = k->quality, .direction = r.fit.direction,
                               .from_data = r.fit.from_data, .threshold = r.fit.threshold};
        o->train_n = r.fit.score.n, o->train_tail = r.fit.score.ntail;
        o->train_auc = in_dir(r.fit.auc_low, o->direction);
        o->train_recall = r.fit.score.recall, o->train_precision = r.fit.score.precision;
        o->val_n = va ? r.val.n : 0, o->val_tail = va ? r.val.ntail : 0;
        o->val_auc = in_dir(r.val_auc_low, o->direction);
        o->val_recall = r.val.recall, o->val_precision = r.val.precision;
        o->val_recall_other = r.val_other.recall, o->val_precision_other = r.val_other.precision;
    }
}
