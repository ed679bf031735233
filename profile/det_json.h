/* det_json.h: the detections of one image as a small JSON file (rune detect --json). */
#pragma once
#include "data/image.h"
#include "nn/models/darknet.h"

/* Written with jansson. {"image": IN, "width": W, "height": H, "detections": [{"class", "name", "score", "box": [x0, y0,
 * x1, y1] in pixels, clipped to the image}, ...]}; names[0..nn) name the classes ("" past them). */
int det_json_write(const char *path, const char *in, const Image *im, const DnDet *d, int n, char **names, int nn);
