/* profile_json.c: profile.json through jansson — write (NaN as null, temp file renamed) and read back with checked fields. */
#include "profile/profile_json.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* ---------------- writing ---------------- */

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *cfg_json(const ProfileCfg *c) {
    return json_pack("{s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "scale", c->scale, "quality", c->quality, "bytes_std",
                     num(c->bytes_std), "bytes_tail", num(c->bytes_tail), "acc_std", num(c->acc_std), "acc_tail",
                     num(c->acc_tail), "ratio_std", num(c->ratio_std), "ratio_tail", num(c->ratio_tail));
}

static json_t *pick_json(const ProfilePick *p) {
    if (p->scale == 0) return json_null();
    return json_pack("{s:i,s:i,s:o,s:o,s:o}", "scale", p->scale, "quality", p->quality, "acc_std", num(p->acc_std),
                     "acc_tail", num(p->acc_tail), "mbps", num(p->mbps));
}

static json_t *check_json(const ProfileCheck *c) {
    return json_pack("{s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "scale", c->scale, "frames", c->frames, "tail",
                     c->tail, "predicted", c->predicted, "hits", c->hits, "recall", num(c->recall), "precision",
                     num(c->precision), "recall_1pct", num(c->recall_1pct), "precision_1pct", num(c->precision_1pct),
                     "recall_r90", num(c->recall_r90), "precision_r90", num(c->precision_r90), "ratio_ms", num(c->ratio_ms));
}

static json_t *gain_json(const ProfileGain *g) {
    return json_pack("{s:o,s:o,s:o,s:i}", "mean", num(g->mean), "lo", num(g->lo), "hi", num(g->hi), "n", g->n);
}

static json_t *target_json(const ProfileTarget *t) {
    return json_pack("{s:o,s:o,s:o,s:o,s:o}", "mbps", num(t->mbps), "standard", pick_json(&t->standard), "tail",
                     pick_json(&t->tail), "gain_tail", gain_json(&t->gain_tail), "gain_std", gain_json(&t->gain_std));
}

static json_t *det_json(const ProfileDetector *e) {
    json_t *j = json_pack("{s:i,s:i,s:i,s:b,s:o,s:i,s:i,s:o,s:o,s:o}", "scale", e->scale, "quality", e->quality, "direction",
                          e->direction, "from_data", e->from_data, "threshold", num(e->threshold), "train_n", e->train_n,
                          "train_tail", e->train_tail, "train_auc", num(e->train_auc), "train_recall", num(e->train_recall),
                          "train_precision", num(e->train_precision));
    json_t *v = json_pack("{s:i,s:i,s:o,s:o,s:o,s:o,s:o}", "val_n", e->val_n, "val_tail", e->val_tail, "val_auc",
                          num(e->val_auc), "val_recall", num(e->val_recall), "val_precision", num(e->val_precision),
                          "val_recall_other", num(e->val_recall_other), "val_precision_other", num(e->val_precision_other));
    json_object_update(j, v);
    json_decref(v);
    return j;
}

static json_t *sig_json(const ProfileSignalEval *e) {
    return json_pack("{s:s,s:i,s:i,s:o,s:o,s:i,s:o,s:o}", "signal", signal_name((SignalId)e->signal), "scale", e->scale,
                     "quality", e->quality, "train_auc", num(e->train_auc), "val_auc", num(e->val_auc), "direction",
                     e->direction, "val_recall", num(e->val_recall), "val_precision", num(e->val_precision));
}

static json_t *knob_json(int scale, int quality) {
    return scale ? json_pack("{s:i,s:i}", "scale", scale, "quality", quality) : json_null();
}

static json_t *share_json(const ProfileShare *e) {
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "mbps", num(e->mbps), "k", num(e->k), "flag",
                     knob_json(e->flag_scale, e->flag_quality), "other", knob_json(e->other_scale, e->other_quality),
                     "flagged", num(e->flagged), "p10", num(e->p10), "mean", num(e->mean), "p10_standard",
                     num(e->p10_standard), "mean_standard", num(e->mean_standard));
}

/* The version-2 parts (issue 22): the analysis settings, the tail cut-offs and classes, the detectors,
 * the signal evaluations and cac-share. */
static void v2_json(json_t *j, const ProfileDoc *d) {
    json_t *st = json_object_get(j, "settings"), *tc = json_array(), *det = json_array(), *sig = json_array(),
           *sh = json_array();
    json_object_set_new(st, "bytes_model", json_string(d->bytes_model));
    json_object_set_new(st, "signal", json_string(d->signal));
    json_object_set_new(st, "recall_target", num(d->recall_target));
    for (int i = 0; i < d->ntail_classes; i++) json_array_append_new(tc, json_integer(d->tail_classes[i]));
    for (int i = 0; i < d->ndet; i++) json_array_append_new(det, det_json(&d->det[i]));
    for (int i = 0; i < d->nsig; i++) json_array_append_new(sig, sig_json(&d->sig[i]));
    for (int i = 0; i < d->nshare; i++) json_array_append_new(sh, share_json(&d->share[i]));
    json_object_set_new(j, "tail_cutoff", num(d->tail_cutoff));
    json_object_set_new(j, "tail5_cutoff", num(d->tail5_cutoff));
    json_object_set_new(j, "tail_classes", tc);
    json_object_set_new(j, "detectors", det);
    json_object_set_new(j, "signals", sig);
    json_object_set_new(j, "share", sh);
}

static json_t *timing_json(const ProfileTiming *t) {
    return json_pack("{s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "frames", t->frames, "measured", t->measured, "wall_s",
                     num(t->wall), "load_s", num(t->load), "degrade_s", num(t->degrade), "sr_s", num(t->sr), "task_s",
                     num(t->task), "ratio_s", num(t->ratio));
}

static json_t *doc_json(const ProfileDoc *d) {
    json_t *sr = json_array(), *cfg = json_array(), *tail = json_array(), *tg = json_array(), *tr = json_array(),
           *va = json_array();
    for (int i = 0; i < d->nsr; i++)
        json_array_append_new(sr, json_pack("{s:i,s:s,s:s}", "scale", d->sr[i].scale, "file", d->sr[i].file, "checksum",
                                            d->sr[i].checksum));
    for (int i = 0; i < d->ncfg; i++) json_array_append_new(cfg, cfg_json(&d->cfg[i]));
    for (int i = 0; i < d->ntail; i++) json_array_append_new(tail, json_string(d->tail_frames[i]));
    for (int i = 0; i < d->ntargets; i++) json_array_append_new(tg, target_json(&d->target[i]));
    for (int i = 0; i < d->ntrain; i++) json_array_append_new(tr, check_json(&d->train[i]));
    for (int i = 0; i < d->nval; i++) json_array_append_new(va, check_json(&d->val[i]));
    return json_pack(
        "{s:s,s:i,s:s,s:s,s:s,"
        "s:{s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:i},"
        "s:{s:s,s:s,s:s,s:s,s:i},s:o,"
        "s:{s:o,s:o,s:o,s:{s:i,s:i}},"
        "s:o,s:o,s:o,"
        "s:{s:o,s:s,s:{s:o,s:o,s:o,s:i},s:o,s:o,s:o},"
        "s:{s:o,s:o}}",
        "format", PROFILE_FORMAT, "version", d->version, "command", d->command, "created", d->created, "task_kind",
        d->task_kind, "dataset", "root", d->data, "kind", d->kind, "split", d->split, "val_split", d->val_split,
        "dataset_frames", d->dataset_frames, "stride", d->stride, "max_frames", d->max_frames, "frames", d->nframes,
        "val_frames", d->val_frames, "task", "file", d->task_file, "checksum", d->task_checksum, "weights", d->task_weights,
        "weights_checksum", d->task_weights_checksum, "classes", d->classes,
        "sr", sr, "settings", "small", num(d->small), "tail_pct", num(d->tail_pct), "fps", num(d->fps), "reference",
        "scale", d->ref_scale, "quality", d->ref_quality, "configs", cfg, "tail_frames", tail, "targets", tg,
        "threshold", "value", num(d->threshold), "rule",
        "the paper's: linear regression of (accuracy - the scale's tail cut-off) on the small-region ratio, pooled "
        "over the scales at their highest quality; threshold = where the line meets the cut-off (a report: CAC "
        "reads detectors[])",
        "fit", "a", num(d->fit_a), "b", num(d->fit_b), "r2", num(d->fit_r2), "n", d->fit_n, "recall90",
        num(d->threshold_recall90), "train", tr, "val", va, "timing", "train", timing_json(&d->t_train), "val",
        timing_json(&d->t_val));
}

int profile_json_write(const ProfileDoc *d, const char *path) {
    json_t *j = doc_json(d);
    if (!j) return rn_fail("%s: building the JSON failed (a string not UTF-8?)", path);
    v2_json(j, d);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = json_dump_file(j, tmp, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    json_decref(j);
    if (rc != 0) return rn_fail("cannot write %s", tmp);
    if (rename(tmp, path) != 0) return rn_fail("cannot rename %s to %s", tmp, path);
    return 0;
}

/* ---------------- reading ---------------- */

typedef struct Rd {
    const char *path;
    int rc;
} Rd;

static json_t *get(Rd *r, json_t *o, const char *key, const char *where) {
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    if (!v && r->rc == 0) r->rc = rn_fail("%s: %s.%s missing", r->path, where, key);
    return v;
}
static double rd_num(Rd *r, json_t *o, const char *key, const char *where) {
    json_t *v = get(r, o, key, where);
    if (!v || json_is_null(v)) return NAN;
    if (!json_is_number(v) && r->rc == 0) r->rc = rn_fail("%s: %s.%s is not a number", r->path, where, key);
    return json_number_value(v);
}
/* A diagnostic added within version 1 (the recall-90 columns): absent in the earliest version-1
 * files (the first results/serve profile, in git history), so absent reads as NaN rather than an error. */
static double rd_num_opt(Rd *r, json_t *o, const char *key, const char *where) {
    return json_object_get(o, key) ? rd_num(r, o, key, where) : NAN;
}
static int rd_int(Rd *r, json_t *o, const char *key, const char *where) {
    json_t *v = get(r, o, key, where);
    if (v && !json_is_integer(v) && r->rc == 0) r->rc = rn_fail("%s: %s.%s is not an integer", r->path, where, key);
    json_int_t x = v ? json_integer_value(v) : 0;
    if ((x < INT_MIN || x > INT_MAX) && r->rc == 0) r->rc = rn_fail("%s: %s.%s %lld: out of range", r->path, where, key, (long long)x);
    return x < INT_MIN || x > INT_MAX ? 0 : (int)x; /* a wrapped value must not pass the range checks */
}
static void rd_str(Rd *r, json_t *o, const char *key, const char *where, char *dst, size_t cap) {
    json_t *v = get(r, o, key, where);
    if (v && !json_is_string(v) && r->rc == 0) r->rc = rn_fail("%s: %s.%s is not a string", r->path, where, key);
    snprintf(dst, cap, "%s", v && json_is_string(v) ? json_string_value(v) : "");
}
static json_t *rd_arr(Rd *r, json_t *o, const char *key, const char *where, size_t max, int *n) {
    json_t *v = get(r, o, key, where);
    *n = 0;
    if (v && !json_is_array(v)) return r->rc = r->rc ? r->rc : rn_fail("%s: %s.%s is not an array", r->path, where, key), NULL;
    if (v && json_array_size(v) > max) return r->rc = r->rc ? r->rc : rn_fail("%s: %s.%s has more than %zu entries", r->path, where, key, max), NULL;
    *n = v ? (int)json_array_size(v) : 0;
    return v;
}

static void rd_pick(Rd *r, json_t *v, ProfilePick *p) {
    memset(p, 0, sizeof *p);
    if (!v || json_is_null(v)) return;
    p->scale = rd_int(r, v, "scale", "targets[]"), p->quality = rd_int(r, v, "quality", "targets[]");
    p->acc_std = rd_num(r, v, "acc_std", "targets[]"), p->acc_tail = rd_num(r, v, "acc_tail", "targets[]");
    p->mbps = rd_num(r, v, "mbps", "targets[]");
}

static void rd_gain(Rd *r, json_t *v, ProfileGain *g, const char *w) {
    g->mean = rd_num(r, v, "mean", w), g->lo = rd_num(r, v, "lo", w), g->hi = rd_num(r, v, "hi", w), g->n = rd_int(r, v, "n", w);
}

static bool rd_bool(Rd *r, json_t *o, const char *key, const char *where) {
    json_t *v = get(r, o, key, where);
    if (v && !json_is_boolean(v) && r->rc == 0) r->rc = rn_fail("%s: %s.%s is not true/false", r->path, where, key);
    return v && json_is_true(v);
}

static void rd_det(Rd *r, json_t *v, ProfileDetector *e) {
    const char *w = "detectors[]";
    e->scale = rd_int(r, v, "scale", w), e->quality = rd_int(r, v, "quality", w), e->direction = rd_int(r, v, "direction", w);
    e->from_data = rd_bool(r, v, "from_data", w), e->threshold = rd_num(r, v, "threshold", w);
    e->train_n = rd_int(r, v, "train_n", w), e->train_tail = rd_int(r, v, "train_tail", w);
    e->train_auc = rd_num(r, v, "train_auc", w), e->train_recall = rd_num(r, v, "train_recall", w);
    e->train_precision = rd_num(r, v, "train_precision", w);
    e->val_n = rd_int(r, v, "val_n", w), e->val_tail = rd_int(r, v, "val_tail", w), e->val_auc = rd_num(r, v, "val_auc", w);
    e->val_recall = rd_num(r, v, "val_recall", w), e->val_precision = rd_num(r, v, "val_precision", w);
    e->val_recall_other = rd_num(r, v, "val_recall_other", w);
    e->val_precision_other = rd_num(r, v, "val_precision_other", w);
}

/* A signal by name (an unknown one fails the read: CAC could not compute it). */
static int rd_signal(Rd *r, json_t *o, const char *key, const char *where, char *name, size_t cap) {
    rd_str(r, o, key, where, name, cap);
    SignalId id = SIG_RATIO;
    if (r->rc == 0 && signal_parse(name, &id) < 0) r->rc = rn_fail("%s: %s.%s: %s", r->path, where, key, rn_errmsg());
    return id;
}

static void rd_sig(Rd *r, json_t *v, ProfileSignalEval *e) {
    const char *w = "signals[]";
    char name[32];
    e->signal = rd_signal(r, v, "signal", w, name, sizeof name);
    e->scale = rd_int(r, v, "scale", w), e->quality = rd_int(r, v, "quality", w);
    e->train_auc = rd_num(r, v, "train_auc", w), e->val_auc = rd_num(r, v, "val_auc", w);
    e->direction = rd_int(r, v, "direction", w);
    e->val_recall = rd_num(r, v, "val_recall", w), e->val_precision = rd_num(r, v, "val_precision", w);
}

/* A configuration object, or null (scale 0: none). */
static void rd_knob(Rd *r, json_t *v, int *scale, int *quality, const char *w) {
    *scale = *quality = 0;
    if (!v || json_is_null(v)) return;
    *scale = rd_int(r, v, "scale", w), *quality = rd_int(r, v, "quality", w);
}

static void rd_share(Rd *r, json_t *v, ProfileShare *e) {
    const char *w = "share[]";
    e->mbps = rd_num(r, v, "mbps", w), e->k = rd_num(r, v, "k", w);
    rd_knob(r, get(r, v, "flag", w), &e->flag_scale, &e->flag_quality, "share[].flag");
    rd_knob(r, get(r, v, "other", w), &e->other_scale, &e->other_quality, "share[].other");
    e->flagged = rd_num(r, v, "flagged", w), e->p10 = rd_num(r, v, "p10", w), e->mean = rd_num(r, v, "mean", w);
    e->p10_standard = rd_num(r, v, "p10_standard", w), e->mean_standard = rd_num(r, v, "mean_standard", w);
}

/* The version-2 fields. */
static void rd_v2(Rd *r, json_t *j, ProfileDoc *d) {
    json_t *st = get(r, j, "settings", "");
    rd_str(r, st, "bytes_model", "settings", d->bytes_model, sizeof d->bytes_model);
    rd_signal(r, st, "signal", "settings", d->signal, sizeof d->signal);
    d->recall_target = rd_num(r, st, "recall_target", "settings");
    d->tail_cutoff = rd_num(r, j, "tail_cutoff", ""), d->tail5_cutoff = rd_num(r, j, "tail5_cutoff", "");
    json_t *a = rd_arr(r, j, "tail_classes", "", SIG_MAX_CLASSES, &d->ntail_classes);
    for (int i = 0; i < d->ntail_classes && r->rc == 0; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v)) r->rc = rn_fail("%s: tail_classes[%d] is not an integer", r->path, i);
        else d->tail_classes[i] = (int)json_integer_value(v);
    }
    a = rd_arr(r, j, "detectors", "", SWEEP_MAX_CONFIGS, &d->ndet);
    for (int i = 0; i < d->ndet && r->rc == 0; i++) rd_det(r, json_array_get(a, i), &d->det[i]);
    a = rd_arr(r, j, "signals", "", SIG_N * SWEEP_MAX_SCALE, &d->nsig);
    for (int i = 0; i < d->nsig && r->rc == 0; i++) rd_sig(r, json_array_get(a, i), &d->sig[i]);
    a = rd_arr(r, j, "share", "", PROFILE_MAX_TARGETS, &d->nshare);
    for (int i = 0; i < d->nshare && r->rc == 0; i++) rd_share(r, json_array_get(a, i), &d->share[i]);
}

static void rd_check(Rd *r, json_t *v, ProfileCheck *c) {
    const char *w = "threshold.checks[]";
    c->scale = rd_int(r, v, "scale", w), c->frames = rd_int(r, v, "frames", w), c->tail = rd_int(r, v, "tail", w);
    c->predicted = rd_int(r, v, "predicted", w), c->hits = rd_int(r, v, "hits", w);
    c->recall = rd_num(r, v, "recall", w), c->precision = rd_num(r, v, "precision", w);
    c->recall_1pct = rd_num(r, v, "recall_1pct", w), c->precision_1pct = rd_num(r, v, "precision_1pct", w);
    c->recall_r90 = rd_num_opt(r, v, "recall_r90", w), c->precision_r90 = rd_num_opt(r, v, "precision_r90", w);
    c->ratio_ms = rd_num(r, v, "ratio_ms", w);
}

static void rd_timing(Rd *r, json_t *v, ProfileTiming *t) {
    const char *w = "timing";
    t->frames = rd_int(r, v, "frames", w), t->measured = rd_int(r, v, "measured", w);
    t->wall = rd_num(r, v, "wall_s", w), t->load = rd_num(r, v, "load_s", w), t->degrade = rd_num(r, v, "degrade_s", w);
    t->sr = rd_num(r, v, "sr_s", w), t->task = rd_num(r, v, "task_s", w), t->ratio = rd_num(r, v, "ratio_s", w);
}

static void rd_doc(Rd *r, json_t *j, ProfileDoc *d) {
    char fmt[32];
    rd_str(r, j, "format", "", fmt, sizeof fmt);
    d->version = rd_int(r, j, "version", "");
    if (r->rc == 0 && strcmp(fmt, PROFILE_FORMAT)) r->rc = rn_fail("%s: format %s, not %s", r->path, fmt, PROFILE_FORMAT);
    if (r->rc == 0 && d->version != PROFILE_VERSION) /* v1 has no detectors: nothing to read CAC's flags from */
        r->rc = rn_fail("%s: %s version %d; this rune reads version %d (per-configuration detectors, HR tail frames): "
                        "re-run rune profile", r->path, PROFILE_FORMAT, d->version, PROFILE_VERSION);
    if (r->rc) return;
    rd_str(r, j, "command", "", d->command, sizeof d->command);
    rd_str(r, j, "created", "", d->created, sizeof d->created);
    rd_str(r, j, "task_kind", "", d->task_kind, sizeof d->task_kind);
    json_t *ds = get(r, j, "dataset", "");
    rd_str(r, ds, "root", "dataset", d->data, sizeof d->data), rd_str(r, ds, "kind", "dataset", d->kind, sizeof d->kind);
    rd_str(r, ds, "split", "dataset", d->split, sizeof d->split);
    rd_str(r, ds, "val_split", "dataset", d->val_split, sizeof d->val_split);
    d->dataset_frames = rd_int(r, ds, "dataset_frames", "dataset"), d->stride = rd_int(r, ds, "stride", "dataset");
    d->max_frames = rd_int(r, ds, "max_frames", "dataset"), d->nframes = rd_int(r, ds, "frames", "dataset");
    d->val_frames = rd_int(r, ds, "val_frames", "dataset");
    json_t *task = get(r, j, "task", "");
    rd_str(r, task, "file", "task", d->task_file, sizeof d->task_file);
    rd_str(r, task, "checksum", "task", d->task_checksum, sizeof d->task_checksum);
    /* optional: a segmenter has no separate weights file (profiles written before detection lack the keys) */
    if (json_object_get(task, "weights")) rd_str(r, task, "weights", "task", d->task_weights, sizeof d->task_weights);
    if (json_object_get(task, "weights_checksum"))
        rd_str(r, task, "weights_checksum", "task", d->task_weights_checksum, sizeof d->task_weights_checksum);
    d->classes = rd_int(r, task, "classes", "task");
    json_t *a = rd_arr(r, j, "sr", "", SWEEP_MAX_SCALE, &d->nsr);
    for (int i = 0; i < d->nsr && r->rc == 0; i++) {
        json_t *v = json_array_get(a, i);
        d->sr[i].scale = rd_int(r, v, "scale", "sr[]");
        rd_str(r, v, "file", "sr[]", d->sr[i].file, sizeof d->sr[i].file);
        rd_str(r, v, "checksum", "sr[]", d->sr[i].checksum, sizeof d->sr[i].checksum);
    }
    json_t *st = get(r, j, "settings", "");
    d->small = rd_num(r, st, "small", "settings"), d->tail_pct = rd_num(r, st, "tail_pct", "settings");
    d->fps = rd_num(r, st, "fps", "settings");
    json_t *ref = get(r, st, "reference", "settings");
    d->ref_scale = rd_int(r, ref, "scale", "settings.reference"), d->ref_quality = rd_int(r, ref, "quality", "settings.reference");
    a = rd_arr(r, j, "configs", "", SWEEP_MAX_CONFIGS, &d->ncfg);
    for (int i = 0; i < d->ncfg && r->rc == 0; i++) {
        json_t *v = json_array_get(a, i);
        ProfileCfg *c = &d->cfg[i];
        c->scale = rd_int(r, v, "scale", "configs[]"), c->quality = rd_int(r, v, "quality", "configs[]");
        c->bytes_std = rd_num(r, v, "bytes_std", "configs[]"), c->bytes_tail = rd_num(r, v, "bytes_tail", "configs[]");
        c->acc_std = rd_num(r, v, "acc_std", "configs[]"), c->acc_tail = rd_num(r, v, "acc_tail", "configs[]");
        c->ratio_std = rd_num(r, v, "ratio_std", "configs[]"), c->ratio_tail = rd_num(r, v, "ratio_tail", "configs[]");
    }
    a = rd_arr(r, j, "tail_frames", "", 1u << 24, &d->ntail);
    d->tail_frames = xcalloc((size_t)(d->ntail ? d->ntail : 1), sizeof *d->tail_frames);
    for (int i = 0; i < d->ntail && r->rc == 0; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v)) r->rc = rn_fail("%s: tail_frames[%d] is not a string", r->path, i);
        else d->tail_frames[i] = xstrdup(json_string_value(v));
    }
    a = rd_arr(r, j, "targets", "", PROFILE_MAX_TARGETS, &d->ntargets);
    for (int i = 0; i < d->ntargets && r->rc == 0; i++) {
        json_t *v = json_array_get(a, i);
        d->target[i].mbps = rd_num(r, v, "mbps", "targets[]");
        rd_pick(r, get(r, v, "standard", "targets[]"), &d->target[i].standard);
        rd_pick(r, get(r, v, "tail", "targets[]"), &d->target[i].tail);
        rd_gain(r, get(r, v, "gain_tail", "targets[]"), &d->target[i].gain_tail, "targets[].gain_tail");
        rd_gain(r, get(r, v, "gain_std", "targets[]"), &d->target[i].gain_std, "targets[].gain_std");
    }
    rd_v2(r, j, d);
    json_t *th = get(r, j, "threshold", "");
    d->threshold = rd_num(r, th, "value", "threshold");
    json_t *fit = get(r, th, "fit", "threshold");
    d->fit_a = rd_num(r, fit, "a", "threshold.fit"), d->fit_b = rd_num(r, fit, "b", "threshold.fit");
    d->fit_r2 = rd_num(r, fit, "r2", "threshold.fit"), d->fit_n = rd_int(r, fit, "n", "threshold.fit");
    d->threshold_recall90 = rd_num_opt(r, th, "recall90", "threshold");
    a = rd_arr(r, th, "train", "threshold", SWEEP_MAX_SCALE, &d->ntrain);
    for (int i = 0; i < d->ntrain && r->rc == 0; i++) rd_check(r, json_array_get(a, i), &d->train[i]);
    a = rd_arr(r, th, "val", "threshold", SWEEP_MAX_SCALE, &d->nval);
    for (int i = 0; i < d->nval && r->rc == 0; i++) rd_check(r, json_array_get(a, i), &d->val[i]);
    json_t *tm = get(r, j, "timing", "");
    if (r->rc == 0) rd_timing(r, get(r, tm, "train", "timing"), &d->t_train);
    if (r->rc == 0) rd_timing(r, get(r, tm, "val", "timing"), &d->t_val);
}

/* A configuration read from the file: scale 1..SWEEP_MAX_SCALE, JPEG quality 0..100 (0 = PNG). */
static bool knobs_ok(int scale, int quality) { return scale >= 1 && scale <= SWEEP_MAX_SCALE && quality >= 0 && quality <= 100; }

/* The ranges the online loop relies on: a profile is input like any other (a hand-edited or damaged
 * file must stop the run with the field named, not steer the edges to a scale of -4 or divide by fps 0). */
static int rd_valid(const char *path, const ProfileDoc *d) {
    if (!(d->fps > 0 && d->fps <= 1000)) return rn_fail("%s: settings.fps %g: must be in (0, 1000]", path, d->fps);
    if (!(d->small > 0 && d->small < 1)) return rn_fail("%s: settings.small %g: must be in (0, 1)", path, d->small);
    if (!knobs_ok(d->ref_scale, d->ref_quality))
        return rn_fail("%s: settings.reference %d:%d: scale 1..%d, quality 0..100", path, d->ref_scale, d->ref_quality,
                       SWEEP_MAX_SCALE);
    if (!isnan(d->threshold) && !(d->threshold >= 0 && d->threshold <= 1))
        return rn_fail("%s: threshold.value %g: must be a share of the frame in [0, 1] (or null)", path, d->threshold);
    for (int i = 0; i < d->nsr; i++)
        if (d->sr[i].scale < 2 || d->sr[i].scale > SWEEP_MAX_SCALE)
            return rn_fail("%s: sr[%d].scale %d: must be 2..%d", path, i, d->sr[i].scale, SWEEP_MAX_SCALE);
    for (int i = 0; i < d->ncfg; i++)
        if (!knobs_ok(d->cfg[i].scale, d->cfg[i].quality))
            return rn_fail("%s: configs[%d] %d:%d: scale 1..%d, quality 0..100", path, i, d->cfg[i].scale, d->cfg[i].quality,
                           SWEEP_MAX_SCALE);
    for (int i = 0; i < d->ntargets; i++) {
        const ProfileTarget *t = &d->target[i];
        if (!(t->mbps >= 0 && isfinite(t->mbps))) return rn_fail("%s: targets[%d].mbps %g: must be >= 0", path, i, t->mbps);
        const ProfilePick *p[2] = {&t->standard, &t->tail};
        for (int k = 0; k < 2; k++)
            if (p[k]->scale != 0 && !knobs_ok(p[k]->scale, p[k]->quality)) /* scale 0: no pick (null) */
                return rn_fail("%s: targets[%d].%s %d:%d: scale 1..%d, quality 0..100", path, i, k ? "tail" : "standard",
                               p[k]->scale, p[k]->quality, SWEEP_MAX_SCALE);
    }
    return 0;
}

/* A share, AUC, recall, precision or accuracy: a fraction, or null. */
static bool frac_ok(double v) { return isnan(v) || (v >= 0 && v <= 1); }

static int gain_valid(const char *path, int i, const char *which, const ProfileGain *g) {
    bool ok = g->n >= 0 && (isnan(g->mean) || fabs(g->mean) <= 1) && (isnan(g->lo) || fabs(g->lo) <= 1) &&
              (isnan(g->hi) || fabs(g->hi) <= 1) && !(g->lo > g->hi);
    return ok ? 0 : rn_fail("%s: targets[%d].%s (mean %g [%g, %g], n %d): accuracy differences in [-1, 1], lo <= hi, n >= 0",
                            path, i, which, g->mean, g->lo, g->hi, g->n);
}

static int det_valid(const char *path, int i, const ProfileDetector *e) {
    if (!knobs_ok(e->scale, e->quality)) return rn_fail("%s: detectors[%d] %d:%d: scale 1..%d, quality 0..100", path, i, e->scale, e->quality, SWEEP_MAX_SCALE);
    if (e->direction != 1 && e->direction != -1) return rn_fail("%s: detectors[%d].direction %d: +1 or -1", path, i, e->direction);
    if (isinf(e->threshold)) return rn_fail("%s: detectors[%d].threshold: a number or null", path, i);
    if (!(e->train_n >= 0 && e->train_tail >= 0 && e->train_tail <= e->train_n && e->val_n >= 0 && e->val_tail >= 0 &&
          e->val_tail <= e->val_n))
        return rn_fail("%s: detectors[%d]: frame counts (train %d/%d, val %d/%d) must be >= 0, tail <= frames", path, i,
                       e->train_tail, e->train_n, e->val_tail, e->val_n);
    double f[8] = {e->train_auc, e->train_recall, e->train_precision, e->val_auc, e->val_recall, e->val_precision,
                   e->val_recall_other, e->val_precision_other};
    for (int k = 0; k < 8; k++)
        if (!frac_ok(f[k])) return rn_fail("%s: detectors[%d]: AUC, recall and precision in [0, 1] (or null): %g", path, i, f[k]);
    return 0;
}

static int sig_valid(const char *path, int i, const ProfileSignalEval *e) {
    bool ok = knobs_ok(e->scale, e->quality) && (e->direction == 1 || e->direction == -1) && frac_ok(e->train_auc) &&
              frac_ok(e->val_auc) && frac_ok(e->val_recall) && frac_ok(e->val_precision);
    return ok ? 0 : rn_fail("%s: signals[%d]: a configuration, direction +1/-1, AUC/recall/precision in [0, 1] or null", path, i);
}

static int share_valid(const char *path, int i, const ProfileShare *e) {
    bool none = e->flag_scale == 0 && e->other_scale == 0;
    bool ok = e->mbps >= 0 && isfinite(e->mbps) && (none ? isnan(e->k) : e->k >= 1 && e->k <= 100) &&
              (none || (knobs_ok(e->flag_scale, e->flag_quality) && knobs_ok(e->other_scale, e->other_quality))) &&
              frac_ok(e->flagged) && frac_ok(e->p10) && frac_ok(e->mean) && frac_ok(e->p10_standard) && frac_ok(e->mean_standard);
    return ok ? 0 : rn_fail("%s: share[%d]: mbps >= 0, k in [1, 100] with both configurations (or null k, flag and other), "
                            "shares and accuracies in [0, 1]", path, i);
}

/* The version-2 fields' ranges. */
static int v2_valid(const char *path, const ProfileDoc *d) {
    if (strcmp(d->bytes_model, "all") && strcmp(d->bytes_model, "own"))
        return rn_fail("%s: settings.bytes_model %s: all or own", path, d->bytes_model);
    if (!(d->recall_target > 0 && d->recall_target <= 1)) return rn_fail("%s: settings.recall_target %g: in (0, 1]", path, d->recall_target);
    if (!frac_ok(d->tail_cutoff) || !frac_ok(d->tail5_cutoff))
        return rn_fail("%s: tail_cutoff %g / tail5_cutoff %g: accuracies in [0, 1] (or null)", path, d->tail_cutoff, d->tail5_cutoff);
    bool seen[SIG_MAX_CLASSES] = {0};
    for (int i = 0; i < d->ntail_classes; i++) {
        int c = d->tail_classes[i];
        if (c < 0 || c >= d->classes || c >= SIG_MAX_CLASSES || seen[c])
            return rn_fail("%s: tail_classes[%d] %d: distinct class ids below task.classes (%d)", path, i, c, d->classes);
        seen[c] = true;
    }
    for (int i = 0; i < d->ntargets; i++) {
        TRY(gain_valid(path, i, "gain_tail", &d->target[i].gain_tail));
        TRY(gain_valid(path, i, "gain_std", &d->target[i].gain_std));
    }
    for (int i = 0; i < d->ndet; i++) TRY(det_valid(path, i, &d->det[i]));
    for (int i = 0; i < d->nsig; i++) TRY(sig_valid(path, i, &d->sig[i]));
    for (int i = 0; i < d->nshare; i++) TRY(share_valid(path, i, &d->share[i]));
    return 0;
}

int profile_json_read(const char *path, ProfileDoc *d) {
    memset(d, 0, sizeof *d);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) return rn_fail("%s:%d:%d: %s", path, e.line, e.column, e.text);
    Rd r = {path, 0};
    if (!json_is_object(j)) r.rc = rn_fail("%s: not a JSON object", path);
    else rd_doc(&r, j, d);
    if (r.rc == 0) r.rc = rd_valid(path, d);
    if (r.rc == 0) r.rc = v2_valid(path, d);
    json_decref(j);
    if (r.rc) profile_doc_free(d);
    return r.rc ? -1 : 0;
}

void profile_doc_free(ProfileDoc *d) {
    for (int i = 0; i < d->ntail && d->tail_frames; i++) free(d->tail_frames[i]);
    free(d->tail_frames);
    d->tail_frames = NULL, d->ntail = 0;
}
