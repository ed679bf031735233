/* profile_json.c: profile.json through jansson — write (NaN as null, temp file renamed) and read back with checked fields. */
#include "profile/profile_json.h"

#include <jansson.h>
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
    for (int i = 0; i < d->ntargets; i++)
        json_array_append_new(tg, json_pack("{s:o,s:o,s:o}", "mbps", num(d->target[i].mbps), "standard",
                                            pick_json(&d->target[i].standard), "tail", pick_json(&d->target[i].tail)));
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
        "linear regression of (accuracy - the scale's tail cut-off) on the small-region ratio, pooled over the "
        "scales at the reference quality; threshold = where the line meets the cut-off",
        "fit", "a", num(d->fit_a), "b", num(d->fit_b), "r2", num(d->fit_r2), "n", d->fit_n, "recall90",
        num(d->threshold_recall90), "train", tr, "val", va, "timing", "train", timing_json(&d->t_train), "val",
        timing_json(&d->t_val));
}

int profile_json_write(const ProfileDoc *d, const char *path) {
    json_t *j = doc_json(d);
    if (!j) return rn_fail("%s: building the JSON failed (a string not UTF-8?)", path);
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
    return v ? (int)json_integer_value(v) : 0;
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
    if (r->rc == 0 && (strcmp(fmt, PROFILE_FORMAT) || d->version != PROFILE_VERSION))
        r->rc = rn_fail("%s: format %s version %d; this rune reads %s version %d", r->path, fmt, d->version, PROFILE_FORMAT,
                        PROFILE_VERSION);
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
    }
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

int profile_json_read(const char *path, ProfileDoc *d) {
    memset(d, 0, sizeof *d);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) return rn_fail("%s:%d:%d: %s", path, e.line, e.column, e.text);
    Rd r = {path, 0};
    if (!json_is_object(j)) r.rc = rn_fail("%s: not a JSON object", path);
    else rd_doc(&r, j, d);
    if (r.rc == 0) r.rc = rd_valid(path, d);
    json_decref(j);
    if (r.rc) profile_doc_free(d);
    return r.rc ? -1 : 0;
}

void profile_doc_free(ProfileDoc *d) {
    for (int i = 0; i < d->ntail && d->tail_frames; i++) free(d->tail_frames[i]);
    free(d->tail_frames);
    d->tail_frames = NULL, d->ntail = 0;
}
