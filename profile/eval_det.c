/* eval_det.c: a darknet detector over a labelled detection dataset — class mapping by name, AP per class (COCO or darknet), mAP, the report. */
#include "profile/eval_det.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/darknet.h"
#include "profile/det_coco_results.h"
#include "profile/det_score.h"
#include "util/err.h"

/* ---- class mapping: model class -> dataset class ---- */

static bool same_name(const char *a, const char *b) {
    while (*a || *b) {
        while (*a == ' ' || *a == '_' || *a == '-') a++;
        while (*b == ' ' || *b == '_' || *b == '-') b++;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
        if (*a) a++, b++;
    }
    return true;
}

/* Tried in order, the first whose target the dataset has wins. Darknet's coco.names (Yolo-Fastest's)
 * keeps VOC's spelling for four COCO classes: motorbike, aeroplane, sofa, tvmonitor. */
static const char *const aliases[][2] = {{"person", "pedestrian"}, {"motorbike", "motorcycle"}, {"aeroplane", "airplane"},
                                         {"motorcycle", "motor"},    {"motorbike", "motor"},       {"tvmonitor", "tv"},
                                         {"sofa", "couch"},          {NULL, NULL}};

static int map_class(const char *model_name, const Dataset *ds) {
    for (int c = 0; c < ds->nclasses; c++)
        if (same_name(model_name, ds->class_names[c])) return c;
    for (int k = 0; aliases[k][0]; k++)
        if (same_name(model_name, aliases[k][0]))
            for (int c = 0; c < ds->nclasses; c++)
                if (same_name(aliases[k][1], ds->class_names[c])) return c;
    return -1;
}

int *det_class_map(char **names, int nn, int model_classes, const Dataset *ds, bool *mapped) {
    int *map = xmalloc((size_t)(model_classes ? model_classes : 1) * sizeof *map);
    for (int m = 0; m < model_classes; m++) {
        map[m] = nn > 0 ? (m < nn ? map_class(names[m], ds) : -1) : (m < ds->nclasses ? m : -1);
        if (map[m] >= 0) mapped[map[m]] = true;
    }
    return map;
}

/* ---- the report ---- */

typedef struct Scoring {
    DetEval main;             /* at --iou, by --ap: the per-class table */
    DetEval sweep[DET_COCO_NIOU]; /* COCO only: one per IoU of AP@[.50:.95] */
    int nsweep;
    DetCocoOut json;          /* --json, when given */
} Scoring;

/* Mean AP over the classes the model has and the data has ground truth for (NaN when none). */
static double mean_ap(const DetEval *ev, const bool *mapped, int *counted) {
    double s = 0;
    int m = 0;
    for (int c = 0; c < ev->nclasses; c++) {
        double a = det_eval_ap(ev, c);
        if (mapped[c] && !isnan(a)) s += a, m++;
    }
    if (counted) *counted = m;
    return m ? s / m : NAN;
}

static void print_ap_line(const Scoring *sc, const bool *mapped, const EvalDetOpts *o, int nimg) {
    int with_gt, all = 0;
    double map = mean_ap(&sc->main, mapped, &with_gt);
    for (int c = 0; c < sc->main.nclasses; c++) all += mapped[c];
    if (o->def.kind == DET_AP_DARKNET) {
        char pts[32];
        snprintf(pts, sizeof pts, o->def.points > 1 ? "%d recall points" : "area under the curve", o->def.points);
        printf("mAP@%.2f = %.2f %% over %d model classes, 0 for the %d without ground truth (darknet's detector map, "
               "%s); %.2f %% over the %d with ground truth; %d images, score > %.3g, NMS %.2f\n",
               o->iou, 100 * det_eval_map_darknet(&sc->main, mapped), all, all - with_gt, pts, 100 * map, with_gt, nimg,
               o->thresh, o->nms);
        return;
    }
    char cap[48] = "every detection";
    if (o->def.max_dets > 0) snprintf(cap, sizeof cap, "the top %d per image and class", o->def.max_dets);
    printf("mAP@%.2f = %.2f %% over %d classes with ground truth, %d images (COCO 101-point AP, %s; score > %.3g, "
           "NMS %.2f)\n", o->iou, 100 * map, with_gt, nimg, cap, o->thresh, o->nms);
    double ap[DET_COCO_NIOU], avg = 0;
    for (int k = 0; k < sc->nsweep; k++) avg += (ap[k] = mean_ap(&sc->sweep[k], mapped, NULL)) / sc->nsweep;
    if (sc->nsweep == DET_COCO_NIOU)
        printf("COCO AP@[.50:.95] = %.2f %%, AP@.50 = %.2f %%, AP@.75 = %.2f %% (pycocotools' first three)\n", 100 * avg,
               100 * ap[0], 100 * ap[5]);
}

static void report(const Scoring *sc, const Dataset *ds, const bool *mapped, const EvalDetOpts *o, int nimg, FILE *csv) {
    const DetEval *ev = &sc->main;
    double *ap = xmalloc((size_t)(ds->nclasses ? ds->nclasses : 1) * sizeof *ap);
    det_eval_map(ev, ap);
    printf("%4s %-18s %6s %8s %6s %6s\n", "id", "class", "GT", "AP", "TP", "FP");
    if (csv) fprintf(csv, "class_id,class,gt,ap,tp_at_0.25,fp_at_0.25\n");
    for (int c = 0; c < ds->nclasses; c++) {
        int tp, fp;
        det_eval_counts(ev, c, 0.25f, &tp, &fp);
        bool use = mapped[c] && !isnan(ap[c]);
        char apbuf[16];
        if (!mapped[c]) snprintf(apbuf, sizeof apbuf, "no-class");
        else if (isnan(ap[c])) snprintf(apbuf, sizeof apbuf, "-");
        else snprintf(apbuf, sizeof apbuf, "%.2f%%", 100 * ap[c]);
        if (ev->npos[c]) printf("%4d %-18s %6d %8s %6d %6d\n", c, ds->class_names[c], ev->npos[c], apbuf, tp, fp);
        if (csv) fprintf(csv, "%d,%s,%d,%s,%d,%d\n", c, ds->class_names[c], ev->npos[c], use ? apbuf : "", tp, fp);
    }
    print_ap_line(sc, mapped, o, nimg);
    double map = o->def.kind == DET_AP_DARKNET ? det_eval_map_darknet(ev, mapped) : mean_ap(ev, mapped, NULL);
    if (csv) fprintf(csv, "-1,mAP,%d,%.4f,,\n", dataset_nboxes(ds), 100 * map);
    free(ap);
}

/* ---- the run ---- */

static void scoring_init(Scoring *sc, int nclasses, const EvalDetOpts *o) {
    memset(sc, 0, sizeof *sc);
    det_eval_init_def(&sc->main, nclasses, o->iou, o->def);
    sc->nsweep = o->def.kind == DET_AP_COCO ? DET_COCO_NIOU : 0;
    for (int k = 0; k < sc->nsweep; k++) det_eval_init_def(&sc->sweep[k], nclasses, det_coco_iou(k), o->def);
}

static void scoring_free(Scoring *sc) {
    det_eval_free(&sc->main);
    for (int k = 0; k < sc->nsweep; k++) det_eval_free(&sc->sweep[k]);
}

/* Every image with a frame, up to the limit, into sc (and its --json file); *done counts them. */
static int score_images(Darknet *net, const Dataset *ds, const DetScoreOpts *so, int limit, Scoring *sc, int *done) {
    int total = limit > 0 && limit < ds->n ? limit : ds->n;
    *done = 0;
    for (int i = 0; i < total; i++) {
        const Sample *s = &ds->samples[i];
        if (!s->frame) continue;
        Image im;
        TRY(dataset_load_frame(ds, i, &im));
        int n;
        DetBox *b = det_score_image(net, &im, so, im.w, im.h, s->boxes, s->nboxes, &sc->main, &n);
        for (int k = 0; k < sc->nsweep; k++) det_eval_add(&sc->sweep[k], b, n, s->boxes, s->nboxes);
        if (sc->json.f) det_coco_add(&sc->json, ds, i, b, n);
        free(b);
        image_free(&im);
        if (++*done % 16 == 0) fprintf(stderr, "\r%d/%d images", *done, total);
    }
    if (*done >= 16) fprintf(stderr, "\n");
    return 0;
}

/* Scores the dataset with the model's classes mapped onto it, then reports. */
static int evaluate(Darknet *net, const Dataset *ds, char **names, int nn, const EvalDetOpts *o) {
    int mc = net->nheads ? net->cfg.l[net->head[0]].yolo.classes : 0;
    bool *mapped = xcalloc((size_t)(ds->nclasses ? ds->nclasses : 1), 1);
    int *map = det_class_map(names, nn, mc, ds, mapped), done;
    DetScoreOpts so = {(float)o->thresh, (float)o->nms, o->letter < 0 ? net->cfg.letter_box : o->letter, map, mc};
    Scoring sc;
    scoring_init(&sc, ds->nclasses, o);
    int rc = o->json && *o->json ? det_coco_open(&sc.json, o->json) : 0;
    if (!rc) rc = score_images(net, ds, &so, o->limit, &sc, &done);
    if (!rc && done == 0) rc = rn_fail("%s: no images to score (layouts: rune eval-det --help)", o->data);
    int with_gt = 0;
    if (!rc) mean_ap(&sc.main, mapped, &with_gt);
    if (!rc && with_gt == 0) /* every AP would be undefined: a missing labels folder, or no common class */
        rc = rn_fail("%s: no ground-truth box of a class the model has (labels missing, or no class names in common?)", o->data);
    if (det_coco_close(&sc.json) < 0) rc = -1;
    FILE *csv = NULL;
    if (!rc && o->csv && *o->csv && !(csv = fopen(o->csv, "w"))) rc = rn_fail("%s: cannot write", o->csv);
    if (!rc) report(&sc, ds, mapped, o, done, csv);
    if (csv && fclose(csv) != 0) rc = rn_fail("%s: write error", o->csv);
    scoring_free(&sc);
    free(map), free(mapped);
    return rc;
}

int eval_det_run(const EvalDetOpts *o) {
    Darknet net;
    Dataset ds;
    char **names = NULL;
    if (strcmp(o->format, "coco") && strcmp(o->format, "yolo") && strcmp(o->format, "visdrone"))
        return rn_fail("--format %s: one of coco, yolo, visdrone", o->format);
    TRY(darknet_open(&net, o->model, o->weights));
    if (dataset_open_ann(o->format, o->data, NULL, o->ann, &ds) < 0) return darknet_free(&net), -1;
    int nn = det_names_load(o->names, o->model, &names);
    int rc = nn < 0 ? -1 : evaluate(&net, &ds, names, nn, o);
    dn_names_free(names, nn > 0 ? nn : 0), dataset_free(&ds), darknet_free(&net);
    return rc;
}
