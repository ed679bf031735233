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

void sweep_init(Sweep *s, const Dataset *ds, int stride, int max_frames, const SweepConfig *cfg, int ncfg, int k) {
    RN_CHECK(ncfg > 0 && ncfg <= SWEEP_MAX_CONFIGS && stride >= 1, "sweep: %d configs, stride %d", ncfg, stride);
    RN_CHECK(k >= 0 && k <= SIG_MAX_CLASSES, "sweep: %d classes counted (at most %d)", k, SIG_MAX_CLASSES);
    memset(s, 0, sizeof *s);
    int n = (ds->n + stride - 1) / stride;
    if (max_frames > 0 && max_frames < n) n = max_frames;
    s->nframes = n, s->nconfigs = ncfg, s->k = k;
    memcpy(s->cfg, cfg, (size_t)ncfg * sizeof *cfg);
    s->sample = xmalloc((size_t)(n ? n : 1) * sizeof *s->sample);
    s->name = xcalloc((size_t)(n ? n : 1), sizeof *s->name);
    for (int f = 0; f < n; f++) s->sample[f] = f * stride, s->name[f] = xstrdup(base_name(ds->samples[f * stride].frame));
    size_t m = (size_t)(n ? n : 1) * ncfg, mk = m * (k ? k : 1);
    s->bytes = xcalloc(m, sizeof *s->bytes), s->acc = xcalloc(m, sizeof *s->acc);
    for (int g = 0; g < SIG_N; g++) s->sig[g] = xcalloc(m, sizeof *s->sig[g]);
    for (size_t i = 0; i < m; i++) s->sig[SIG_TAIL_SHARE][i] = NAN;
    s->ratio = s->sig[SIG_RATIO];
    s->ratio_ms = xcalloc(m, sizeof *s->ratio_ms), s->ratio_lr_ms = xcalloc(m, sizeof *s->ratio_lr_ms);
    s->px = xcalloc(mk, sizeof *s->px), s->tp = xcalloc(mk, sizeof *s->tp), s->lab = xcalloc(mk, sizeof *s->lab);
    s->done = xcalloc((size_t)(n ? n : 1), sizeof *s->done);
}

void sweep_free(Sweep *s) {
    for (int f = 0; f < s->nframes; f++) free(s->name[f]);
    free(s->sample), free(s->name), free(s->bytes), free(s->acc), free(s->ratio_ms), free(s->ratio_lr_ms), free(s->done);
    for (int g = 0; g < SIG_N; g++) free(s->sig[g]); /* s->ratio is sig[SIG_RATIO] */
    free(s->px), free(s->tp), free(s->lab);
    memset(s, 0, sizeof *s);
}

int sweep_scales(const Sweep *s, int *sc) {
    int n = 0;
    for (int c = 0; c < s->nconfigs; c++) {
        bool seen = false;
        for (int i = 0; i < n; i++) seen |= sc[i] == s->cfg[c].scale;
        if (!seen && n < SWEEP_MAX_SCALE) sc[n++] = s->cfg[c].scale;
    }
    return n;
}

int sweep_find(const Sweep *s, int scale, int quality) {
    for (int c = 0; c < s->nconfigs; c++)
        if (s->cfg[c].scale == scale && s->cfg[c].quality == quality) return c;
    return -1;
}

int sweep_check(const Sweep *s, const Dataset *ds, const SweepTask *task, const SweepModels *m) {
    if (task->per_class != s->k)
        return rn_fail("the sweep counts %d classes per frame, the %s task %d", s->k, task->kind, task->per_class);
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

/* ---------------- one (frame, config) cell as numbers ---------------- */

/* A cell's numbers in the CSV's order after frame_index,frame,scale,quality: bytes, acc, ratio,
 * ratio_ms, ratio_lr, ratio_lr_ms, small_count, maxprob, entropy, then px, tp, lab per class. The
 * CSV, resume and the gather between ranks all go through this one order. Counts travel as doubles
 * (exact below 2^53). */
enum { CELL_FIXED = 9, CELL_MS1 = 3, CELL_MS2 = 5 };
static size_t cell_len(const Sweep *s) { return CELL_FIXED + 3 * (size_t)s->k; }

static void cell_get(const Sweep *s, size_t at, double *v) {
    double fixed[CELL_FIXED] = {s->bytes[at], s->acc[at], s->sig[SIG_RATIO][at], s->ratio_ms[at], s->sig[SIG_RATIO_LR][at],
                                s->ratio_lr_ms[at], s->sig[SIG_SMALL_COUNT][at], s->sig[SIG_MAXPROB][at],
                                s->sig[SIG_ENTROPY][at]};
    memcpy(v, fixed, sizeof fixed);
    for (int c = 0; c < s->k; c++) {
        size_t i = at * s->k + c;
        v[CELL_FIXED + c] = (double)s->px[i], v[CELL_FIXED + s->k + c] = (double)s->tp[i];
        v[CELL_FIXED + 2 * s->k + c] = (double)s->lab[i];
    }
}

static void cell_set(Sweep *s, size_t at, const double *v) {
    s->bytes[at] = v[0], s->acc[at] = v[1], s->sig[SIG_RATIO][at] = v[2], s->ratio_ms[at] = v[3];
    s->sig[SIG_RATIO_LR][at] = v[4], s->ratio_lr_ms[at] = v[5], s->sig[SIG_SMALL_COUNT][at] = v[6];
    s->sig[SIG_MAXPROB][at] = v[7], s->sig[SIG_ENTROPY][at] = v[8];
    for (int c = 0; c < s->k; c++) {
        size_t i = at * s->k + c;
        s->px[i] = (long long)v[CELL_FIXED + c], s->tp[i] = (long long)v[CELL_FIXED + s->k + c];
        s->lab[i] = (long long)v[CELL_FIXED + 2 * s->k + c];
    }
}

/* ---------------- the CSV ---------------- */

/* The header before this format (8 columns): such a log cannot be resumed, its signals are missing. */
#define SWEEP_CSV_V1 "frame_index,frame,scale,quality,bytes,acc,small_ratio,ratio_ms"

char *sweep_csv_header(int k) {
    size_t cap = sizeof SWEEP_CSV_COLUMNS + 3 * (size_t)k * 24;
    char *h = xmalloc(cap);
    int n = snprintf(h, cap, "%s", SWEEP_CSV_COLUMNS);
    const char *what[3] = {"px", "tp", "lab"};
    for (int w = 0; w < 3; w++)
        for (int c = 0; c < k; c++) n += snprintf(h + n, cap - n, ",%s%d", what[w], c);
    return h;
}

/* Column j of a cell as text: "nan", an integer (bytes, counts), 6 digits (timings), or the
 * shortest text that reads back as the same double. */
static void cell_format(char *buf, size_t cap, size_t j, double v) {
    if (isnan(v)) snprintf(buf, cap, "nan");
    else if (j == 0 || j >= CELL_FIXED) snprintf(buf, cap, "%.0f", v);
    else if (j == CELL_MS1 || j == CELL_MS2) snprintf(buf, cap, "%.6g", v);
    else
        for (int p = 9; p <= 17; p++) /* %.17g always reads back exactly */
            if (snprintf(buf, cap, "%.*g", p, v), strtod(buf, NULL) == v) break;
}

static void rows_write(FILE *fp, const Sweep *s, int f) {
    size_t len = cell_len(s);
    double *v = xmalloc(len * sizeof *v);
    char num[40];
    for (int c = 0; c < s->nconfigs; c++) {
        cell_get(s, (size_t)f * s->nconfigs + c, v);
        fprintf(fp, "%d,%s,%d,%d", f, s->name[f], s->cfg[c].scale, s->cfg[c].quality);
        for (size_t j = 0; j < len; j++) cell_format(num, sizeof num, j, v[j]), fprintf(fp, ",%s", num);
        fputc('\n', fp);
    }
    free(v);
}

/* One row into its frame, config and numbers (v[cell_len]); -1 when it does not parse. The frame
 * name may hold no comma (the sweep's names are file names without one). */
static int row_parse(const Sweep *s, char *line, int *fi, char **name, int *sc, int *q, double *v) {
    char *save = NULL, *tok[4], *end;
    for (int i = 0; i < 4; i++)
        if (!(tok[i] = strtok_r(i ? NULL : line, ",", &save))) return -1;
    long a = strtol(tok[0], &end, 10);
    if (*end) return -1;
    long b = strtol(tok[2], &end, 10);
    if (*end) return -1;
    long c = strtol(tok[3], &end, 10);
    if (*end) return -1;
    *fi = (int)a, *name = tok[1], *sc = (int)b, *q = (int)c;
    size_t len = cell_len(s), j = 0;
    for (char *t; (t = strtok_r(NULL, ",", &save)); j++) {
        if (j == len) return -1;
        v[j] = strtod(t, &end);
        if (end == t || *end) return -1;
    }
    return j == len ? 0 : -1;
}

/* The first line of a log: this sweep's header, or why not. */
static int header_check(const Sweep *s, const char *path, const char *line) {
    char *want = sweep_csv_header(s->k);
    int rc = 0;
    if (!strcmp(line, want)) rc = 0;
    else if (!strcmp(line, SWEEP_CSV_V1))
        rc = rn_fail("%s was written by an older rune profile (no signal columns): start without --resume or remove it", path);
    else if (!strncmp(line, SWEEP_CSV_COLUMNS, strlen(SWEEP_CSV_COLUMNS)) && strchr(",", line[strlen(SWEEP_CSV_COLUMNS)]))
        rc = rn_fail("%s counts other classes than this task's %d: it was made with other settings; remove it or drop --resume",
                     path, s->k);
    else rc = rn_fail("%s: not a profile sweep CSV (header %.60s)", path, line);
    free(want);
    return rc;
}

/* The sweep position of the log's frame `name`, written at position fi: the same position when the
 * names agree, else wherever the name is (a log of a sparser --stride resumed by a denser sweep: its
 * frames sit at other positions); -1 when this sweep lacks the frame. */
static int frame_position(const Sweep *s, int fi, const char *name) {
    if (fi >= 0 && fi < s->nframes && !strcmp(name, s->name[fi])) return fi;
    for (int f = 0; f < s->nframes; f++)
        if (!strcmp(name, s->name[f])) return f;
    return -1;
}

/* One data row of the log into s (seen[] counts each frame's configs). 1 = a torn last line (its
 * frame is measured again), 0 = read, -1 = an error. */
static int resume_row(Sweep *s, const char *path, int lineno, char *line, bool torn, int *seen, double *v) {
    int fi, sc, q;
    char *name;
    if (torn) return 1; /* every row is written with its newline: one without was cut short */
    if (row_parse(s, line, &fi, &name, &sc, &q, v) < 0) return rn_fail("%s:%d: bad row", path, lineno);
    int c = sweep_find(s, sc, q), at = frame_position(s, fi, name);
    if (at < 0 || c < 0)
        return rn_fail("%s:%d: frame %d %s at x%d q%d is not in this sweep: it was made with other settings "
                       "(--stride/--frames/--scales/--qualities); remove it or drop --resume",
                       path, lineno, fi, name, sc, q);
    cell_set(s, (size_t)at * s->nconfigs + c, v);
    seen[at]++;
    return 0;
}

/* Reads back complete frames from path into s; the log is then rewritten with exactly those rows
 * (csv_start) so that a torn last frame is measured again. A missing file is an empty one. */
static int resume_read(Sweep *s, const char *path) {
    char *text = NULL;
    size_t len = 0;
    if (!path_exists(path)) return 0;
    TRY(read_text_file(path, &text, &len));
    int *seen = xcalloc((size_t)(s->nframes ? s->nframes : 1), sizeof *seen);
    size_t cap = 1024 + 32 * cell_len(s), pos = 0;
    char *line = xmalloc(cap);
    double *v = xmalloc(cell_len(s) * sizeof *v);
    int lineno = 0, rc = 0, got;
    while (rc == 0 && (got = text_line(text, len, &pos, line, cap, path, ++lineno)) > 0)
        rc = lineno == 1 ? header_check(s, path, line)
                         : resume_row(s, path, lineno, line, pos >= len && text[len - 1] != '\n', seen, v);
    if (got < 0) rc = -1;
    if (rc == 1) rc = 0; /* a torn last line */
    free(text), free(line), free(v);
    for (int f = 0; f < s->nframes && rc == 0; f++) s->done[f] = seen[f] == s->nconfigs;
    free(seen);
    return rc;
}

/* The log rewritten with the header and the frames already done (resume keeps them). */
static FILE *csv_start(const Sweep *s, const char *path) {
    FILE *fp = fopen(path, "w");
    if (!fp) return rn_fail("cannot write %s", path), NULL;
    char *h = sweep_csv_header(s->k);
    fprintf(fp, "%s\n", h);
    free(h);
    for (int f = 0; f < s->nframes; f++)
        if (s->done[f]) rows_write(fp, s, f);
    fflush(fp);
    return fp;
}

/* ---------------- one frame ---------------- */

/* One cell's score into the sweep's arrays (tail_share stays NaN: the sweep knows no tail classes). */
static void score_store(Sweep *s, size_t at, const SweepScore *sc) {
    RN_CHECK(sc->sig.k == s->k, "sweep: the task counted %d classes, the sweep %d", sc->sig.k, s->k);
    s->acc[at] = sc->acc;
    for (int g = 0; g < SIG_N; g++) s->sig[g][at] = g == SIG_TAIL_SHARE ? NAN : sc->sig.v[g];
    s->ratio_ms[at] = sc->sig.ratio_ms, s->ratio_lr_ms[at] = sc->sig.ratio_lr_ms;
    for (int c = 0; c < s->k; c++) {
        size_t i = at * s->k + c;
        s->px[i] = sc->sig.px[c], s->tp[i] = sc->tp[c], s->lab[i] = sc->lab[c];
    }
}

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
        SweepScore sc;
        task->score(task->ctx, &up, gt, k->scale, o->small, &sc);
        score_store(s, at, &sc);
        s->t_task += sc.t_task, s->t_ratio += sc.sig.ratio_ms / 1000;
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

/* A measured frame as it travels to rank 0: its index, then each config's cell (cell_get's order;
 * all doubles: an index and a byte count are exact in one). */
static size_t packed_len(const Sweep *s) { return 1 + cell_len(s) * (size_t)s->nconfigs; }

static void frame_pack(const Sweep *s, int f, double *v) {
    v[0] = f;
    for (int c = 0; c < s->nconfigs; c++) cell_get(s, (size_t)f * s->nconfigs + c, v + 1 + cell_len(s) * (size_t)c);
}

static void frame_unpack(Sweep *s, int f, const double *v) {
    for (int c = 0; c < s->nconfigs; c++) cell_set(s, (size_t)f * s->nconfigs + c, v + 1 + cell_len(s) * (size_t)c);
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
