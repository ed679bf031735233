/* eval_segmenter.c: one frozen segmenter over a labelled split at full resolution — confusion, per-class IoU, mIoU, tail-class mean. */
#include "profile/eval_segmenter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "profile/eval_seg.h"
#include "profile/tail.h"
#include "util/err.h"
#include "util/progress.h"

/* Frames (float) go straight into engine tensors; profile/ is built in float32 only. */
_Static_assert(sizeof(real_t) == sizeof(float), "profile/ expects the float32 engine");

/* Frame i through the model; its predictions are scored against the label map (255 = ignore). */
static int eval_frame(Segmenter *s, const Dataset *ds, int i, bool all_outputs, Confusion *conf) {
    Image im, lab;
    TRY(dataset_load_frame(ds, i, &im));
    if (dataset_load_label(ds, i, &im, &lab) < 0) {
        image_free(&im);
        return -1;
    }
    size_t hw = (size_t)im.w * im.h;
    float *x = xmalloc(3 * hw * sizeof *x);
    uint8_t *pred = xmalloc(hw);
    image_to_planar(&im, PIXEL_DIV, x); /* as the published models' PyTorch inputs */
    seg_predict_planar(s, x, im.w, im.h, all_outputs, pred);
    confusion_add(conf, pred, lab.px, hw, DS_IGNORE);
    free(pred), free(x);
    image_free(&im), image_free(&lab);
    return 0;
}

static void class_name(const Segmenter *s, const Dataset *ds, int k, char *buf, size_t n) {
    if (k < ds->nclasses && ds->class_names) snprintf(buf, n, "%s", ds->class_names[k]);
    else if (s->class_names) snprintf(buf, n, "%s", s->class_names[k]);
    else snprintf(buf, n, "class%d", k);
}

/* Scores classes [0, scored) of c (c may have one more row/column: the void class). */
static void report(const Segmenter *s, const Dataset *ds, const Confusion *c, int scored, int frames, FILE *csv) {
    int tail[256], nt = tail_classes(c, scored, tail), all[256];
    bool is_tail[256] = {false};
    for (int i = 0; i < nt; i++) is_tail[tail[i]] = true;
    printf("\n%-14s %8s\n", "class", "IoU %");
    if (csv) fprintf(csv, "class,iou,tail\n");
    for (int k = 0; k < scored; k++) {
        char name[64];
        class_name(s, ds, k, name, sizeof name);
        double v = confusion_iou(c, k);
        all[k] = k;
        printf("%-14s %8.2f%s\n", name, 100 * v, is_tail[k] ? "  (tail)" : "");
        if (csv) fprintf(csv, "%s,%.6f,%d\n", name, v, is_tail[k]);
    }
    double miou = mean_iou_over(c, all, scored), tm = mean_iou_over(c, tail, nt), acc = confusion_pixel_acc(c);
    printf("%-14s %8.2f\n%-14s %8.2f  (mean over the worst %d classes)\n%-14s %8.2f\n", "mIoU", 100 * miou,
           "tail mIoU", 100 * tm, nt, "pixel acc", 100 * acc);
    printf("%d frames of %s\n", frames, ds->name);
    if (csv) fprintf(csv, "mIoU,%.6f,\ntail_mIoU,%.6f,\npixel_acc,%.6f,\nframes,%d,\n", miou, tm, acc, frames);
}

/* The confusion over the first n frames (one more class with void_class: the void output). */
static int score_frames(Segmenter *s, const Dataset *ds, int n, bool void_class, Confusion *conf) {
    int scored = s->classes, ids[256];
    for (int k = 0; k < scored; k++) ids[k] = k;
    confusion_init(conf, void_class ? s->outputs : s->classes);
    Progress pg;
    progress_start(&pg, "eval-seg", "frames", n, 0);
    for (int i = 0; i < n; i++) {
        TRY(eval_frame(s, ds, i, void_class, conf));
        char extra[64];
        snprintf(extra, sizeof extra, "mIoU so far %.2f %%", 100 * mean_iou_over(conf, ids, scored));
        progress_update(&pg, i + 1, extra, false);
    }
    progress_end(&pg, n, "");
    return 0;
}

static int run(Segmenter *s, const Dataset *ds, const EvalSegmenterOpts *o) {
    int n = o->limit > 0 && o->limit < ds->n ? o->limit : ds->n;
    printf("rune eval-seg: %s (%s, %d outputs, %d classes) on %s, %d frames\n", o->model, s->arch_name, s->outputs,
           s->classes, ds->name, n);
    Confusion conf;
    int rc = score_frames(s, ds, n, o->void_class, &conf);
    if (rc == 0) { /* the table is printed even when the CSV cannot be written */
        FILE *csv = o->csv ? fopen(o->csv, "w") : NULL;
        if (o->csv && !csv) rc = rn_fail("%s: cannot write the CSV", o->csv);
        report(s, ds, &conf, s->classes, n, csv);
        if (csv && fclose(csv) != 0) rc = rn_fail("%s: write failed", o->csv);
    }
    confusion_free(&conf);
    return rc;
}

/* The model must predict the dataset's classes; --void-class needs a void output, and every ignore
 * label becomes that class (index `classes`). */
static int check_model(Segmenter *s, Dataset *ds, const EvalSegmenterOpts *o) {
    if (o->void_class && s->outputs <= s->classes)
        return rn_fail("--void-class: %s has no void output (%d outputs, %d classes)", o->model, s->outputs, s->classes);
    if (s->classes != ds->nclasses)
        return rn_fail("%s predicts %d classes, %s has %d (use --classes)", o->model, s->classes, ds->name, ds->nclasses);
    if (o->void_class)
        for (int v = 0; v < 256; v++)
            if (ds->label_lut[v] == DS_IGNORE) ds->label_lut[v] = (uint8_t)s->classes;
    return 0;
}

int eval_segmenter_run(const EvalSegmenterOpts *o) {
    Dataset ds;
    TRY(dataset_open(o->kind, o->data, o->split, &ds));
    Segmenter *s = segmenter_open(o->model, o->arch, o->classes, o->norm);
    int rc = s ? check_model(s, &ds, o) : -1;
    if (rc == 0) {
        bool old = engine_set_grad(false);
        rc = run(s, &ds, o);
        engine_set_grad(old);
    }
    segmenter_close(s);
    dataset_free(&ds);
    return rc;
}
