/* det_coco_results.h: detections as a COCO results file ([{image_id, category_id, bbox, score}]), the input pycocotools' loadRes takes. */
#pragma once
#include <stdio.h>

#include "data/dataset.h"
#include "profile/det_metrics.h"

typedef struct DetCocoOut {
    FILE *f;
    const char *path;
    long count; /* detections written */
} DetCocoOut;

/* The image id a results file gives sample i: the COCO id from the JSON when the dataset has one;
 * else the digits of the file name's stem when it is all digits (COCO's own files: coco128's
 * 000000000009.jpg is train2017 image 9); else i. scripts/coco_check.py builds its ground truth by
 * the same rule. */
long det_coco_image_id(const Dataset *ds, int i);
/* The category id of dataset class c: the COCO id from the JSON, else c itself. */
long det_coco_category_id(const Dataset *ds, int c);

int det_coco_open(DetCocoOut *o, const char *path);
/* Sample i's detections (dataset classes, pixels of its frame) as [x, y, w, h] boxes, 9 significant
 * digits (a float's round trip). */
void det_coco_add(DetCocoOut *o, const Dataset *ds, int i, const DetBox *b, int n);
/* Ends the array and closes; -1 on a write error. Safe on a never-opened o. */
int det_coco_close(DetCocoOut *o);
