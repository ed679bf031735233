/* eval_det_tables.c: Table 6 — bilinear / SR / CloudSeg / ASR / HR through a frozen darknet detector on held-out images: mAP@0.5, tail-class mAP, PSNR/SSIM. */
#include "profile/eval_det_tables.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/degrade.h"
#include "data/resize.h"
#include "profile/det_coco_results.h"
#include "profile/det_score.h"
#include "profile/pairs.h"
#include "profile/sr_metrics.h"
#include "profile/tail.h"
#include "util/err.h"
#include "util/progress.h"
#include "util/rng.h"
#include "util/sort.h"

/* ---------------- the run ---------------- */

/* What the cloud hands the detector for method m: an 8-bit size x size frame (*own = true when it
 * must be freed). */
static Image reconstruct(const EvalMethod *m, const Image *hr, const Image *lr, bool *own) {
    *own = m->kind != EVAL_HR;
    if (m->kind == EVAL_HR) return *hr;
    Image up;
    if (m->kind == EVAL_CARN) {
        sr_upscale_image(m->carn, lr, m->scale, 0, &up);
        return up;
    }
    Frame f = frame_from_image(lr);
    Frame b = resize_bilinear(&f, lr->w * m->scale, lr->h * m->scale);
    up = image_from_frame(&b);
    frame_free(&f), frame_free(&b);
    return up;
}

static int run_image(DetTables *t, const Dataset *ds, int i, Darknet *net, const DetTablesOpts *o) {
    int iw, ih;
    TRY(image_probe(ds->samples[i].frame, &iw, &ih));
    Image hr;
    TRY(dataset_load_square(ds, i, t->size, &hr, NULL, NULL));
    const Sample *smp = &ds->samples[i];
    DetScoreOpts so = {(float)o->thresh, (float)o->nms, false, NULL, 0}; /* frames are the net's size: no letterbox */
    t->ngt[i] = smp->nboxes;
    t->gt[i] = xmalloc((size_t)(smp->nboxes ? smp->nboxes : 1) * sizeof(Box));
    if (smp->nboxes) memcpy(t->gt[i], smp->boxes, (size_t)smp->nboxes * sizeof(Box));
    int rc = 0;
    for (int m = 0; m < t->nmethods && rc == 0; m++) {
        const EvalMethod *me = &t->methods[m];
        Degraded d = {0};
        if (me->kind != EVAL_HR && (rc = degrade(&hr, me->scale, o->quality, &d)) < 0) break;
        bool own;
        Image in = reconstruct(me, &hr, &d.lr, &own);
        size_t at = (size_t)m * t->nimages + i;
        /* scored against the dataset's own boxes, in original pixels (IoU is unchanged by the resize) */
        t->dets[at] = det_score_image(net, &in, &so, iw, ih, smp->boxes, smp->nboxes, &t->ev[m], &t->ndets[at]);
        if (me->kind != EVAL_HR) {
            t->psnr[m] += sr_psnr(&in, &hr, me->scale) / t->nimages;
            t->ssim[m] += sr_ssim(&in, &hr, me->scale) / t->nimages;
            degraded_free(&d);
        }
        if (own) image_free(&in);
    }
    image_free(&hr);
    return rc;
}

static int check_setup(const Dataset *ds, const Darknet *net, const EvalMethod *methods, int nm) {
    if (!net->nheads) return rn_fail("%s: the detector has no [yolo] head", net->cfg.name);
    int classes = net->cfg.l[net->head[0]].yolo.classes;
    if (classes != ds->nclasses)
        return rn_fail("%s: detector has %d classes, dataset %d (COCO's 80 in darknet order expected)", ds->name,
                       classes, ds->nclasses);
    if (net->cfg.width != net->cfg.height) return rn_fail("detector input %dx%d: square wanted", net->cfg.width, net->cfg.height);
    for (int m = 0; m < nm; m++) {
        if (methods[m].kind != EVAL_HR && net->cfg.width % methods[m].scale)
            return rn_fail("detector input %d is not a multiple of x%d (%s)", net->cfg.width, methods[m].scale, methods[m].name);
        if (methods[m].kind == EVAL_CARN && !carn_has_scale(methods[m].carn, methods[m].scale))
            return rn_fail("%s: no x%d head (%s)", methods[m].file, methods[m].scale, methods[m].name);
    }
    return 0;
}

int det_tables_run(const Dataset *ds, Darknet *net, const EvalMethod *methods, int nm, const DetTablesOpts *o,
                   DetTables *t) {
    memset(t, 0, sizeof *t);
    TRY(check_setup(ds, net, methods, nm));
    double t0 = now_seconds();
    t->nclasses = ds->nclasses;
    t->class_names = xcalloc((size_t)ds->nclasses, sizeof *t->class_names);
    for (int c = 0; c < ds->nclasses; c++) t->class_names[c] = xstrdup(ds->class_names[c]);
    t->nmethods = nm;
    t->methods = xmalloc((size_t)nm * sizeof *t->methods);
    memcpy(t->methods, methods, (size_t)nm * sizeof *methods);
    t->ev = xmalloc((size_t)nm * sizeof *t->ev);
    t->psnr = xcalloc((size_t)nm, sizeof *t->psnr);
    t->ssim = xcalloc((size_t)nm, sizeof *t->ssim);
    for (int m = 0; m < nm; m++) det_eval_init(&t->ev[m], ds->nclasses, o->iou);
    t->nimages = o->max_images > 0 && o->max_images < ds->n ? o->max_images : ds->n;
    t->size = net->cfg.width, t->quality = o->quality;
    t->dets = xcalloc((size_t)nm * t->nimages, sizeof *t->dets);
    t->ndets = xcalloc((size_t)nm * t->nimages, sizeof *t->ndets);
    t->gt = xcalloc((size_t)t->nimages, sizeof *t->gt);
    t->ngt = xcalloc((size_t)t->nimages, sizeof *t->ngt);
    Progress pg;
    progress_start(&pg, "eval-det-asr", "images", t->nimages, 0);
    for (int i = 0; i < t->nimages; i++) {
        if (run_image(t, ds, i, net, o) < 0) return -1; /* det_tables_free cleans up */
        if (o->progress) progress_update(&pg, i + 1, "", false);
    }
    if (o->progress) progress_end(&pg, t->nimages, "");
    for (int m = 0; m < nm; m++)
        if (methods[m].kind == EVAL_HR) t->psnr[m] = t->ssim[m] = NAN;
    t->seconds = now_seconds() - t0;
    return 0;
}

void det_tables_free(DetTables *t) {
    for (int c = 0; c < t->nclasses; c++) free(t->class_names[c]);
    for (int m = 0; t->ev && m < t->nmethods; m++) det_eval_free(&t->ev[m]);
    for (size_t k = 0; t->dets && k < (size_t)t->nmethods * t->nimages; k++) free(t->dets[k]);
    for (int i = 0; t->gt && i < t->nimages; i++) free(t->gt[i]);
    free(t->dets), free(t->ndets), free(t->gt), free(t->ngt);
    free(t->class_names), free(t->methods), free(t->ev), free(t->psnr), free(t->ssim);
    memset(t, 0, sizeof *t);
}

/* ---------------- derived numbers ---------------- */

double det_tables_map(const DetTables *t, int m) { return det_eval_map(&t->ev[m], NULL); }

int det_tail_classes(const DetTables *t, int ref, int *tail) {
    double *ap = xmalloc((size_t)t->nclasses * sizeof *ap);
    det_eval_map(&t->ev[ref], ap); /* NaN for a class without ground truth: not ranked */
    int n = tail_worse_half(ap, t->nclasses, tail);
    free(ap);
    return n;
}

double det_tables_tail_map(const DetTables *t, int m, const int *tail, int n) {
    if (n <= 0) return NAN;
    double sum = 0;
    for (int k = 0; k < n; k++) sum += det_eval_ap(&t->ev[m], tail[k]);
    return sum / n;
}

/* mAP of method m over the images pick[0..n). */
static double map_of(const DetTables *t, int m, const int *pick, int n) {
    DetEval e;
    det_eval_init(&e, t->nclasses, t->ev[m].iou_thresh);
    for (int k = 0; k < n; k++) {
        size_t at = (size_t)m * t->nimages + pick[k];
        det_eval_add(&e, t->dets[at], t->ndets[at], t->gt[pick[k]], t->ngt[pick[k]]);
    }
    double v = det_eval_map(&e, NULL);
    det_eval_free(&e);
    return v;
}

double det_tables_bootstrap(const DetTables *t, int a, int b, int reps, uint64_t seed, double *lo, double *hi) {
    int n = t->nimages, *pick = xmalloc((size_t)n * sizeof *pick);
    double *d = xmalloc((size_t)(reps > 0 ? reps : 1) * sizeof *d);
    uint64_t r = splitmix64_hash(seed);
    for (int k = 0; k < reps; k++) {
        for (int i = 0; i < n; i++) pick[i] = (int)((r = splitmix64_hash(r)) % (uint64_t)n);
        d[k] = map_of(t, a, pick, n) - map_of(t, b, pick, n);
    }
    qsort(d, (size_t)reps, sizeof *d, cmp_double);
    *lo = reps ? d[(int)(0.025 * (reps - 1) + 0.5)] : NAN;
    *hi = reps ? d[(int)(0.975 * (reps - 1) + 0.5)] : NAN;
    free(d), free(pick);
    return det_tables_map(t, a) - det_tables_map(t, b);
}

/* ---------------- files ---------------- */

static int ref_method(const DetTables *t) {
    for (int m = 0; m < t->nmethods; m++)
        if (t->methods[m].kind == EVAL_HR) return m;
    return -1;
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t n) {
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) rn_fail("%s: cannot write: %s", path, strerror(errno));
    return f;
}

static void fmt_num(char *buf, size_t n, const char *fmt, double v) {
    if (isnan(v)) snprintf(buf, n, "—");
    else snprintf(buf, n, fmt, v);
}

/* One table row per method, in the methods' order (HR shows no PSNR/SSIM). */
static void write_table6(const DetTables *t, const int *tail, int nt, FILE *md, FILE *csv, FILE *echo) {
    const char *head = "| scale | method | mAP@0.5 | tail mAP@0.5 | PSNR (dB) | SSIM |\n|---|---|---|---|---|---|\n";
    fprintf(md, "%s", head);
    if (echo) fprintf(echo, "%s", head);
    fprintf(csv, "scale,method,map50,tail_map50,psnr,ssim,file\n");
    for (int m = 0; m < t->nmethods; m++) {
        const EvalMethod *me = &t->methods[m];
        double map = det_tables_map(t, m), tmap = det_tables_tail_map(t, m, tail, nt);
        char a[32], b[32], p[32], s[32], sc[16];
        fmt_num(a, sizeof a, "%.3f", map), fmt_num(b, sizeof b, "%.3f", tmap);
        fmt_num(p, sizeof p, "%.2f", t->psnr[m]), fmt_num(s, sizeof s, "%.3f", t->ssim[m]);
        if (me->kind == EVAL_HR) snprintf(sc, sizeof sc, "—");
        else snprintf(sc, sizeof sc, "x%d", me->scale);
        fprintf(md, "| %s | %s | %s | %s | %s | %s |\n", sc, me->name, a, b, p, s);
        if (echo) fprintf(echo, "| %s | %s | %s | %s | %s | %s |\n", sc, me->name, a, b, p, s);
        fprintf(csv, "%d,%s,%.6f,%.6f,%.4f,%.5f,%s\n", me->kind == EVAL_HR ? 1 : me->scale, me->name, map, tmap,
                t->psnr[m], t->ssim[m], me->file);
    }
}

static void write_classes(const DetTables *t, const bool *is_tail, FILE *csv) {
    fprintf(csv, "class_id,class,gt,tail");
    for (int m = 0; m < t->nmethods; m++)
        fprintf(csv, ",%s_x%d", t->methods[m].name, t->methods[m].kind == EVAL_HR ? 1 : t->methods[m].scale);
    fprintf(csv, "\n");
    for (int c = 0; c < t->nclasses; c++) {
        if (!t->ev[0].npos[c]) continue;
        fprintf(csv, "%d,%s,%d,%d", c, t->class_names[c], t->ev[0].npos[c], is_tail[c]);
        for (int m = 0; m < t->nmethods; m++) fprintf(csv, ",%.4f", det_eval_ap(&t->ev[m], c));
        fprintf(csv, "\n");
    }
}

static void write_diff(const DetTables *t, int a, int b, FILE *md, FILE *csv) {
    double lo, hi, d = det_tables_bootstrap(t, a, b, 1000, 1, &lo, &hi);
    const char *an = t->methods[a].name, *bn = t->methods[b].name;
    fprintf(md, "| x%d | %s - %s | %+.3f | [%+.3f, %+.3f] |\n", t->methods[a].scale, an, bn, d, lo, hi);
    fprintf(csv, "%d,%s,%s,%.6f,%.6f,%.6f\n", t->methods[a].scale, an, bn, d, lo, hi);
}

/* Method `name` at `scale` (hr at any scale); -1 when absent. */
static int find_method(const DetTables *t, const char *name, int scale) {
    for (int m = 0; m < t->nmethods; m++)
        if (!strcmp(t->methods[m].name, name) && (t->methods[m].kind == EVAL_HR || t->methods[m].scale == scale))
            return m;
    return -1;
}

/* Whether method m is the first (non-hr) method at its scale. */
static bool first_at_scale(const DetTables *t, int m) {
    for (int k = 0; k < m; k++)
        if (t->methods[k].kind != EVAL_HR && t->methods[k].scale == t->methods[m].scale) return false;
    return true;
}

/* The pairs in `spec` at every scale where both exist; NULL spec: asr minus every other method at
 * its scale and minus hr. */
static void write_diffs(const DetTables *t, int ref, const char *spec, FILE *md, FILE *csv) {
    fprintf(md, "Paired image bootstrap (1000 resamples of the %d images) of mAP@0.5 differences, 95 %% interval.\n\n"
                "| scale | difference | mAP diff | 95 %% interval |\n|---|---|---|---|\n", t->nimages);
    fprintf(csv, "scale,a,b,diff,lo,hi\n");
    if (!spec) {
        for (int a = 0; a < t->nmethods; a++) {
            if (strcmp(t->methods[a].name, "asr") || t->methods[a].kind == EVAL_HR) continue;
            for (int b = 0; b < t->nmethods; b++)
                if (b != a && (b == ref || t->methods[b].scale == t->methods[a].scale)) write_diff(t, a, b, md, csv);
        }
        return;
    }
    const char *pairs[MAX_PAIRS][2];
    char buf[1024];
    int np = parse_pairs(spec, NULL, buf, sizeof buf, pairs);
    for (int m = 0; m < t->nmethods; m++) { /* each scale once, in table order */
        int s = t->methods[m].scale;
        if (t->methods[m].kind == EVAL_HR || !first_at_scale(t, m)) continue;
        for (int p = 0; p < np; p++) {
            int a = find_method(t, pairs[p][0], s), b = find_method(t, pairs[p][1], s);
            if (a >= 0 && b >= 0 && t->methods[a].kind != EVAL_HR) write_diff(t, a, b, md, csv);
        }
    }
}

int det_tables_write(const DetTables *t, const char *outdir, const char *diffs, FILE *echo) {
    int ref = ref_method(t);
    if (ref < 0) return rn_fail("det tables: no hr method to rank the classes by");
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) return rn_fail("%s: cannot create: %s", outdir, strerror(errno));
    int *tail = xmalloc((size_t)t->nclasses * sizeof *tail), nt = det_tail_classes(t, ref, tail);
    bool *is_tail = xcalloc((size_t)t->nclasses, sizeof *is_tail);
    for (int k = 0; k < nt; k++) is_tail[tail[k]] = true;
    char p1[4096], p2[4096], p3[4096], p4[4096], p5[4096];
    FILE *md = open_out(outdir, "table6.md", p1, sizeof p1), *csv = md ? open_out(outdir, "table6.csv", p2, sizeof p2) : NULL;
    FILE *cls = csv ? open_out(outdir, "classes.csv", p3, sizeof p3) : NULL;
    FILE *dmd = cls ? open_out(outdir, "diffs.md", p4, sizeof p4) : NULL;
    FILE *dcsv = dmd ? open_out(outdir, "diffs.csv", p5, sizeof p5) : NULL;
    int rc = dcsv ? 0 : -1;
    if (!rc) {
        fprintf(md, "Table 6 (detection): %d images at %dx%d, JPEG quality %d (0 = lossless); mAP = AP@0.5 by COCO's "
                    "definition (pycocotools' matching and 101 recall points, every detection kept: no 100-per-image "
                    "cap) over classes with ground truth; tail = the worse half of them by HR AP (%d classes).\n\n",
                t->nimages, t->size, t->size, t->quality, nt);
        write_table6(t, tail, nt, md, csv, echo);
        write_classes(t, is_tail, cls);
        write_diffs(t, ref, diffs, dmd, dcsv);
    }
    if (md && fclose(md) != 0 && !rc) rc = rn_fail("%s: write error", p1);
    if (csv && fclose(csv) != 0 && !rc) rc = rn_fail("%s: write error", p2);
    if (cls && fclose(cls) != 0 && !rc) rc = rn_fail("%s: write error", p3);
    if (dmd && fclose(dmd) != 0 && !rc) rc = rn_fail("%s: write error", p4);
    if (dcsv && fclose(dcsv) != 0 && !rc) rc = rn_fail("%s: write error", p5);
    free(tail), free(is_tail);
    return rc;
}

int det_tables_write_coco(const DetTables *t, const Dataset *ds, const char *dir) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return rn_fail("%s: cannot create: %s", dir, strerror(errno));
    char path[4096];
    for (int m = 0; m < t->nmethods; m++) {
        DetCocoOut o;
        snprintf(path, sizeof path, "%s/%s_x%d.json", dir, t->methods[m].name, t->methods[m].scale);
        TRY(det_coco_open(&o, path));
        for (int i = 0; i < t->nimages; i++) {
            size_t at = (size_t)m * t->nimages + i;
            det_coco_add(&o, ds, i, t->dets[at], t->ndets[at]);
        }
        TRY(det_coco_close(&o));
    }
    snprintf(path, sizeof path, "%s/images.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("%s: cannot write", path);
    fputc('[', f);
    for (int i = 0; i < t->nimages; i++) fprintf(f, "%s%ld", i ? ", " : "", det_coco_image_id(ds, i));
    fputs("]\n", f);
    bool bad = ferror(f) != 0;
    if ((fclose(f) != 0) | bad) return rn_fail("%s: write error", path);
    return 0;
}
