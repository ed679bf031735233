/* cmd_eval_det.c: `rune eval-det` — per-class AP@IoU and mAP of a darknet detector over a COCO / YOLO / VisDrone dataset. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "profile/eval_det.h"
#include "util/args.h"
#include "util/err.h"

int cmd_eval_det(int argc, char **argv) {
    EvalDetOpts o = {.format = "coco", .thresh = 0.005, .nms = 0.45, .iou = 0.5, .letter = -1};
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
    free(pos);
    if (!o.model || !o.data) args_usage_error(&cmd, "--model and --data are required");
    if (letterbox && resize) args_usage_error(&cmd, "--letterbox and --resize exclude each other");
    if (o.iou <= 0 || o.iou > 1 || o.nms <= 0 || o.nms > 1 || o.thresh < 0 || o.thresh >= 1)
        args_usage_error(&cmd, "--iou and --nms in (0,1], --thresh in [0,1)");
    o.letter = letterbox ? 1 : resize ? 0 : -1;
    if (eval_det_run(&o) < 0) {
        fprintf(stderr, "rune eval-det: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
