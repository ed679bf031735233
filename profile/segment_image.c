/* segment_image.c: one image through a frozen segmenter — overlay, class map, class shares. */
#include "profile/segment_image.h"

#include <stdio.h>

#include "data/draw.h"
#include "profile/eval_seg.h"
#include "util/err.h"
#include "util/progress.h"

/* The share of the frame each predicted class covers, largest first. */
static void print_shares(const Segmenter *s, const uint8_t *pred, size_t n) {
    long long count[256] = {0};
    for (size_t i = 0; i < n; i++) count[pred[i]]++;
    for (int shown = 0; shown < s->classes; shown++) {
        int best = -1;
        for (int k = 0; k < s->classes; k++)
            if (count[k] > 0 && (best < 0 || count[k] > count[best])) best = k;
        if (best < 0) break;
        char name[24];
        snprintf(name, sizeof name, "class %d", best);
        printf("  %-14s %6.2f %%\n", s->class_names ? s->class_names[best] : name, 100.0 * count[best] / (double)n);
        count[best] = 0;
    }
}

/* Segments im into map (1 channel), then writes the overlay and the map. */
static int segment(const SegmentImageOpts *o, Segmenter *s, const Image *im) {
    Image map = image_alloc(im->w, im->h, 1);
    double t0 = now_seconds();
    Frame fr = frame_from_image(im); /* PIXEL_MUL: the pixels rune segment has always fed */
    seg_predict_planar(s, fr.px, fr.w, fr.h, false, map.px);
    frame_free(&fr);
    double dt = now_seconds() - t0;
    Image ov = image_overlay_classes(im, map.px, s->classes, o->alpha);
    int rc = image_write(o->out, &ov);
    if (rc == 0 && o->labels) rc = png_write(o->labels, &map);
    if (rc == 0) {
        printf("%s (%dx%d) -> %s%s%s: %s, %d classes, %.2f s\n", o->in, im->w, im->h, o->out, o->labels ? " + " : "",
               o->labels ? o->labels : "", s->arch_name, s->classes, dt);
        print_shares(s, map.px, (size_t)im->w * im->h);
    }
    image_free(&map), image_free(&ov);
    return rc;
}

int segment_image_run(const SegmentImageOpts *o) {
    Segmenter *s = segmenter_open(o->model, o->arch, o->classes, o->norm);
    if (!s) return -1;
    params_to_device(s->ps, o->device); /* inputs follow the model there (seg_predict_planar) */
    Image im = {0};
    int rc = image_read(o->in, &im, 3);
    if (rc == 0) rc = segment(o, s, &im);
    image_free(&im);
    segmenter_close(s);
    return rc;
}
