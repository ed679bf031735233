/* detect_image.h: `rune detect`'s work — one image through a darknet detector: the box list, optional JSON, the boxes drawn into a copy. */
#pragma once
#include "nn/device.h"

typedef struct DetectImageOpts {
    const char *model, *weights, *names; /* names NULL: coco.names beside the cfg, if any */
    float thresh, nms;
    int letter;                          /* 1 letterbox, 0 plain resize, -1 as the cfg says */
    const char *in, *out, *json;         /* out, json NULL: not written */
    Device device;                       /* where the net runs (decoding stays on the host) */
} DetectImageOpts;

/* Prints a header line and one line per box (name, class id, score, x0 y0 x1 y1 in pixels) to
 * stdout; writes the JSON and the drawn image when asked. 0, or -1 with rn_errmsg(). */
int detect_image_run(const DetectImageOpts *o);
