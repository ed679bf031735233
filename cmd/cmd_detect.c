/* cmd_detect.c: `rune detect` — darknet YOLO boxes on one image: a text list, optional JSON, boxes drawn into OUT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/commands.h"
#include "data/image.h"
#include "nn/models/darknet.h"
#include "util/args.h"
#include "util/err.h"

/* The cfg's directory's coco.names when --names is not given (Yolo-Fastest ships it there). */
static int load_names(const char *names, const char *model, char ***out) {
    if (names && *names) return dn_names_load(names, out);
    char path[4096];
    const char *slash = strrchr(model, '/');
    int dir = slash ? (int)(slash - model + 1) : 0;
    snprintf(path, sizeof path, "%.*scoco.names", dir, model);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    fclose(f);
    return dn_names_load(path, out);
}

static float clampf(float v, float hi) { return v < 0 ? 0 : v > hi ? hi : v; }

/* A 2-pixel rectangle outline in a colour derived from the class. */
static void draw_box(Image *im, const DnDet *d) {
    static const unsigned char pal[6][3] = {{255, 64, 64}, {64, 255, 64}, {64, 128, 255}, {255, 200, 0}, {255, 0, 255}, {0, 255, 255}};
    const unsigned char *col = pal[d->cls % 6];
    int x0 = (int)clampf(d->x0 * im->w, im->w - 1), x1 = (int)clampf(d->x1 * im->w, im->w - 1);
    int y0 = (int)clampf(d->y0 * im->h, im->h - 1), y1 = (int)clampf(d->y1 * im->h, im->h - 1);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            bool edge = x - x0 < 2 || x1 - x < 2 || y - y0 < 2 || y1 - y < 2;
            if (edge) memcpy(im->px + ((size_t)y * im->w + x) * im->c, col, 3);
        }
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if ((unsigned char)*s >= 0x20) fputc(*s, f);
    }
    fputc('"', f);
}

static int write_json(const char *path, const char *in, const Image *im, const DnDet *d, int n, char **names, int nn) {
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("%s: cannot write", path);
    fprintf(f, "{\"image\": ");
    json_string(f, in);
    fprintf(f, ", \"width\": %d, \"height\": %d, \"detections\": [", im->w, im->h);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s\n  {\"class\": %d, \"name\": ", i ? "," : "", d[i].cls);
        json_string(f, d[i].cls < nn ? names[d[i].cls] : "");
        fprintf(f, ", \"score\": %.5f, \"box\": [%.1f, %.1f, %.1f, %.1f]}", d[i].score, clampf(d[i].x0, 1) * im->w,
                clampf(d[i].y0, 1) * im->h, clampf(d[i].x1, 1) * im->w, clampf(d[i].y1, 1) * im->h);
    }
    fprintf(f, "\n]}\n");
    return fclose(f) == 0 ? 0 : rn_fail("%s: write error", path);
}

static int run(const char *model, const char *weights, const char *names_path, const char *json, float thresh,
               float nms, int letter, char **pos, int npos) {
    Darknet net;
    Image im = {0};
    char **names = NULL;
    if (darknet_open(&net, model, weights) < 0) return -1;
    int nn = load_names(names_path, model, &names), rc = nn < 0 ? -1 : 0;
    if (!rc) rc = image_read(pos[0], &im, 3);
    DnDet *d = NULL;
    int n = 0;
    if (!rc) {
        bool lb = letter < 0 ? net.cfg.letter_box : letter;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        n = darknet_detect_rgb8(&net, im.px, im.w, im.h, thresh, nms, lb, &d);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%s: %dx%d, %s %dx%d input, %d detections (thresh %.2f, NMS %.2f), %.3f s\n", pos[0], im.w, im.h,
               lb ? "letterboxed" : "resized", net.cfg.width, net.cfg.height, n, thresh, nms,
               (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
        for (int i = 0; i < n; i++)
            printf("%-16s %3d %.3f  %7.1f %7.1f %7.1f %7.1f\n", d[i].cls < nn ? names[d[i].cls] : "?", d[i].cls,
                   d[i].score, clampf(d[i].x0, 1) * im.w, clampf(d[i].y0, 1) * im.h, clampf(d[i].x1, 1) * im.w,
                   clampf(d[i].y1, 1) * im.h);
    }
    if (!rc && json && *json) rc = write_json(json, pos[0], &im, d, n, names, nn);
    if (!rc && npos > 1) {
        for (int i = n - 1; i >= 0; i--) draw_box(&im, &d[i]); /* the best box drawn last, on top */
        rc = image_write(pos[1], &im);
    }
    free(d), image_free(&im), dn_names_free(names, nn > 0 ? nn : 0), darknet_free(&net);
    return rc;
}

static int print_layers(const char *model, int size) {
    DnCfg c;
    if (dn_cfg_load(model, &c) < 0 || (size > 0 && dn_cfg_set_input(&c, size, size) < 0)) {
        fprintf(stderr, "rune detect: %s\n", rn_errmsg());
        return 1;
    }
    dn_cfg_print(&c, stdout);
    dn_cfg_free(&c);
    return 0;
}

int cmd_detect(int argc, char **argv) {
    const char *model = NULL, *weights = NULL, *names = NULL, *json = NULL;
    double thresh = 0.25, nms = 0.45;
    bool letterbox = false, resize = false, layers = false;
    int size = 0;
    ArgSpec specs[] = {
        {"model", ARG_STR, &model, "M.cfg|M.h5", "darknet cfg (with --weights) or a checkpoint from rune import"},
        {"weights", ARG_STR, &weights, "M.weights", "darknet weights for a .cfg model"},
        {"names", ARG_STR, &names, "FILE", "class names, one a line (default: coco.names beside the cfg, if any)"},
        {"thresh", ARG_FLOAT, &thresh, "T", "keep boxes with objectness * class probability > T (darknet's default .25)"},
        {"nms", ARG_FLOAT, &nms, "T", "per-class NMS threshold (darknet's .45; the cfg's nms_kind picks IoU or DIoU)"},
        {"json", ARG_STR, &json, "FILE", "also write the detections as JSON (pixel boxes x0, y0, x1, y1)"},
        {"letterbox", ARG_BOOL, &letterbox, NULL, "letterbox the input (default: as the cfg's [net] letter_box)"},
        {"resize", ARG_BOOL, &resize, NULL, "plain-resize the input (darknet's default without letter_box)"},
        {"layers", ARG_BOOL, &layers, NULL, "print the layer table (shapes, BFLOPs) of a .cfg and exit; no weights needed"},
        {"size", ARG_INT, &size, "S", "with --layers: the table for an S x S input instead of the cfg's"},
        {0},
    };
    ArgCmd cmd = {"detect", "--model M.cfg --weights M.weights [options] IN [OUT]",
                  "Runs a darknet YOLO detector (YOLOv3, -tiny, Yolo-Fastest) on IN and prints one line per box:\n"
                  "name, class id, score, x0 y0 x1 y1 in pixels. With OUT, the boxes are drawn into a copy of\n"
                  "the image written there (.png or .jpg). The input is scaled as darknet does it: a plain\n"
                  "corner-aligned bilinear resize to the net size (what Yolo-Fastest was evaluated with), or a\n"
                  "letterbox when the cfg says letter_box=1 or --letterbox is given.",
                  specs, 0, 2};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    if (!model) args_usage_error(&cmd, "--model is required");
    if (layers) return print_layers(model, size);
    if (npos < 1) args_usage_error(&cmd, "needs IN (and optionally OUT)");
    if (letterbox && resize) args_usage_error(&cmd, "--letterbox and --resize exclude each other");
    if (thresh < 0 || thresh >= 1 || nms <= 0 || nms > 1) args_usage_error(&cmd, "--thresh in [0,1), --nms in (0,1]");
    int letter = letterbox ? 1 : resize ? 0 : -1;
    int rc = run(model, weights, names, json, (float)thresh, (float)nms, letter, pos, npos);
    if (rc < 0) fprintf(stderr, "rune detect: %s\n", rn_errmsg());
    free(pos);
    return rc < 0 ? 1 : 0;
}
