/* eval_det.h: `rune eval-det`'s engine — per-class AP@IoU and mAP of a darknet detector over a COCO / YOLO / VisDrone dataset, model classes mapped to the dataset's by name. */
#pragma once
#include <stdbool.h>

#include "data/dataset.h"
#include "profile/det_metrics.h"

typedef struct EvalDetOpts {
    const char *model, *weights;  /* darknet cfg + weights, or a rune .h5 */
    const char *names;            /* the model's class names; NULL = coco.names beside the cfg */
    const char *format, *data;    /* dataset kind (coco, yolo, visdrone) and root (data/dataset.h) */
    const char *ann;              /* coco JSON / VisDrone annotation folder; NULL = the usual place */
    double thresh, nms, iou;      /* candidate score threshold, per-class NMS, IoU of a true positive */
    int limit;                    /* the first N images only; 0 = all */
    int letter;                   /* 1 letterbox, 0 plain resize, -1 as the cfg says */
    const char *csv;              /* also the per-class table here (last row: mAP); NULL = none */
    DetApDef def;                 /* which AP (det_metrics.h): `--ap coco` (max_dets 100) or `--ap darknet` */
    const char *json;             /* also every scored detection as a COCO results file; NULL = none */
} EvalDetOpts;

/* map[m] = the dataset class of model class m, or -1: names compared case-insensitively without
 * spaces, '_' and '-' ("dining table" = "diningtable"), then a few aliases (person -> pedestrian,
 * motorbike -> motorcycle, else motor; aeroplane -> airplane, tvmonitor -> tv, sofa -> couch); without model names (nn = 0), identity by
 * index. mapped[c] is set for every dataset class some model class maps to. map is malloc'ed. */
int *det_class_map(char **names, int nn, int model_classes, const Dataset *ds, bool *mapped);

/* Detects on every image, scores against the ground truth and prints the per-class table and the
 * mAP to stdout (progress to stderr); with COCO's AP also the AP@[.50:.95] / AP50 / AP75 line that
 * pycocotools' summarize() prints first. 0, or -1 with rn_errmsg(). */
int eval_det_run(const EvalDetOpts *o);
