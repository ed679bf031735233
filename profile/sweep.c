/* sweep.c: the per-frame loop of `rune profile` — load once, degrade once per configuration, rebuild, segment, score, log. */
#include "profile/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/degrade.h"
#include "nn/dist.h"
#include "util/err.h"
#include "util/progress.h"

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void sweep_init(Sweep *s, const Dataset *ds, int stride, int max_frames, const SweepConfig *cfg, int ncfg) {
    RN_CHECK(ncfg > 0 && ncfg <= SWEEP_MAX_CONFIGS && stride >= 1, "sweep: %d configs, stride %d", ncfg, stride);
    memset(s, 0, sizeof *s);
    int n = (ds->n + stride - 1) / stride;
    if (max_frames > 0 && max_frames < n) n = max_frames;
    s->nframes = n, s->nconfigs = ncfg;
    memcpy(s->cfg, cfg, (size_t)ncfg * sizeof *cfg);
    s->sample = xmalloc((size_t)(n ? n : 1) * sizeof *s->sample);
    s->name = xcalloc((size_t)(n ? n : 1), sizeof *s->name);
    for (int f = 0; f < n; f++) s->sample[f] = f * stride, s->name[f] = xstrdup(base_name(ds->samples[f * stride].frame));
    size_t m = (size_t)(n ? n : 1) * ncfg;
    s->bytes = xcalloc(m, sizeof *s->bytes), s->acc = xcalloc(m, sizeof *s->acc);
    s->ratio = xcalloc(m, sizeof *s->ratio), s->ratio_ms = xcalloc(m, sizeof *s->ratio_ms);
    s->done = xcalloc((size_t)(n ? n : 1), sizeof *s->done);
}

void sweep_free(Sweep *s) {
    for (int f = 0; f < s->nframes; f++) free(s->name[f]);
    free(s->sample), free(s->name), free(s->bytes), free(s->acc), free(s->ratio), free(s->ratio_ms), free(s->done);
    memset(s, 0, sizeof *s);
}

int sweep_find(const Sweep *s, int scale, int quality) {
    for (int c = 0; c < s->nconfigs; c++)
        if (s->cfg[c].scale == scale && s->cfg[c].quality == quality) return c;
    return -1;
}

int sweep_check(const Sweep *s, const Dataset *ds, const SweepTask *task, const SweepModels *m) {
    for (int c = 0; c < s->nconfigs; c++) {
        int sc = s->cfg[c].scale;
        if (sc < 1 || sc > SWEEP_MAX_SCALE) return rn_fail("scale %d out of range 1..%d", sc, SWEEP_MAX_SCALE);
        if (s->cfg[c].quality < 1 || s->cfg[c].quality > 100) return rn_fail("JPEG quality %d out of 1..100", s->cfg[c].quality);
        if (sc > 1 && m->carn[sc] && !carn_has_scale(m->carn[sc], sc)) return rn_fail("the SR model for x%d has no x%d head", sc, sc);
    }
    for (int f = 0; f < s->nframes; f++) {
        const Sample *sm = &ds->samples[s->sample[f]];
        int w, h;
        TRY(task->check(task->ctx, ds, s->sample[f], &w, &h));
        for (int c = 0; c < s->nconfigs; c++) {
            int sc = s->cfg[c].scale;
            if (w % sc || h % sc)
                return rn_fail("%s is %dx%d as profiled, not divisible by scale %d: the x%d frame would stand for a crop "
                               "of it, so its bytes and accuracy would not describe the frame (drop x%d)",
                               sm->frame, w, h, sc, sc, sc);
        }
    }
    return 0;
}

/* ---------------- resume: the CSV of an earlier run ---------------- */

/* Reads back complete frames from path into s; rewrites path with exactly those rows so that a
 * torn last frame is measured again. A missing file is an empty one. */
static int resume_read(Sweep *s, const char *path) {
    char *text = NULL;
    size_t len = 0;
    if (!path_exists(path)) return 0;
    TRY(read_text_file(path, &text, &len));
    int *seen = xcalloc((size_t)(s->nframes ? s->nframes : 1), sizeof *seen);
    char line[1024], name[512];
    size_t pos = 0;
    int lineno = 0, rc = 0, got;
    while (rc == 0 && (got = text_line(text, len, &pos, line, sizeof line, path, ++lineno)) > 0) {
        if (lineno == 1) {
            if (strcmp(line, SWEEP_CSV_HEADER)) rc = rn_fail("%s: not a profile sweep CSV (header %.60s)", path, line);
            continue;
        }
        int fi, sc, q;
        double b, a, r, ms;
        if (sscanf(line, "%d,%511[^,],%d,%d,%lf,%lf,%lf,%lf", &fi, name, &sc, &q, &b, &a, &r, &ms) != 8) {
            if (pos >= len) break; /* a torn last line: that frame is measured again */
            rc = rn_fail("%s:%d: bad row", path, lineno);
            break;
        }
        int c = sweep_find(s, sc, q);
        if (fi < 0 || fi >= s->nframes || strcmp(name, s->name[fi]) || c < 0) {
            rc = rn_fail("%s:%d: frame %d %s at x%d q%d is not in this sweep: it was made with other settings "
                         "(--stride/--frames/--scales/--qualities); remove it or drop --resume",
                         path, lineno, fi, name, sc, q);
            break;
        }
        size_t at = (size_t)fi * s->nconfigs + c;
        s->bytes[at] = b, s->acc[at] = a, s->ratio[at] = r, s->ratio_ms[at] = ms;
        seen[fi]++;
    }
    if (got < 0) rc = -1;
    free(text);
    for (int f = 0; f < s->nframes && rc == 0; f++) s->done[f] = seen[f] == s->nconfigs;
    free(seen);
    return rc;
}

static int rows_write(FILE *fp, const Sweep *s, int f) {
    for (int c = 0; c < s->nconfigs; c++) {
        size_t at = (size_t)f * s->nconfigs + c;
        fprintf(fp, "%d,%s,%d,%d,%.0f,%.9g,%.9g,%.6g\n", f, s->name[f], s->cfg[c].scale, s->cfg[c].quality, s->bytes[at],
                s->acc[at], s->ratio[at], s->ratio_ms[at]);
    }
    return 0;
}

/* The log rewritten with the header and the frames already done (resume keeps them). */
static FILE *csv_start(const Sweep *s, const char *path) {
    FILE *fp = fopen(path, "w");
    if (!fp) return rn_fail("cannot write %s", path), NULL;
    fprintf(fp, "%s\n", SWEEP_CSV_HEADER);
    for (int f = 0; f < s->nframes; f++)
        if (s->done[f]) rows_write(fp, s, f);
    fflush(fp);
    return fp;
}

/* ---------------- one frame ---------------- */

static int run_frame(Sweep *s, const Dataset *ds, const SweepTask *task, const SweepModels *m, const SweepOpts *o, int f) {
    double t0 = now_seconds();
    Image hr;
    void *gt = NULL;
    TRY(task->load(task->ctx, ds, s->sample[f], &hr, &gt));
    s->t_load += now_seconds() - t0;
    int rc = 0;
    for (int c = 0; c < s->nconfigs && rc == 0; c++) {
        const SweepConfig *k = &s->cfg[c];
        size_t at = (size_t)f * s->nconfigs + c;
        double ta = now_seconds();
        Degraded d;
        if ((rc = degrade(&hr, k->scale, k->quality, &d)) < 0) break;
        s->bytes[at] = (double)d.nbytes;
        double tb = now_seconds();
        s->t_degrade += tb - ta;
        Frame up;
        if (k->scale == 1) up = frame_from_image(&d.lr); /* HR: the decoded JPEG itself */
        else {
            EvalMethod me = {.scale = k->scale, .kind = m->carn[k->scale] ? EVAL_CARN : EVAL_BILINEAR, .carn = m->carn[k->scale]};
            snprintf(me.name, sizeof me.name, "%s", m->carn[k->scale] ? "sr" : "bilinear");
            up = eval_upscale(&me, &d.lr, o->tile);
        }
        s->t_sr += now_seconds() - tb;
        double t_task = 0, t_sig = 0;
        task->score(task->ctx, &up, gt, o->small, &s->acc[at], &s->ratio[at], &t_task, &t_sig);
        s->ratio_ms[at] = 1000 * t_sig;
        s->t_task += t_task, s->t_ratio += t_sig;
        frame_free(&up);
        degraded_free(&d);
    }
    image_free(&hr);
    task->gt_free(gt);
    return rc;
}

/* ---------------- the frames over ranks ---------------- */

/* What a run carries from round to round. */
typedef struct Run {
    Sweep *s;
    const Dataset *ds;
    const SweepTask *task;
    const SweepModels *m;
    const SweepOpts *o;
    FILE *fp;       /* the CSV: rank 0 alone writes it (NULL elsewhere, or without one) */
    bool progress;  /* rank 0 alone prints the progress line */
    Progress p;
    int ndone;
} Run;

/* A measured frame as it travels to rank 0: its index, then bytes, acc, ratio, ratio_ms of each
 * config (all doubles: an index and a byte count are exact in one). */
static size_t packed_len(const Sweep *s) { return 1 + 4 * (size_t)s->nconfigs; }

static void frame_pack(const Sweep *s, int f, double *v) {
    v[0] = f;
    for (int c = 0; c < s->nconfigs; c++) {
        size_t at = (size_t)f * s->nconfigs + c;
        double *o = v + 1 + 4 * (size_t)c;
        o[0] = s->bytes[at], o[1] = s->acc[at], o[2] = s->ratio[at], o[3] = s->ratio_ms[at];
    }
}

static void frame_unpack(Sweep *s, int f, const double *v) {
    for (int c = 0; c < s->nconfigs; c++) {
        size_t at = (size_t)f * s->nconfigs + c;
        const double *o = v + 1 + 4 * (size_t)c;
        s->bytes[at] = o[0], s->acc[at] = o[1], s->ratio[at] = o[2], s->ratio_ms[at] = o[3];
    }
}

/* Rank 0: the round's gathered frames, in rank order. They must be exactly frames[0..n) in that
 * order (a frame lost or measured twice is a bug, not a result); each is logged and counted as
 * one process logs it. */
static int round_log(Run *r, const double *all, size_t bytes, const int *frames, int n) {
    Sweep *s = r->s;
    size_t len = packed_len(s);
    RN_CHECK(bytes == (size_t)n * len * sizeof *all, "sweep: gathered %zu bytes for %d frames", bytes, n);
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        const double *v = all + (size_t)k * len;
        int f = frames[k];
        RN_CHECK(v[0] == f, "sweep: frame %g gathered where frame %d belongs", v[0], f);
        frame_unpack(s, f, v);
        s->done[f] = true, s->measured++, r->ndone++;
        if (r->fp) {
            rows_write(r->fp, s, f);
            if (fflush(r->fp) != 0) rc = rn_fail("writing %s failed (disk full?)", r->o->csv);
        }
        if (r->progress) progress_update(&r->p, r->ndone, s->name[f], false);
    }
    return rc;
}

/* One round: frames[0..n), n at most the number of ranks, split by dist_shard as a training step
 * splits a global batch (rank k measures frame k), measured at once and gathered to rank 0 in
 * rank order, which is frame order: rank 0 writes the rows exactly as one process would, and a
 * crash loses at most this round. */
static int sweep_round(Run *r, const int *frames, int n) {
    DistShard sh = dist_shard(n);
    size_t len = packed_len(r->s);
    double *mine = xmalloc((size_t)(sh.count ? sh.count : 1) * len * sizeof *mine);
    int rc = 0;
    for (int64_t k = 0; k < sh.count && rc == 0; k++) {
        int f = frames[sh.begin + k];
        if ((rc = run_frame(r->s, r->ds, r->task, r->m, r->o, f)) == 0) frame_pack(r->s, f, mine + k * len);
    }
    if ((rc = dist_all_ok(rc)) == 0) {
        size_t bytes;
        double *all = dist_gather(mine, (size_t)sh.count * len * sizeof *mine, &bytes);
        if (dist_is_root()) rc = round_log(r, all, bytes, frames, n);
        free(all);
        rc = dist_all_ok(rc); /* rank 0's log failing stops every rank */
    }
    free(mine);
    return rc;
}

/* Rank 0 reads the log of an earlier run; every rank then knows which frames are done, so all
 * split the same list of frames still to do. */
static int resume_all(Sweep *s, const char *path) {
    TRY(dist_all_ok(dist_is_root() ? resume_read(s, path) : 0));
    dist_broadcast_bytes(s->done, (size_t)s->nframes * sizeof *s->done);
    return 0;
}

/* The seconds spent by every rank's frames (the work); t_wall stays rank 0's. */
static void times_sum(Sweep *s) {
    double t[5] = {s->t_load, s->t_degrade, s->t_sr, s->t_task, s->t_ratio};
    dist_sum(t, 5);
    s->t_load = t[0], s->t_degrade = t[1], s->t_sr = t[2], s->t_task = t[3], s->t_ratio = t[4];
}

int sweep_run(Sweep *s, const Dataset *ds, const SweepTask *task, const SweepModels *m, const SweepOpts *o) {
    TRY(dist_same(s->nframes, "the frames of the sweep"));
    if (o->resume && o->csv) TRY(resume_all(s, o->csv));
    Run r = {.s = s, .ds = ds, .task = task, .m = m, .o = o, .progress = o->progress && dist_is_root()};
    if (o->csv && dist_is_root()) r.fp = csv_start(s, o->csv);
    TRY(dist_all_ok(o->csv && dist_is_root() && !r.fp ? -1 : 0));
    int *todo = xmalloc((size_t)(s->nframes ? s->nframes : 1) * sizeof *todo), ntodo = 0;
    for (int f = 0; f < s->nframes; f++)
        if (s->done[f]) r.ndone++;
        else todo[ntodo++] = f;
    double t0 = now_seconds();
    if (r.progress) progress_start(&r.p, o->what ? o->what : "profile", "frames", s->nframes, r.ndone);
    if (r.progress && r.ndone) fprintf(stderr, "[%s] resumed: %d of %d frames already measured\n", r.p.what, r.ndone, s->nframes);
    int rc = 0;
    for (int at = 0; at < ntodo && rc == 0; at += dist_size())
        rc = sweep_round(&r, todo + at, ntodo - at < dist_size() ? ntodo - at : dist_size());
    if (r.progress && rc == 0) progress_end(&r.p, r.ndone, NULL);
    if (r.fp && fclose(r.fp) != 0 && rc == 0) rc = rn_fail("writing %s failed", o->csv);
    free(todo);
    if ((rc = dist_all_ok(rc)) == 0) times_sum(s); /* agreed first: the sum is a collective */
    s->t_wall = now_seconds() - t0;
    return rc;
}
