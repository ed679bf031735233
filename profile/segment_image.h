/* segment_image.h: `rune segment`'s work — one image through a frozen segmenter: the class-coloured overlay, the raw class map, the share of each class. */
#pragma once
#include "nn/device.h"

typedef struct SegmentImageOpts {
    const char *model, *arch, *norm; /* arch, norm NULL: from the file / the model's default */
    int classes;                     /* 0 = the model's (ESPNet's void channel dropped) */
    double alpha;                    /* overlay opacity of the class colours */
    const char *in, *out, *labels;   /* labels NULL: no class map written */
    Device device;                   /* where the model runs (the argmax stays on the host) */
} SegmentImageOpts;

/* Writes the overlay (and the 8-bit class map), prints a summary line and the share of the frame
 * each predicted class covers, largest first. 0, or -1 with rn_errmsg(). */
int segment_image_run(const SegmentImageOpts *o);
