/* cmd_eval_det.c: `rune eval-det` — per-class AP@IoU and mAP of a darknet detector over a COCO / YOLO / VisDrone dataset. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/commands.h"
#include "data/dataset.h"
#include "nn/models/darknet.h"
#include "profile/det_metrics.h"
#include "util/args.h"
#include "util/err.h"
#include "util/progress.h"

typedef struct Opts {
    const char *model, *weights, *data, *format, *names, *csv, *ann;
    double thresh, nms, iou;
    int limit, letter;
} Opts;

/* ---- dataset layouts ------------------------------------------------------------------------- */

static char *first_with_suffix(const char *dir, const char *suffixes) {
    char **names;
    int n;
    if (list_dir(dir, suffixes, &names, &n) < 0 || n == 0) return NULL;
    char *p = path_join(dir, names[0]);
    free_names(names, n);
    return p;
}

/* DIR/images if it exists, else DIR. */
static char *image_dir(const char *dir) {
    char *p = path_join(dir, "images");
    if (is_dir(p)) return p;
    free(p);
    return xstrdup(dir);
}

static int open_yolo(const Opts *o, Dataset *ds) {
    char *img = image_dir(o->data), *lab = path_join(o->data, "labels"), *names = path_join(o->data, "config.yaml");
    if (!path_exists(names)) free(names), names = first_with_suffix(o->data, ".names,.yaml");
    int rc = ds_yolo(img, lab, names, ds);
    free(img), free(lab), free(names);
    return rc;
}

static int open_coco(const Opts *o, Dataset *ds) {
    char *json = o->ann ? xstrdup(o->ann) : first_with_suffix(o->data, ".json");
    if (!json) return rn_fail("%s: no COCO .json annotation file (give --ann)", o->data);
    char *img = image_dir(o->data);
    int rc = ds_coco(json, img, ds);
    free(json), free(img);
    return rc;
}

static int open_visdrone(const Opts *o, Dataset *ds) {
    char *ann = o->ann ? xstrdup(o->ann) : path_join(o->data, "annotations-val");
    if (!is_dir(ann)) free(ann), ann = path_join(o->data, "annotations");
    char *img = image_dir(o->data);
    int rc = ds_visdrone(img, ann, ds);
    free(ann), free(img);
    return rc;
}

static int open_dataset(const Opts *o, Dataset *ds) {
    if (!strcmp(o->format, "yolo")) return open_yolo(o, ds);
    if (!strcmp(o->format, "coco")) return open_coco(o, ds);
    if (!strcmp(o->format, "visdrone")) return open_visdrone(o, ds);
    return rn_fail("--format %s: one of coco, yolo, visdrone", o->format);
}

/* ---- class mapping: model class -> dataset class ------------------------------------------------ */

/* Names compared case-insensitively without spaces ("dining table" = "diningtable", as darknet's
 * coco.names spells some); a few VisDrone names map onto COCO's. */
static bool same_name(const char *a, const char *b) {
    while (*a || *b) {
        while (*a == ' ' || *a == '_' || *a == '-') a++;
        while (*b == ' ' || *b == '_' || *b == '-') b++;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
        if (*a) a++, b++;
    }
    return true;
}

static const char *const aliases[][2] = {{"person", "pedestrian"}, {"motorcycle", "motor"}, {"motorbike", "motor"},
                                         {"tvmonitor", "tv"}, {"sofa", "couch"}, {NULL, NULL}};

static int map_class(const char *model_name, const Dataset *ds) {
    for (int c = 0; c < ds->nclasses; c++)
        if (same_name(model_name, ds->class_names[c])) return c;
    for (int k = 0; aliases[k][0]; k++)
        if (same_name(model_name, aliases[k][0]))
            for (int c = 0; c < ds->nclasses; c++)
                if (same_name(aliases[k][1], ds->class_names[c])) return c;
    return -1;
}

/* map[m] = dataset class of model class m, or -1. Without model names: identity by index. */
static int *class_map(char **names, int nn, int model_classes, const Dataset *ds, bool *mapped) {
    int *map = xmalloc(model_classes * sizeof *map);
    for (int m = 0; m < model_classes; m++) {
        map[m] = nn > 0 ? (m < nn ? map_class(names[m], ds) : -1) : (m < ds->nclasses ? m : -1);
        if (map[m] >= 0) mapped[map[m]] = true;
    }
    return map;
}

/* ---- the run ---------------------------------------------------------------------------------- */

static void add_image(Darknet *net, const Dataset *ds, int i, const Image *im, const int *map, int mc, const Opts *o,
                      DetEval *ev) {
    DnDet *d;
    bool letter = o->letter < 0 ? net->cfg.letter_box : o->letter;
    int n = darknet_detect_rgb8(net, im->px, im->w, im->h, (float)o->thresh, (float)o->nms, letter, &d);
    DetBox *b = xmalloc((n ? n : 1) * sizeof *b);
    int m = 0;
    for (int k = 0; k < n; k++) {
        int c = d[k].cls < mc ? map[d[k].cls] : -1;
        if (c < 0) continue;
        b[m++] = (DetBox){c, d[k].x0 * im->w, d[k].y0 * im->h, d[k].x1 * im->w, d[k].y1 * im->h, d[k].score};
    }
    det_eval_add(ev, b, m, ds->samples[i].boxes, ds->samples[i].nboxes);
    free(b), free(d);
    engine_step_reset();
}

static void report(const DetEval *ev, const Dataset *ds, const bool *mapped, const Opts *o, int nimg, FILE *csv) {
    double *ap = xmalloc(ds->nclasses * sizeof *ap), sum = 0;
    int counted = 0;
    det_eval_map(ev, ap);
    printf("%4s %-18s %6s %8s %6s %6s\n", "id", "class", "GT", "AP", "TP", "FP");
    if (csv) fprintf(csv, "class_id,class,gt,ap,tp_at_0.25,fp_at_0.25\n");
    for (int c = 0; c < ds->nclasses; c++) {
        int tp, fp;
        det_eval_counts(ev, c, 0.25f, &tp, &fp);
        bool use = mapped[c] && !isnan(ap[c]);
        if (use) sum += ap[c], counted++;
        char apbuf[16];
        if (!mapped[c]) snprintf(apbuf, sizeof apbuf, "no-class");
        else if (isnan(ap[c])) snprintf(apbuf, sizeof apbuf, "-");
        else snprintf(apbuf, sizeof apbuf, "%.2f%%", 100 * ap[c]);
        if (ev->npos[c]) printf("%4d %-18s %6d %8s %6d %6d\n", c, ds->class_names[c], ev->npos[c], apbuf, tp, fp);
        if (csv) fprintf(csv, "%d,%s,%d,%s,%d,%d\n", c, ds->class_names[c], ev->npos[c], use ? apbuf : "", tp, fp);
    }
    double map = counted ? sum / counted : NAN;
    printf("mAP@%.2f = %.2f %% over %d classes with ground truth, %d images (COCO 101-point AP; score > %.3g, NMS %.2f)\n",
           o->iou, 100 * map, counted, nimg, o->thresh, o->nms);
    if (csv) fprintf(csv, "-1,mAP,%d,%.4f,,\n", dataset_nboxes(ds), 100 * map);
    free(ap);
}

static int run(const Opts *o) {
    Darknet net;
    Dataset ds;
    char **names = NULL;
    if (darknet_open(&net, o->model, o->weights) < 0) return -1;
    if (open_dataset(o, &ds) < 0) return darknet_free(&net), -1;
    int nn = 0;
    if (o->names && *o->names) nn = dn_names_load(o->names, &names);
    else {
        char p[4096];
        const char *slash = strrchr(o->model, '/');
        snprintf(p, sizeof p, "%.*scoco.names", slash ? (int)(slash - o->model + 1) : 0, o->model);
        if (path_exists(p)) nn = dn_names_load(p, &names);
    }
    int mc = net.nheads ? net.cfg.l[net.head[0]].yolo.classes : 0, rc = nn < 0 ? -1 : 0;
    bool *mapped = xcalloc(ds.nclasses ? ds.nclasses : 1, 1);
    int *map = rc ? NULL : class_map(names, nn, mc, &ds, mapped);
    DetEval ev;
    det_eval_init(&ev, ds.nclasses, o->iou);
    int total = o->limit > 0 && o->limit < ds.n ? o->limit : ds.n, done = 0;
    for (int i = 0; i < total && !rc; i++) {
        Image im;
        if (!ds.samples[i].frame) continue;
        rc = dataset_load_frame(&ds, i, &im);
        if (rc) break;
        add_image(&net, &ds, i, &im, map, mc, o, &ev);
        image_free(&im);
        done++;
        if (done % 16 == 0) fprintf(stderr, "\r%d/%d images", done, total);
    }
    if (done >= 16) fprintf(stderr, "\n");
    FILE *csv = NULL;
    if (!rc && o->csv && *o->csv && !(csv = fopen(o->csv, "w"))) rc = rn_fail("%s: cannot write", o->csv);
    if (!rc) report(&ev, &ds, mapped, o, done, csv);
    if (csv && fclose(csv) != 0) rc = rn_fail("%s: write error", o->csv);
    det_eval_free(&ev);
    free(map), free(mapped);
    dn_names_free(names, nn > 0 ? nn : 0), dataset_free(&ds), darknet_free(&net);
    return rc;
}

int cmd_eval_det(int argc, char **argv) {
    Opts o = {.format = "coco", .thresh = 0.005, .nms = 0.45, .iou = 0.5, .letter = -1};
    bool letterbox = false, resize = false;
    ArgSpec specs[] = {
        {"model", ARG_STR, &o.model, "M.cfg|M.h5", "darknet cfg (with --weights) or a checkpoint from rune import"},
        {"weights", ARG_STR, &o.weights, "M.weights", "darknet weights for a .cfg model"},
        {"data", ARG_STR, &o.data, "DIR", "dataset folder (see the layouts above)"},
        {"format", ARG_STR, &o.format, "F", "coco, yolo or visdrone"},
        {"ann", ARG_STR, &o.ann, "PATH", "COCO json / VisDrone annotation folder when not in the usual place"},
        {"names", ARG_STR, &o.names, "FILE", "the model's class names (default: coco.names beside the cfg)"},
        {"thresh", ARG_FLOAT, &o.thresh, "T", "score threshold for candidate boxes (darknet's map uses .005)"},
        {"nms", ARG_FLOAT, &o.nms, "T", "per-class NMS threshold (darknet's map: .45)"},
        {"iou", ARG_FLOAT, &o.iou, "T", "IoU for a true positive (AP@0.5 by default)"},
        {"limit", ARG_INT, &o.limit, "N", "only the first N images (0 = all)"},
        {"csv", ARG_STR, &o.csv, "FILE", "also write the per-class table as CSV (last row: mAP)"},
        {"letterbox", ARG_BOOL, &letterbox, NULL, "letterbox the input (default: as the cfg's letter_box)"},
        {"resize", ARG_BOOL, &resize, NULL, "plain-resize the input"},
        {0},
    };
    ArgCmd cmd = {"eval-det", "--model M --data DIR --format coco|yolo|visdrone [options]",
                  "Per-class AP at --iou and their mean over classes with ground truth, COCO's 101-point\n"
                  "interpolation, greedy matching by score (one match per ground truth). Ignored regions\n"
                  "(VisDrone categories 0/11, COCO iscrowd) are never misses, and a detection lying in one (IoF\n"
                  "> 0.5) that matches nothing is dropped. Model classes map to dataset classes by name\n"
                  "(person -> pedestrian and motorcycle -> motor for VisDrone); dataset classes the model lacks\n"
                  "are listed as no-class and left out of the mean. Layouts: coco: DIR/*.json (or --ann) with\n"
                  "images in DIR or DIR/images; yolo: DIR/images, DIR/labels, names from DIR/config.yaml or\n"
                  "DIR/*.names; visdrone: DIR/images and DIR/annotations-val (or annotations).",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    if (!o.model || !o.data) args_usage_error(&cmd, "--model and --data are required");
    if (letterbox && resize) args_usage_error(&cmd, "--letterbox and --resize exclude each other");
    if (o.iou <= 0 || o.iou > 1 || o.nms <= 0 || o.nms > 1 || o.thresh < 0 || o.thresh >= 1)
        args_usage_error(&cmd, "--iou and --nms in (0,1], --thresh in [0,1)");
    o.letter = letterbox ? 1 : resize ? 0 : -1;
    int rc = run(&o);
    if (rc < 0) fprintf(stderr, "rune eval-det: %s\n", rn_errmsg());
    free(pos);
    return rc < 0 ? 1 : 0;
}
