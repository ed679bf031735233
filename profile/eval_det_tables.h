/* eval_det_tables.h: detection ASR (Table 6) — images at the detector's size, per-method mAP@0.5, tail-class mAP, PSNR/SSIM. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "data/dataset.h"
#include "nn/models/darknet.h"
#include "profile/det_metrics.h"
#include "profile/eval_seg.h" /* EvalMethod / EvalKind: the same bilinear / CARN / HR candidates */

typedef struct DetTablesOpts {
    int quality;       /* the edge's JPEG quality, 0 = lossless */
    int max_images;    /* 0 = every sample of ds */
    double thresh, nms, iou; /* darknet's `detector map`: .005, .45; AP at IoU .5 */
    bool progress;
} DetTablesOpts;

typedef struct DetTables {
    int nclasses;
    char **class_names;   /* [nclasses] */
    int nmethods;
    EvalMethod *methods;  /* [nmethods] copies */
    DetEval *ev;          /* [nmethods] detections vs ground truth of every image */
    double *psnr, *ssim;  /* [nmethods] means over images (Y channel, border = scale); NaN for hr */
    int nimages, size, quality;
    double seconds;
    /* per image, for the bootstrap: detections [nmethods * nimages] and ground truth [nimages] */
    DetBox **dets;
    int *ndets;
    Box **gt;
    int *ngt;
} DetTables;

/* Every image of ds: HR (dataset_load_square at the net's input size, which must be square and a multiple
 * of every method's scale) -> degrade per scale -> each method's reconstruction, rounded to 8 bits
 * -> the frozen detector -> AP bookkeeping against the image's ground truth. Detector classes must
 * be the dataset's (COCO's 80 in darknet order, as coco128's labels are). */
int det_tables_run(const Dataset *ds, Darknet *net, const EvalMethod *methods, int nm, const DetTablesOpts *o,
                   DetTables *out);
void det_tables_free(DetTables *t);

/* mAP@iou of method m over classes with ground truth. */
double det_tables_map(const DetTables *t, int m);
/* Tail classes: the worse half (rounded down) of the classes with ground truth by AP under method
 * ref, worst first; returns how many. */
int det_tail_classes(const DetTables *t, int ref, int *tail);
/* Mean AP of method m over tail[0..n). */
double det_tables_tail_map(const DetTables *t, int m, const int *tail, int n);

/* Paired image bootstrap of mAP(a) - mAP(b): `reps` resamples of the images with replacement
 * (the same images for both methods), 95 % percentile interval in *lo / *hi; returns the
 * difference on the actual images. */
double det_tables_bootstrap(const DetTables *t, int a, int b, int reps, uint64_t seed, double *lo, double *hi);

/* Writes outdir/table6.{md,csv} (scale, method, mAP, tail mAP, PSNR, SSIM; tail classes fixed by
 * the hr method's AP) and outdir/classes.csv (per-class ground truth and AP of every method); the
 * Markdown also goes to echo when not NULL; and outdir/diffs.{md,csv}: paired bootstraps (1000
 * resamples) of mAP differences, for the "a-b,..." pairs in diffs at every scale that has both (hr
 * matches any scale), or, diffs NULL, of every "asr" method minus each other method at its scale
 * and hr. Needs an "hr" method. */
int det_tables_write(const DetTables *t, const char *outdir, const char *diffs, FILE *echo);

/* For an outside check (scripts/coco_check.py table6): dir/NAME_xS.json per method (hr: hr_x1.json),
 * its detections as a COCO results file, and dir/images.json, the COCO image ids evaluated (an
 * image with no detection still counts its ground truth). ds must be the dataset t was run on. */
int det_tables_write_coco(const DetTables *t, const Dataset *ds, const char *dir);
