/* det_json.c: the detections of one image as JSON, built and written with jansson. */
#include "profile/det_json.h"

#include <jansson.h>
#include <math.h>

#include "util/err.h"

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* Rounded to `digits` decimals so that the file carries what the detector can mean, not float noise. */
static json_t *rounded(double v, int digits) {
    double k = pow(10, digits);
    return json_real(round(v * k) / k);
}

static json_t *det_object(const Image *im, const DnDet *d, char **names, int nn) {
    json_t *box = json_pack("[oooo]", rounded(clamp01(d->x0) * im->w, 1), rounded(clamp01(d->y0) * im->h, 1),
                            rounded(clamp01(d->x1) * im->w, 1), rounded(clamp01(d->y1) * im->h, 1));
    return json_pack("{s:i, s:s, s:o, s:o}", "class", d->cls, "name", d->cls < nn ? names[d->cls] : "", "score",
                     rounded(d->score, 5), "box", box);
}

int det_json_write(const char *path, const char *in, const Image *im, const DnDet *d, int n, char **names, int nn) {
    json_t *dets = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(dets, det_object(im, &d[i], names, nn));
    json_t *root = json_pack("{s:s, s:i, s:i, s:o}", "image", in, "width", im->w, "height", im->h, "detections", dets);
    if (!root) return rn_fail("%s: cannot build the detections' JSON (is the image name valid UTF-8?)", path);
    /* keys in the order written; 10 significant digits keep the rounded values exact */
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    return rc == 0 ? 0 : rn_fail("%s: cannot write", path);
}
