/* sweep.c: the per-frame loop of `rune profile` — load once, degrade once per configuration, rebuild, segment, score, log. */
#include "profile/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/degrade.h"
#include "profile/tail.h"
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

int sweep_check(const Sweep *s, const Dataset *ds, const SweepModels *m) {
    for (int c = 0; c < s->nconfigs; c++) {
        int sc = s->cfg[c].scale;
        if (sc < 1 || sc > SWEEP_MAX_SCALE) return rn_fail("scale %d out of range 1..%d", sc, SWEEP_MAX_SCALE);
        if (s->cfg[c].quality < 1 || s->cfg[c].quality > 100) return rn_fail("JPEG quality %d out of 1..100", s->cfg[c].quality);
        if (sc > 1 && m->carn[sc] && !carn_has_scale(m->carn[sc], sc)) return rn_fail("the SR model for x%d has no x%d head", sc, sc);
    }
    for (int f = 0; f < s->nframes; f++) {
        const Sample *sm = &ds->samples[s->sample[f]];
        if (!sm->label) return rn_fail("%s: %s has no label map (the profile scores every frame)", ds->name, sm->frame);
        int w, h;
        TRY(image_probe(sm->frame, &w, &h));
        for (int c = 0; c < s->nconfigs; c++) {
            int sc = s->cfg[c].scale;
            if (w % sc || h % sc)
                return rn_fail("%s is %dx%d, not divisible by scale %d: the x%d frame would stand for a crop of it, "
                               "so its bytes and accuracy would not describe the frame (drop x%d or crop the dataset)",
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

/* Segments `in`, scores it against `lab` (same size): accuracy and the small-region ratio of the prediction. */
static void score(Sweep *s, const EvalTask *task, int nclasses, double small, const Frame *in, const Image *lab, size_t at) {
    size_t n = (size_t)in->w * in->h;
    RN_CHECK(lab->w == in->w && lab->h == in->h, "label %dx%d vs frame %dx%d", lab->w, lab->h, in->w, in->h);
    uint8_t *pred = xmalloc(n);
    double t0 = now_seconds();
    task->predict(task->ctx, in, pred);
    double t1 = now_seconds();
    Confusion cm;
    confusion_init(&cm, task->k > nclasses ? task->k : nclasses);
    confusion_add(&cm, pred, lab->px, n, DS_IGNORE);
    int cls[256];
    for (int i = 0; i < nclasses; i++) cls[i] = i;
    s->acc[at] = mean_iou_over(&cm, cls, nclasses);
    confusion_free(&cm);
    double t2 = now_seconds();
    /* the prediction has no ignore label: the ratio is over the whole frame, as the cloud sees it */
    s->ratio[at] = small_region_ratio(pred, in->w, in->h, small, DS_IGNORE);
    double t3 = now_seconds();
    s->ratio_ms[at] = 1000 * (t3 - t2);
    s->t_task += t1 - t0, s->t_ratio += t3 - t2;
    free(pred);
}

static int run_frame(Sweep *s, const Dataset *ds, const EvalTask *task, const SweepModels *m, const SweepOpts *o, int f) {
    double t0 = now_seconds();
    Image hr, label;
    TRY(dataset_load_frame(ds, s->sample[f], &hr));
    if (dataset_load_label(ds, s->sample[f], &hr, &label) < 0) {
        image_free(&hr);
        return -1;
    }
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
        score(s, task, ds->nclasses, o->small, &up, &label, at);
        frame_free(&up);
        degraded_free(&d);
    }
    image_free(&hr), image_free(&label);
    return rc;
}

int sweep_run(Sweep *s, const Dataset *ds, const EvalTask *task, const SweepModels *m, const SweepOpts *o) {
    if (o->resume && o->csv) TRY(resume_read(s, o->csv));
    FILE *fp = o->csv ? csv_start(s, o->csv) : NULL;
    if (o->csv && !fp) return -1;
    int ndone = 0;
    for (int f = 0; f < s->nframes; f++) ndone += s->done[f];
    double t0 = now_seconds();
    Progress p;
    if (o->progress) progress_start(&p, o->what ? o->what : "profile", "frames", s->nframes, ndone);
    if (o->progress && ndone) fprintf(stderr, "[%s] resumed: %d of %d frames already measured\n", p.what, ndone, s->nframes);
    int rc = 0;
    for (int f = 0; f < s->nframes && rc == 0; f++) {
        if (s->done[f]) continue;
        if ((rc = run_frame(s, ds, task, m, o, f)) < 0) break;
        s->done[f] = true, s->measured++, ndone++;
        if (fp) {
            rows_write(fp, s, f);
            if (fflush(fp) != 0) rc = rn_fail("writing %s failed (disk full?)", o->csv);
        }
        if (o->progress) progress_update(&p, ndone, s->name[f], false);
    }
    if (o->progress && rc == 0) progress_end(&p, ndone, NULL);
    if (fp && fclose(fp) != 0 && rc == 0) rc = rn_fail("writing %s failed", o->csv);
    s->t_wall = now_seconds() - t0;
    return rc;
}
