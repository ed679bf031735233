/* cmd_eval_det.c: `rune eval-det` — per-class AP@IoU and mAP (COCO's or darknet's definition) of a darknet detector over a COCO / YOLO / VisDrone dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "profile/eval_det.h"
#include "util/args.h"
#include "util/err.h"

/* --ap, --points and --max-dets into o->def; NULL, or what is wrong with them. */
static const char *ap_definition(const char *ap, int points, int max_dets, EvalDetOpts *o) {
    bool darknet = strcmp(ap, "darknet") == 0;
    if (!darknet && strcmp(ap, "coco") != 0) return "--ap: coco or darknet";
    if (!darknet && points >= 0 && points != 101) return "--points is darknet's; COCO's AP always has 101 points";
    if (darknet && (points == 1 || points > 1000)) return "--points: 0 (area under the curve) or 2..1000";
    if (max_dets < -1) return "--max-dets: 0 (no cap) or more";
    o->def = (DetApDef){darknet ? DET_AP_DARKNET : DET_AP_COCO, darknet ? (points < 0 ? 0 : points) : 101,
                        max_dets >= 0 ? max_dets : darknet ? 0 : 100};
    return NULL;
}

int cmd_eval_det(int argc, char **argv) {
    EvalDetOpts o = {.format = "coco", .thresh = 0.005, .nms = 0.45, .iou = 0.5, .letter = -1};
    bool letterbox = false, resize = false;
    const char *ap = "coco";
    int points = -1, max_dets = -1;
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
        {"ap", ARG_STR, &ap, "coco|darknet", "which AP definition (above)"},
        {"points", ARG_INT, &points, "N", "darknet's -points: 0 = area under the curve, 11, 101 (-1: darknet 0, coco 101)"},
        {"max-dets", ARG_INT, &max_dets, "N", "per image and class, only the N best; 0 = all (-1: coco 100, darknet 0)"},
        {"json", ARG_STR, &o.json, "FILE", "also write the detections as a COCO results file (pycocotools loadRes)"},
        {"letterbox", ARG_BOOL, &letterbox, NULL, "letterbox the input (default: as the cfg's letter_box)"},
        {"resize", ARG_BOOL, &resize, NULL, "plain-resize the input"},
        {0},
    };
    ArgCmd cmd = {"eval-det", "--model M --data DIR --format coco|yolo|visdrone [options]",
                  "Per-class AP at --iou and their mean. --ap coco (pycocotools' bbox AP): per image and class the\n"
                  "top --max-dets (100) detections, greedy matching by score to the unmatched ground truth with\n"
                  "the highest IoU >= --iou, 101 recall points, mean over classes with ground truth; also prints\n"
                  "AP@[.50:.95], AP@.50 and AP@.75 as pycocotools' summary does. --ap darknet (AlexeyAB's\n"
                  "`detector map`): each detection takes its best ground truth with IoU > --iou, a false positive\n"
                  "when a better-scored one took it first; --points 0 = area under the precision envelope, N =\n"
                  "N recall points; mean over every class of the model, 0 for those without ground truth.\n"
                  "Ignored regions (VisDrone categories 0/11, COCO iscrowd) are never misses, and a detection\n"
                  "lying in one that matches nothing is dropped. Model classes map to dataset classes by name\n"
                  "(person -> pedestrian and motorcycle -> motor for VisDrone); dataset classes the model lacks\n"
                  "are listed as no-class and left out of the mean. Layouts: coco: DIR/*.json (or --ann) with\n"
                  "images in DIR or DIR/images; yolo: DIR/images, DIR/labels, names from DIR/config.yaml or\n"
                  "DIR/*.names; visdrone: DIR/images and DIR/annotations-val (or annotations).",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!o.model || !o.data) args_usage_error(&cmd, "--model and --data are required");
    if (letterbox && resize) args_usage_error(&cmd, "--letterbox and --resize exclude each other");
    if (o.iou <= 0 || o.iou > 1 || o.nms <= 0 || o.nms > 1 || o.thresh < 0 || o.thresh >= 1)
        args_usage_error(&cmd, "--iou and --nms in (0,1], --thresh in [0,1)");
    o.letter = letterbox ? 1 : resize ? 0 : -1;
    const char *why = ap_definition(ap, points, max_dets, &o);
    if (why) args_usage_error(&cmd, why);
    if (eval_det_run(&o) < 0) {
        fprintf(stderr, "rune eval-det: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
