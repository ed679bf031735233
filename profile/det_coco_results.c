/* det_coco_results.c: detections streamed out as a COCO results JSON array (numbers only, so plain printf). */
#include "profile/det_coco_results.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

long det_coco_image_id(const Dataset *ds, int i) {
    const Sample *s = &ds->samples[i];
    if (s->id >= 0) return s->id;
    const char *base = s->frame ? strrchr(s->frame, '/') : NULL;
    base = base ? base + 1 : s->frame ? s->frame : "";
    const char *dot = strrchr(base, '.');
    size_t len = dot ? (size_t)(dot - base) : strlen(base);
    if (len == 0 || len > 15) return i; /* 15 digits fit a long and a JSON double exactly */
    for (size_t k = 0; k < len; k++)
        if (!isdigit((unsigned char)base[k])) return i;
    return strtol(base, NULL, 10);
}

long det_coco_category_id(const Dataset *ds, int c) { return ds->class_ids ? ds->class_ids[c] : c; }

int det_coco_open(DetCocoOut *o, const char *path) {
    memset(o, 0, sizeof *o);
    o->path = path;
    if (!(o->f = fopen(path, "w"))) return rn_fail("%s: cannot write", path);
    fputs("[", o->f);
    return 0;
}

void det_coco_add(DetCocoOut *o, const Dataset *ds, int i, const DetBox *b, int n) {
    long img = det_coco_image_id(ds, i);
    for (int k = 0; k < n; k++) {
        fprintf(o->f, "%s\n{\"image_id\": %ld, \"category_id\": %ld, \"bbox\": [%.9g, %.9g, %.9g, %.9g], \"score\": %.9g}",
                o->count++ ? "," : "", img, det_coco_category_id(ds, b[k].cls), b[k].x0, b[k].y0, b[k].x1 - b[k].x0,
                b[k].y1 - b[k].y0, b[k].score);
    }
}

int det_coco_close(DetCocoOut *o) {
    if (!o->f) return 0;
    fputs("\n]\n", o->f);
    bool bad = ferror(o->f) != 0;
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    return bad ? rn_fail("%s: write error", o->path) : 0;
}
