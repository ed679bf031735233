/* cmd_eval_seg.c: `rune eval-seg` — per-class IoU, mIoU and the tail-class mean of a segmenter over a labelled dataset. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "data/dataset.h"
#include "nn/models/segmenter.h"
#include "profile/seg_metrics.h"
#include "profile/tail.h"
#include "util/args.h"
#include "util/err.h"
#include "util/progress.h"

static int open_dataset(const char *kind, const char *root, const char *split, Dataset *ds) {
    if (!strcmp(kind, "camvid")) return ds_camvid(root, split, ds);
    if (!strcmp(kind, "cityscapes")) return ds_cityscapes(root, split, ds);
    return rn_fail("unknown --dataset '%s' (camvid or cityscapes)", kind);
}

/* Frame i through the model; its predictions are scored against the label map (255 = ignore). */
static int eval_frame(Segmenter *s, const Dataset *ds, int i, Confusion *conf) {
    Image im, lab;
    TRY(dataset_load_frame(ds, i, &im));
    if (dataset_load_label(ds, i, &im, &lab) < 0) {
        image_free(&im);
        return -1;
    }
    size_t hw = (size_t)im.w * im.h;
    Tensor *x = tensor_new(1, 3, im.h, im.w);
    for (int c = 0; c < 3; c++) /* HWC bytes -> CHW [0,1], as frame_from_image */
        for (size_t p = 0; p < hw; p++) x->data[c * hw + p] = (real_t)(im.px[3 * p + c] / 255.0);
    Tensor *y = segmenter_forward(s, x, false);
    uint8_t *pred = xmalloc(hw);
    segmenter_predict(s, y, 0, pred);
    confusion_add(conf, pred, lab.px, hw, DS_IGNORE);
    free(pred);
    image_free(&im), image_free(&lab);
    engine_step_reset();
    return 0;
}

static void class_name(const Segmenter *s, const Dataset *ds, int k, char *buf, size_t n) {
    if (k < ds->nclasses && ds->class_names) snprintf(buf, n, "%s", ds->class_names[k]);
    else if (s->class_names) snprintf(buf, n, "%s", s->class_names[k]);
    else snprintf(buf, n, "class%d", k);
}

/* Tail classes among the scored ones: the worse half by IoU (rounding down), as profile/tail.c. */
static int scored_tail(const Confusion *c, int scored, int *tail) {
    int n = 0;
    for (int k = 0; k < scored; k++)
        if (!isnan(confusion_iou(c, k))) tail[n++] = k;
    for (int i = 1; i < n; i++) /* insertion sort by IoU, worst first; ties keep class order */
        for (int j = i; j > 0 && confusion_iou(c, tail[j]) < confusion_iou(c, tail[j - 1]); j--) {
            int t = tail[j];
            tail[j] = tail[j - 1], tail[j - 1] = t;
        }
    return n / 2;
}

/* Scores classes [0, scored) of c (c may have one more row/column: the void class). */
static void report(const Segmenter *s, const Dataset *ds, const Confusion *c, int scored, int frames, FILE *csv) {
    int tail[256], nt = scored_tail(c, scored, tail), all[256];
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

static int run(Segmenter *s, const Dataset *ds, int limit, bool void_class, const char *csv_path) {
    int n = limit > 0 && limit < ds->n ? limit : ds->n;
    Confusion conf;
    int scored = s->classes;
    Segmenter all = *s; /* --void-class: the argmax runs over every output, the void channel included */
    if (void_class) all.classes = s->outputs;
    confusion_init(&conf, all.classes);
    Progress pg;
    progress_start(&pg, "eval-seg", "frames", n, 0);
    bool old = engine_set_grad(false);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = eval_frame(&all, ds, i, &conf);
        char extra[64];
        int ids[256];
        for (int k = 0; k < scored; k++) ids[k] = k;
        snprintf(extra, sizeof extra, "mIoU so far %.2f %%", 100 * mean_iou_over(&conf, ids, scored));
        progress_update(&pg, i + 1, extra, false);
    }
    engine_set_grad(old);
    if (rc == 0) {
        progress_end(&pg, n, "");
        FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
        if (csv_path && !csv) rc = rn_fail("%s: cannot write the CSV", csv_path);
        report(s, ds, &conf, scored, n, csv);
        if (csv && fclose(csv) != 0) rc = rn_fail("%s: write failed", csv_path);
    }
    confusion_free(&conf);
    return rc;
}

int cmd_eval_seg(int argc, char **argv) {
    const char *model = NULL, *arch = NULL, *norm = NULL, *data = NULL, *kind = "camvid", *split = "test", *csv = NULL;
    int classes = 0, limit = 0;
    bool void_class = false;
    ArgSpec specs[] = {
        {"model", ARG_STR, &model, "M", "weights: published ESPNet .pth, upstream SwiftNet .pth/.pt, or a rune .h5"},
        {"arch", ARG_STR, &arch, "A", "espnet or swiftnet (default: told from the file)"},
        {"classes", ARG_INT, &classes, "N", "classes predicted (default: the model's; ESPNet's void channel dropped)"},
        {"norm", ARG_STR, &norm, "NAME", "input normalisation (camvid, cityscapes; default as rune segment)"},
        {"data", ARG_STR, &data, "DIR", "dataset root"},
        {"dataset", ARG_STR, &kind, "KIND", "camvid or cityscapes"},
        {"split", ARG_STR, &split, "S", "split to score (train, val, test)"},
        {"csv", ARG_STR, &csv, "FILE", "also write class,iou,tail rows and the summary to FILE"},
        {"limit", ARG_INT, &limit, "N", "score only the first N frames (0 = all)"},
        {"void-class", ARG_BOOL, &void_class, NULL, "ESPNet's own protocol for a model with a void output: the argmax runs "
                                                    "over all outputs and void-labelled pixels are kept as that class (a "
                                                    "class predicted there loses IoU, a void prediction is a miss); the "
                                                    "mean is still over the real classes"},
        {0},
    };
    ArgCmd cmd = {"eval-seg", "--model M --data DIR [options]",
                  "Runs a frozen segmenter over every labelled frame of a split at full resolution and\n"
                  "accumulates one confusion matrix (label 255 = void/ignore is not counted; predictions\n"
                  "are the argmax over the real classes). Prints per-class IoU, mIoU over the classes that\n"
                  "occur, the tail-class mean (the worst half of the classes, the paper's 50%-100%) and\n"
                  "pixel accuracy. --void-class scores as ESPNet's scripts do (see its help line).",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!model || !data) args_usage_error(&cmd, "--model and --data are required");
    Dataset ds;
    if (open_dataset(kind, data, split, &ds) < 0) {
        fprintf(stderr, "rune eval-seg: %s\n", rn_errmsg());
        return 1;
    }
    Segmenter *s = segmenter_open(model, arch, classes, norm);
    int rc = s ? 0 : -1;
    if (rc == 0 && void_class && s->outputs <= s->classes)
        rc = rn_fail("--void-class: %s has no void output (%d outputs, %d classes)", model, s->outputs, s->classes);
    if (rc == 0 && s->classes != ds.nclasses)
        rc = rn_fail("%s predicts %d classes, %s has %d (use --classes)", model, s->classes, ds.name, ds.nclasses);
    if (rc == 0 && void_class) /* every ignore label becomes the void class, index `classes` */
        for (int v = 0; v < 256; v++)
            if (ds.label_lut[v] == DS_IGNORE) ds.label_lut[v] = (uint8_t)s->classes;
    if (rc == 0) {
        printf("rune eval-seg: %s (%s, %d outputs, %d classes) on %s, %d frames\n", model, s->arch_name, s->outputs,
               s->classes, ds.name, limit > 0 && limit < ds.n ? limit : ds.n);
        rc = run(s, &ds, limit, void_class, csv);
    }
    if (rc < 0) fprintf(stderr, "rune eval-seg: %s\n", rn_errmsg());
    segmenter_close(s);
    dataset_free(&ds);
    return rc < 0 ? 1 : 0;
}
