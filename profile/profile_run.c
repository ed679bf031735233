/* profile_run.c: `rune profile` end to end — every bad input refused before the sweep, then the sweeps, the analysis and the files. */
#include "profile/profile_run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn/dist.h"
#include "profile/profile_report.h"
#include "profile/report.h"
#include "profile/tail_threshold.h"
#include "util/checksum.h"
#include "util/err.h"

int profile_parse_ints(const char *s, const char *flag, int lo, int hi, int *v, int cap) {
    int n = 0;
    for (const char *c = s; *c;) {
        char *end;
        long x = strtol(c, &end, 10);
        if (end == c || x < lo || x > hi || (*end && *end != ','))
            return rn_fail("--%s %s: want a comma-separated list of integers in %d..%d", flag, s, lo, hi);
        for (int i = 0; i < n; i++)
            if (v[i] == x) return rn_fail("--%s %s: %ld given twice", flag, s, x);
        if (n == cap) return rn_fail("--%s %s: more than %d values", flag, s, cap);
        v[n++] = (int)x;
        c = *end ? end + 1 : end;
    }
    return n;
}

int profile_parse_doubles(const char *s, const char *flag, double *v, int cap) {
    int n = 0;
    for (const char *c = s; *c;) {
        char *end;
        double x = strtod(c, &end);
        if (end == c || !(x > 0) || !isfinite(x) || (*end && *end != ','))
            return rn_fail("--%s %s: want a comma-separated list of positive numbers", flag, s);
        if (n == cap) return rn_fail("--%s %s: more than %d values", flag, s, cap);
        v[n++] = x;
        c = *end ? end + 1 : end;
    }
    return n ? n : rn_fail("--%s is empty", flag);
}

/* ---------------- the plan: everything checked before any frame is touched ---------------- */

typedef struct Plan {
    int scales[SWEEP_MAX_SCALE], nscales, q[100], nq, hrq[100], nhrq;
    double mbps[PROFILE_MAX_TARGETS];
    int ntargets;
    SweepConfig cfg[SWEEP_MAX_CONFIGS];
    int ncfg;
    SweepModels models;
    Dataset ds, vds;
    bool have_val;
    SweepTask task;
    char stem[4096];
} Plan;

static void plan_free(Plan *p) {
    for (int s = 0; s <= SWEEP_MAX_SCALE; s++)
        if (p->models.carn[s]) {
            Carn *m = p->models.carn[s];
            for (int t = s; t <= SWEEP_MAX_SCALE; t++) /* one checkpoint may serve several scales */
                if (p->models.carn[t] == m) p->models.carn[t] = NULL;
            carn_free(m);
        }
    sweep_task_close(&p->task);
    dataset_free(&p->ds);
    if (p->have_val) dataset_free(&p->vds);
}

/* --sr x2=A.h5,x4=B.h5,x6=bilinear: every scale needs an entry (a silent bilinear fallback would
 * profile a different system than the one deployed). */
static int plan_models(Plan *p, const char *spec, ProfileDoc *d) {
    char *buf = xstrdup(spec ? spec : ""), *save = NULL;
    const char *files[SWEEP_MAX_SCALE + 1] = {0};
    int rc = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        int s, off = 0;
        if (sscanf(tok, "x%d=%n", &s, &off) != 1 || !off || !tok[off] || s < 2 || s > SWEEP_MAX_SCALE)
            rc = rn_fail("--sr %s: want xS=FILE (S 2..%d) or xS=bilinear, comma-separated", tok, SWEEP_MAX_SCALE);
        else if (files[s]) rc = rn_fail("--sr: x%d given twice", s);
        else files[s] = tok + off;
    }
    for (int k = 0; k < p->nscales && rc == 0; k++) {
        int s = p->scales[k];
        ProfileModel *pm = &d->sr[d->nsr++];
        pm->scale = s;
        if (!files[s]) {
            rc = rn_fail("no SR model for x%d: give --sr x%d=FILE, or x%d=bilinear to profile bilinear upscaling", s, s, s);
            break;
        }
        snprintf(pm->file, sizeof pm->file, "%s", files[s]);
        if (!strcmp(files[s], "bilinear")) continue;
        for (int t = 0; t < k && !p->models.carn[s]; t++) /* the same file for two scales: load it once */
            if (!strcmp(d->sr[t].file, files[s]) && p->models.carn[p->scales[t]]) p->models.carn[s] = p->models.carn[p->scales[t]];
        if (!p->models.carn[s] && (rc = carn_load(files[s], &p->models.carn[s], NULL)) < 0) break;
        if (!carn_has_scale(p->models.carn[s], s)) rc = rn_fail("--sr x%d=%s: that model has no x%d head", s, files[s], s);
        else rc = file_checksum(files[s], pm->checksum);
    }
    free(buf);
    return rc;
}

void profile_opts_defaults(ProfileOpts *o) {
    *o = (ProfileOpts){.task_kind = "seg", .kind = "camvid", .split = "train", .val_split = "", .scales = "2,4,6,8",
                       .qualities = "30,40,50,60,70,80,90", .hr_qualities = "50,70,90", .targets = "auto", .reference = "",
                       .bytes_model = "all", .signal = "ratio", .fps = 30, .small = 0.01, .tail_pct = 10,
                       .recall_target = 0.9, .stride = 1, .val_stride = 1, .out = "profile.json", .progress = true,
                       .figures = true};
}

int profile_default_reference(const SweepConfig *cfg, int ncfg, int *scale, int *quality) {
    int hr = -1, lo = -1;
    for (int c = 0; c < ncfg; c++) {
        if (cfg[c].scale == 1 && (hr < 0 || cfg[c].quality > cfg[hr].quality)) hr = c;
        if (cfg[c].scale > 1 && (lo < 0 || cfg[c].scale < cfg[lo].scale ||
                                 (cfg[c].scale == cfg[lo].scale && cfg[c].quality > cfg[lo].quality)))
            lo = c;
    }
    int c = hr >= 0 ? hr : lo;
    if (c < 0) return -1;
    *scale = cfg[c].scale, *quality = cfg[c].quality;
    return hr < 0;
}

static int plan_configs(Plan *p, ProfileDoc *d, const char *reference) {
    for (int k = 0; k < p->nscales; k++)
        for (int j = 0; j < p->nq; j++) p->cfg[p->ncfg++] = (SweepConfig){p->scales[k], p->q[j]};
    for (int j = 0; j < p->nhrq; j++) p->cfg[p->ncfg++] = (SweepConfig){1, p->hrq[j]};
    if (reference && *reference) {
        if (sscanf(reference, "%d:%d", &d->ref_scale, &d->ref_quality) != 2)
            return rn_fail("--reference %s: want SCALE:QUALITY (e.g. 1:90; scale 1 = HR)", reference);
    } else if (profile_default_reference(p->cfg, p->ncfg, &d->ref_scale, &d->ref_quality) == 1 && dist_is_root())
        fprintf(stderr, "rune profile: no HR configurations (--hr-qualities \"\"): tail frames are marked at x%d q%d, "
                        "a degraded reference (its own failures favour other scales on them)\n",
                d->ref_scale, d->ref_quality);
    bool found = false;
    for (int c = 0; c < p->ncfg; c++) found |= p->cfg[c].scale == d->ref_scale && p->cfg[c].quality == d->ref_quality;
    if (!found) return rn_fail("--reference %d:%d is not among the profiled configurations", d->ref_scale, d->ref_quality);
    return 0;
}

/* An output we cannot write is found now, not after the sweep. */
static int plan_outputs(Plan *p, const ProfileOpts *o) {
    const char *dot = strrchr(o->out, '.'), *slash = strrchr(o->out, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - o->out) : strlen(o->out);
    if (stem >= sizeof p->stem - 32) return rn_fail("-o %s: path too long", o->out);
    memcpy(p->stem, o->out, stem), p->stem[stem] = 0;
    if (!dist_is_root()) return 0; /* rank 0 alone writes files */
    if (slash) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - o->out), o->out);
        if (*dir) TRY(report_mkdirs(dir));
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->out);
    FILE *f = fopen(tmp, "w");
    if (!f) return rn_fail("cannot write %s (%s): choose another -o", tmp, strerror(errno));
    fclose(f), unlink(tmp);
    return 0;
}

/* The analysis' settings, checked before the sweep rather than after an hour of it. */
static int plan_analysis(const ProfileOpts *o) {
    if (strcmp(o->bytes_model, "all") && strcmp(o->bytes_model, "own"))
        return rn_fail("--bytes-model %s: all (every configuration costs its mean bytes over all frames) or own", o->bytes_model);
    SignalId id;
    if (strcmp(o->signal, "auto") && signal_parse(o->signal, &id) < 0) return rn_fail("--signal: %s, or auto", rn_errmsg());
    if (!(o->recall_target > 0 && o->recall_target <= 1)) return rn_fail("--recall-target %g: must be in (0, 1]", o->recall_target);
    return 0;
}

static int plan_build(Plan *p, const ProfileOpts *o, ProfileDoc *d) {
    TRY(p->nscales = profile_parse_ints(o->scales, "scales", 2, SWEEP_MAX_SCALE, p->scales, SWEEP_MAX_SCALE));
    TRY(p->nq = profile_parse_ints(o->qualities, "qualities", 1, 100, p->q, 100));
    TRY(p->nhrq = profile_parse_ints(o->hr_qualities ? o->hr_qualities : "", "hr-qualities", 1, 100, p->hrq, 100));
    if (strcmp(o->targets, "auto")) /* auto: ntargets 0, the analysis finds them */
        TRY(p->ntargets = profile_parse_doubles(o->targets, "targets", p->mbps, PROFILE_MAX_TARGETS));
    if (!p->nscales || !p->nq) return rn_fail("--scales and --qualities must not be empty");
    if (p->nscales * p->nq + p->nhrq > SWEEP_MAX_CONFIGS) return rn_fail("more than %d configurations", SWEEP_MAX_CONFIGS);
    if (!(o->fps > 0) || !(o->small > 0 && o->small < 1) || !(o->tail_pct > 0 && o->tail_pct < 100) || o->stride < 1 ||
        o->val_stride < 1 || o->frames < 0 || o->val_frames < 0)
        return rn_fail("bad number: --fps > 0, 0 < --small < 1, 0 < --tail-pct < 100, --stride >= 1, --frames >= 0");
    TRY(plan_analysis(o));
    TRY(plan_configs(p, d, o->reference));
    TRY(plan_outputs(p, o));
    TRY(dataset_open(o->kind, o->data, o->split, &p->ds));
    if (o->val_split && *o->val_split) {
        TRY(dataset_open(o->kind, o->data, o->val_split, &p->vds));
        p->have_val = true;
    }
    bool det = o->task_kind && !strcmp(o->task_kind, "det");
    if (o->task_kind && !det && strcmp(o->task_kind, "seg")) return rn_fail("--task-kind %s: seg or det", o->task_kind);
    TRY(det ? sweep_task_det(&p->task, o->task, o->weights) : sweep_task_seg(&p->task, o->task, o->arch, o->norm));
    if (p->task.classes != p->ds.nclasses)
        return rn_fail("%s predicts %d classes but %s has %d: a task model for another dataset", o->task, p->task.classes,
                       p->ds.name, p->ds.nclasses);
    TRY(file_checksum(o->task, d->task_checksum));
    if (o->weights && *o->weights) {
        snprintf(d->task_weights, sizeof d->task_weights, "%s", o->weights);
        TRY(file_checksum(o->weights, d->task_weights_checksum));
    }
    return plan_models(p, o->sr, d);
}

/* ---------------- the run ---------------- */

static void doc_header(ProfileDoc *d, const ProfileOpts *o, const Plan *p) {
    d->version = PROFILE_VERSION;
    snprintf(d->command, sizeof d->command, "%s", o->command ? o->command : "rune profile");
    time_t now = time(NULL);
    strftime(d->created, sizeof d->created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(d->task_kind, sizeof d->task_kind, "%s", p->task.kind);
    snprintf(d->data, sizeof d->data, "%s", o->data), snprintf(d->kind, sizeof d->kind, "%s", o->kind);
    snprintf(d->split, sizeof d->split, "%s", o->split);
    snprintf(d->val_split, sizeof d->val_split, "%s", p->have_val ? o->val_split : "");
    snprintf(d->task_file, sizeof d->task_file, "%s", o->task);
    d->dataset_frames = p->ds.n, d->stride = o->stride, d->max_frames = o->frames, d->classes = p->ds.nclasses;
    d->small = o->small, d->tail_pct = o->tail_pct, d->fps = o->fps, d->recall_target = o->recall_target;
    snprintf(d->bytes_model, sizeof d->bytes_model, "%s", o->bytes_model);
    snprintf(d->signal, sizeof d->signal, "%s", o->signal);
}

static void timing_of(ProfileTiming *t, const Sweep *s) {
    *t = (ProfileTiming){s->nframes, s->measured, s->t_wall, s->t_load, s->t_degrade, s->t_sr, s->t_task, s->t_ratio};
}

static int sweep_split(Sweep *s, const Plan *p, const Dataset *ds, const SweepConfig *cfg, int ncfg, int stride, int frames,
                       const ProfileOpts *o, const char *tag) {
    sweep_init(s, ds, stride, frames, cfg, ncfg, p->task.per_class);
    /* agreed over ranks: one rank that cannot read a frame must not leave the others in the sweep's gathers */
    TRY(dist_all_ok(s->nframes == 0 ? rn_fail("%s: no frames to profile", ds->name) : sweep_check(s, ds, &p->task, &p->models)));
    char csv[4200], what[64];
    snprintf(csv, sizeof csv, "%s_%s.csv", p->stem, tag);
    snprintf(what, sizeof what, "profile %s", tag);
    if (dist_is_root())
        fprintf(stderr, "rune profile: %s: %d frames x %d configurations -> %s%s\n", ds->name, s->nframes, ncfg, csv,
                dist_size() > 1 ? ", frames split over the ranks" : "");
    SweepOpts so = {.small = o->small, .tile = o->tile, .csv = csv, .resume = o->resume, .progress = o->progress, .what = what};
    return sweep_run(s, ds, &p->task, &p->models, &so);
}

/* Rank 0, which holds every frame's numbers after the sweeps: the analysis, profile.json, the
 * report and the figures. */
static int profile_finish(ProfileDoc *d, const Plan *p, Sweep *tr, Sweep *va, const ProfileOpts *o) {
    bool *tail = xmalloc((size_t)(tr->nframes ? tr->nframes : 1));
    int rc = profile_analyze(d, tr, p->have_val ? va : NULL, p->mbps, p->ntargets, tail);
    timing_of(&d->t_train, tr), timing_of(&d->t_val, va);
    if (rc == 0) rc = profile_json_write(d, o->out);
    if (rc == 0)
        rc = profile_report_write(d, tr, tail, p->have_val ? va : NULL, p->stem, o->figures, stdout);
    if (rc == 0)
        fprintf(stderr, "rune profile: wrote %s, %s.md, %s_train.csv%s\n", o->out, p->stem, p->stem,
                p->have_val ? " and the val CSV" : "");
    free(tail);
    return rc;
}

/* Under mpirun every rank plans (each loads the data and models it measures with) and measures its
 * share of the frames; rank 0 gathers them and alone analyses and writes (nn/dist.h). One process
 * is rank 0 of 1. */
int profile_run(const ProfileOpts *o) {
    Plan p = {0};
    ProfileDoc d = {0};
    Sweep tr = {0}, va = {0};
    int rc = dist_all_ok(plan_build(&p, o, &d));
    if (rc == 0) {
        doc_header(&d, o, &p);
        rc = sweep_split(&tr, &p, &p.ds, p.cfg, p.ncfg, o->stride, o->frames, o, "train");
    }
    if (rc == 0 && p.have_val) {
        /* every configuration: val's tail frames need the reference, and each configuration's detector
         * (the cloud may receive any of them) is checked on val */
        rc = sweep_split(&va, &p, &p.vds, p.cfg, p.ncfg, o->val_stride, o->val_frames, o, "val");
        d.val_frames = va.nframes;
    }
    if (rc == 0 && dist_is_root()) rc = profile_finish(&d, &p, &tr, &va, o);
    rc = dist_all_ok(rc); /* every rank ends as rank 0 did */
    sweep_free(&tr), sweep_free(&va);
    profile_doc_free(&d);
    plan_free(&p);
    return rc;
}
