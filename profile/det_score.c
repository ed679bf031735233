/* det_score.c: one 8-bit image through a frozen darknet detector, its detections as boxes scored against ground truth. */
#include "profile/det_score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

int det_detect_image(Darknet *net, const Image *im, float thresh, float nms, bool letter, DnDet **out) {
    RN_CHECK(im->c == 3, "det_detect_image: %d channels", im->c);
    float *planar = xmalloc((size_t)3 * im->w * im->h * sizeof *planar); /* [3][h][w] */
    image_to_planar(im, PIXEL_DIV, planar);
    int n = darknet_detect_planar(net, planar, im->w, im->h, thresh, nms, letter, out);
    free(planar);
    return n;
}

DetBox *det_score_image(Darknet *net, const Image *in, const DetScoreOpts *o, int w, int h, const Box *gt, int ngt,
                        DetEval *ev, int *n) {
    DnDet *d;
    int nd = det_detect_image(net, in, o->thresh, o->nms, o->letter, &d), m = 0;
    DetBox *b = xmalloc((size_t)(nd ? nd : 1) * sizeof *b);
    for (int k = 0; k < nd; k++) {
        int c = !o->map ? d[k].cls : d[k].cls < o->mc ? o->map[d[k].cls] : -1;
        if (c < 0) continue;
        b[m++] = (DetBox){c, d[k].x0 * w, d[k].y0 * h, d[k].x1 * w, d[k].y1 * h, d[k].score};
    }
    det_eval_add(ev, b, m, gt, ngt);
    free(d);
    engine_step_reset();
    *n = m;
    return b;
}

int det_names_load(const char *names, const char *model, char ***out) {
    *out = NULL;
    if (names && *names) return dn_names_load(names, out);
    char path[4096];
    const char *slash = strrchr(model, '/');
    snprintf(path, sizeof path, "%.*scoco.names", slash ? (int)(slash - model + 1) : 0, model);
    return path_exists(path) ? dn_names_load(path, out) : 0;
}
