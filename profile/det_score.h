/* det_score.h: one 8-bit image through a frozen darknet detector — its detections, and those detections scored as boxes against ground truth. */
#pragma once
#include <stdbool.h>

#include "data/dataset.h"
#include "nn/models/darknet.h"
#include "profile/det_metrics.h"

/* Detections of an RGB image (bytes divided by 255, as darknet loads images), normalised to the
 * image, as darknet_detect_planar; *out is malloc'ed; returns the count. */
int det_detect_image(Darknet *net, const Image *im, float thresh, float nms, bool letter, DnDet **out);

typedef struct DetScoreOpts {
    float thresh, nms;
    bool letter;
    const int *map; /* [mc] model class -> dataset class, -1 = none; NULL = the same ids */
    int mc;
} DetScoreOpts;

/* Detects on `in`, turns the detections into boxes in pixels of a w x h frame (the one gt belongs
 * to: `in` may be a resized copy of it), drops those of model classes the dataset lacks, adds them
 * with gt to ev and resets the engine arena. Returns the boxes (malloc'ed, *n of them) for the
 * caller to keep or free. */
DetBox *det_score_image(Darknet *net, const Image *in, const DetScoreOpts *o, int w, int h, const Box *gt, int ngt,
                        DetEval *ev, int *n);

/* A detector's class names: the file `names` when given, else coco.names beside the cfg `model`
 * when there is one (Yolo-Fastest ships it there). Returns the count (0 = none), or -1. */
int det_names_load(const char *names, const char *model, char ***out);
