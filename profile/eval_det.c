/* eval_det.c: a darknet detector over a labelled detection dataset — class mapping by name, AP per class, mAP, the report. */
#include "profile/eval_det.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/darknet.h"
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

static const char *const aliases[][2] = {{"person", "pedestrian"}, {"motorcycle", "motor"}, {"motorbike", "motor"},
                                         {"tvmonitor", "tv"}, {"sofa", "couch"}, {NULL, NULL}};

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

static void report(const DetEval *ev, const Dataset *ds, const bool *mapped, const EvalDetOpts *o, int nimg, FILE *csv) {
    double *ap = xmalloc((size_t)(ds->nclasses ? ds->nclasses : 1) * sizeof *ap), sum = 0;
    int counted = 0;
    det_eval_map(ev, ap);
    printf("%4s %-18s %6s %8s %6s %6s\n", "id", "class", "GT", "AP", "TP", "FP");
    if (csv) fprintf(csv, "class_id,class,gt,ap,tp_at_0.25,fp_at_0.25\n");
    for (int c = 0; c < ds->nclasses; c++) {
        int tp, fp;
        det_eval_counts(ev, c, 0.25f, &tp, &fp);
        bool use = mapped[c] && !isnan(ap[c]);
        if (use) sum += ap[c], counted++;
        char apbuf[16];
        if (!mapped[c]) snprintf(apbuf, sizeof apbuf, "no-class");
        else if (isnan(ap[c])) snprintf(apbuf, sizeof apbuf, "-");
        else snprintf(apbuf, sizeof apbuf, "%.2f%%", 100 * ap[c]);
        if (ev->npos[c]) printf("%4d %-18s %6d %8s %6d %6d\n", c, ds->class_names[c], ev->npos[c], apbuf, tp, fp);
        if (csv) fprintf(csv, "%d,%s,%d,%s,%d,%d\n", c, ds->class_names[c], ev->npos[c], use ? apbuf : "", tp, fp);
    }
    double map = counted ? sum / counted : NAN;
    printf("mAP@%.2f = %.2f %% over %d classes with ground truth, %d images (COCO 101-point AP; score > %.3g, NMS %.2f)\n",
           o->iou, 100 * map, counted, nimg, o->thresh, o->nms);
    if (csv) fprintf(csv, "-1,mAP,%d,%.4f,,\n", dataset_nboxes(ds), 100 * map);
    free(ap);
}

/* ---- the run ---- */

/* Every image with a frame, up to the limit, into ev; *done counts them. */
static int score_images(Darknet *net, const Dataset *ds, const DetScoreOpts *so, int limit, DetEval *ev, int *done) {
    int total = limit > 0 && limit < ds->n ? limit : ds->n;
    *done = 0;
    for (int i = 0; i < total; i++) {
        if (!ds->samples[i].frame) continue;
        Image im;
        TRY(dataset_load_frame(ds, i, &im));
        int n;
        free(det_score_image(net, &im, so, im.w, im.h, ds->samples[i].boxes, ds->samples[i].nboxes, ev, &n));
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
    DetEval ev;
    det_eval_init(&ev, ds->nclasses, o->iou);
    int rc = score_images(net, ds, &so, o->limit, &ev, &done);
    FILE *csv = NULL;
    if (!rc && o->csv && *o->csv && !(csv = fopen(o->csv, "w"))) rc = rn_fail("%s: cannot write", o->csv);
    if (!rc) report(&ev, ds, mapped, o, done, csv);
    if (csv && fclose(csv) != 0) rc = rn_fail("%s: write error", o->csv);
    det_eval_free(&ev);
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
