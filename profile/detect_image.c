/* detect_image.c: one image through a darknet detector — the printed box list, the JSON file, the boxes drawn into a copy. */
#include "profile/detect_image.h"

#include <stdio.h>
#include <stdlib.h>

#include "data/draw.h"
#include "profile/det_json.h"
#include "profile/det_score.h"
#include "util/err.h"
#include "util/progress.h"

static float clampf(float v, float hi) { return v < 0 ? 0 : v > hi ? hi : v; }

static void print_boxes(const DetectImageOpts *o, const Darknet *net, const Image *im, bool lb, const DnDet *d, int n,
                        char **names, int nn, double seconds) {
    printf("%s: %dx%d, %s %dx%d input, %d detections (thresh %.2f, NMS %.2f), %.3f s\n", o->in, im->w, im->h,
           lb ? "letterboxed" : "resized", net->cfg.width, net->cfg.height, n, o->thresh, o->nms, seconds);
    for (int i = 0; i < n; i++)
        printf("%-16s %3d %.3f  %7.1f %7.1f %7.1f %7.1f\n", d[i].cls < nn ? names[d[i].cls] : "?", d[i].cls, d[i].score,
               clampf(d[i].x0, 1) * im->w, clampf(d[i].y0, 1) * im->h, clampf(d[i].x1, 1) * im->w,
               clampf(d[i].y1, 1) * im->h);
}

/* The boxes drawn into im (the best last, on top), written to path. */
static int write_drawn(const char *path, Image *im, const DnDet *d, int n) {
    for (int i = n - 1; i >= 0; i--) {
        int x0 = (int)clampf(d[i].x0 * im->w, im->w - 1), x1 = (int)clampf(d[i].x1 * im->w, im->w - 1);
        int y0 = (int)clampf(d[i].y0 * im->h, im->h - 1), y1 = (int)clampf(d[i].y1 * im->h, im->h - 1);
        image_draw_box(im, x0, y0, x1, y1, d[i].cls);
    }
    return image_write(path, im);
}

/* Detects on im and reports (list, JSON, drawing). */
static int detect(const DetectImageOpts *o, Darknet *net, Image *im, char **names, int nn) {
    bool lb = o->letter < 0 ? net->cfg.letter_box : o->letter;
    DnDet *d = NULL;
    double t0 = now_seconds();
    int n = det_detect_image(net, im, o->thresh, o->nms, lb, &d), rc = 0;
    print_boxes(o, net, im, lb, d, n, names, nn, now_seconds() - t0);
    if (o->json && *o->json) rc = det_json_write(o->json, o->in, im, d, n, names, nn);
    if (!rc && o->out) rc = write_drawn(o->out, im, d, n);
    free(d);
    return rc;
}

int detect_image_run(const DetectImageOpts *o) {
    Darknet net;
    Image im = {0};
    char **names = NULL;
    TRY(darknet_open(&net, o->model, o->weights));
    params_to_device(&net.ps, o->device); /* the scaled input follows it there (darknet_detect_planar) */
    int nn = det_names_load(o->names, o->model, &names), rc = nn < 0 ? -1 : 0;
    if (!rc) rc = image_read(o->in, &im, 3);
    if (!rc) rc = detect(o, &net, &im, names, nn);
    if (im.px) image_free(&im);
    dn_names_free(names, nn > 0 ? nn : 0), darknet_free(&net);
    return rc;
}
