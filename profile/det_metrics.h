/* det_metrics.h: detection accuracy — per-class AP at an IoU threshold and mAP, by COCO's definition (pycocotools) or darknet's (`detector map`). */
#pragma once
#include <stdbool.h>

#include "data/dataset.h"

/* One detection in the same coordinates as the ground truth (pixels of the frame). */
typedef struct DetBox {
    int cls;
    float x0, y0, x1, y1;
    float score;
} DetBox;

/* Which AP. The two differ in matching, in interpolation and (in eval_det's report) in the mean:
 * COCO (pycocotools COCOeval, bbox): per image and class the top max_dets detections by score
 *   (pycocotools' maxDets, 100; 0 here = all) are matched greedily in descending score, each to the
 *   unmatched ground truth of its class with the highest IoU >= iou_thresh; AP = mean of the
 *   precision envelope at the 101 recalls numpy.linspace(0, 1, 101); mAP over classes with ground
 *   truth.
 * darknet (AlexeyAB src/detector.c, validate_detector_map): each detection takes the ground truth of
 *   its class with the highest IoU > iou_thresh (strictly), matched or not; if a higher-scoring
 *   detection took that one already, it is a false positive (no second choice); AP with `points` 0
 *   (its -points default) = area under the precision envelope over every recall step, else the
 *   mean of the best precision at recall >= k/(points-1), k = 0..points-1 (11 = VOC2007, 101);
 *   mAP over every class of the model, 0 for those without ground truth (det_eval_map_darknet). */
typedef enum DetApKind { DET_AP_COCO, DET_AP_DARKNET } DetApKind;

typedef struct DetApDef {
    DetApKind kind;
    int points;   /* darknet only: 0 = all-point area, else that many recall points; COCO is always 101 */
    int max_dets; /* per image and class, the top-scoring ones only; 0 = all (darknet has no cap) */
} DetApDef;

/* Accumulates detections image by image (matching as DetApDef says). Ignored regions (VisDrone
 * category 0/11 with cls -1, applying to every class; COCO iscrowd, applying to its class) never
 * count as misses, and a detection that matches no ground truth but lies in one is dropped: neither
 * a true nor a false positive. "Lies in": COCO: IoF (intersection over the detection's own area)
 * >= iou_thresh with a crowd box, as pycocotools, or > 0.5 with a classless region, as the VisDrone
 * toolkit; darknet: IoU > iou_thresh, as its `difficult` boxes. */
typedef struct DetEval {
    int nclasses;
    double iou_thresh;
    DetApDef def;
    int *npos;        /* [nclasses] non-ignored ground-truth boxes */
    int *n, *cap;     /* [nclasses] scored detections kept */
    float **score;    /* [nclasses][n] */
    char **tp;        /* [nclasses][n] 1 = true positive; ties in score keep insertion order */
} DetEval;

/* COCO's matching and 101 points over every detection (no max_dets cap): Table 6's and the sweep's AP. */
void det_eval_init(DetEval *e, int nclasses, double iou_thresh);
/* The IoUs of COCO's AP@[.50:.95]: k = 0..DET_COCO_NIOU-1 -> numpy.linspace(.5, .95, 10)[k], as pycocotools' iouThrs. */
#define DET_COCO_NIOU 10
double det_coco_iou(int k);
void det_eval_init_def(DetEval *e, int nclasses, double iou_thresh, DetApDef def);
void det_eval_free(DetEval *e);
/* One image: detections (any order; classes outside 0..nclasses-1 are dropped) and ground truth. */
void det_eval_add(DetEval *e, const DetBox *dets, int nd, const Box *gt, int ng);
/* AP of class c by e->def; NaN when the class has no ground truth. */
double det_eval_ap(const DetEval *e, int c);
/* Mean AP over classes with ground truth (NaN when none); ap (may be NULL) gets every class's AP. */
double det_eval_map(const DetEval *e, double *ap);
/* darknet's mean: over every class with counted[c] (the classes the model has), a class without
 * ground truth counting 0 (NaN when none is counted). */
double det_eval_map_darknet(const DetEval *e, const bool *counted);
/* True/false positives of class c among detections with score >= thresh. */
void det_eval_counts(const DetEval *e, int c, float thresh, int *tp, int *fp);
