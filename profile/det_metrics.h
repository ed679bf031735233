/* det_metrics.h: detection accuracy — per-class AP at an IoU threshold (COCO 101-point interpolation) and mAP. */
#pragma once
#include <stdbool.h>

#include "data/dataset.h"

/* One detection in the same coordinates as the ground truth (pixels of the frame). */
typedef struct DetBox {
    int cls;
    float x0, y0, x1, y1;
    float score;
} DetBox;

/* Accumulates detections image by image. Per image and class, detections are matched greedily in
 * descending score to the unmatched non-ignored ground truth of that class with the highest IoU
 * (>= iou_thresh, COCO's rule); one match per ground truth. An unmatched detection whose IoF
 * (intersection over the detection's own area) with an ignored region exceeds 0.5 is dropped:
 * neither a true nor a false positive (the VisDrone toolkit's rule for category 0/11 regions;
 * COCO iscrowd boxes the same way). Ignored regions never count as misses. A region with cls -1
 * applies to every class, one with a class to that class only. */
typedef struct DetEval {
    int nclasses;
    double iou_thresh;
    int *npos;        /* [nclasses] non-ignored ground-truth boxes */
    int *n, *cap;     /* [nclasses] scored detections kept */
    float **score;    /* [nclasses][n] */
    char **tp;        /* [nclasses][n] 1 = true positive; ties in score keep insertion order */
} DetEval;

void det_eval_init(DetEval *e, int nclasses, double iou_thresh);
void det_eval_free(DetEval *e);
/* One image: detections (any order; classes outside 0..nclasses-1 are dropped) and ground truth. */
void det_eval_add(DetEval *e, const DetBox *dets, int nd, const Box *gt, int ng);
/* AP of class c with COCO's 101 recall points (precision made monotone from the right, then
 * sampled at recall 0, 0.01, ..., 1); NaN when the class has no ground truth. */
double det_eval_ap(const DetEval *e, int c);
/* Mean AP over classes with ground truth (NaN when none); ap (may be NULL) gets every class's AP. */
double det_eval_map(const DetEval *e, double *ap);
/* True/false positives of class c among detections with score >= thresh. */
void det_eval_counts(const DetEval *e, int c, float thresh, int *tp, int *fp);
