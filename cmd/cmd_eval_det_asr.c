/* cmd_eval_det_asr.c: `rune eval-det-asr` — Table 6: detection mAP, tail-class mAP and PSNR/SSIM for bilinear / SR / CloudSeg / ASR / HR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "profile/eval_det_tables.h"
#include "profile/eval_plan.h"
#include "util/args.h"
#include "util/err.h"

typedef struct Flags {
    const char *model, *weights, *data, *split, *scales, *sr, *asr, *cloudseg, *out, *diffs, *json;
    int quality, limit;
    double thresh, nms, iou;
    bool quiet;
} Flags;

static int run(const Flags *f, const char **specs, int nspecs) {
    EvalPlan p = {0};
    Dataset ds = {0};
    Darknet net;
    DetTables t = {0};
    bool have_net = false;
    PlanShortcuts sc = {.sr = f->sr, .cloudseg = f->cloudseg, .asr = f->asr};
    int rc = eval_plan_build(&p, "eval-det-asr", f->scales, &sc, specs, nspecs);
    if (!rc) rc = dataset_open("yolo", f->data, f->split, &ds);
    if (!rc) rc = darknet_open(&net, f->model, f->weights);
    have_net = rc == 0;
    DetTablesOpts o = {.quality = f->quality, .max_images = f->limit, .thresh = f->thresh, .nms = f->nms, .iou = f->iou,
                       .progress = !f->quiet};
    if (!rc) rc = det_tables_run(&ds, &net, p.m, p.n, &o, &t);
    if (!rc) rc = det_tables_write(&t, f->out, f->diffs, stdout);
    if (!rc && f->json) rc = det_tables_write_coco(&t, &ds, f->json);
    if (!rc)
        printf("\n%d images (%s split of %s) at %dx%d, %d methods: %.1f s wall. Files in %s/\n", t.nimages, f->split,
               f->data, t.size, t.size, t.nmethods, t.seconds, f->out);
    det_tables_free(&t);
    if (have_net) darknet_free(&net);
    dataset_free(&ds);
    eval_plan_free(&p);
    return rc;
}

int cmd_eval_det_asr(int argc, char **argv) {
    Flags f = {.split = "eval", .scales = "2,4", .out = "results/coco", .thresh = 0.005, .nms = 0.45, .iou = 0.5};
    const char *specs[PLAN_MAX_METHODS];
    int nspecs = args_take_repeated(&argc, argv, "method", specs, PLAN_MAX_METHODS);
    ArgSpec sp[] = {
        {"model", ARG_STR, &f.model, "M.h5|M.cfg", "frozen darknet detector (rune import .h5, or .cfg with --weights)"},
        {"weights", ARG_STR, &f.weights, "W", "darknet .weights for a .cfg model"},
        {"data", ARG_STR, &f.data, "DIR", "YOLO-layout root (coco128: images/, labels/, config.yaml)"},
        {"split", ARG_STR, &f.split, "S", "eval (images 97.. by sorted name), train (the first 96) or all"},
        {"scales", ARG_STR, &f.scales, "LIST", "downscaling factors, e.g. 2,4"},
        {"sr", ARG_STR, &f.sr, "SR.h5", "standard SR (train-sr), at every scale it has a head for"},
        {"cloudseg", ARG_STR, &f.cloudseg, "CS.h5", "CloudSeg-style fine-tune (finetune-asr --loss cloudseg)"},
        {"asr", ARG_STR, &f.asr, "ASR.h5", "detection ASR (finetune-asr --task-kind det)"},
        {"out", ARG_STR, &f.out, "DIR", "where table6.{md,csv} and classes.csv go"},
        {"quality", ARG_INT, &f.quality, "Q", "the edge's JPEG quality (0 = lossless)"},
        {"limit", ARG_INT, &f.limit, "N", "only the first N images of the split (0 = all)"},
        {"thresh", ARG_FLOAT, &f.thresh, "T", "score threshold for candidate boxes (darknet's map: .005)"},
        {"nms", ARG_FLOAT, &f.nms, "T", "per-class NMS threshold"},
        {"iou", ARG_FLOAT, &f.iou, "T", "IoU of a true positive"},
        {"diffs", ARG_STR, &f.diffs, "A-B,...", "method pairs for diffs.{md,csv} (default: asr minus every other method)"},
        {"json", ARG_STR, &f.json, "DIR", "also write each method's detections as a COCO results file, DIR/NAME_xS.json, and the image ids, DIR/images.json (scripts/coco_check.py table6)"},
        {"quiet", ARG_BOOL, &f.quiet, NULL, "no progress lines"},
        {0},
    };
    ArgCmd cmd = {"eval-det-asr", "--model YF.h5 --data COCO128 [--sr SR.h5] [--asr ASR.h5] [--method NAME:S:FILE]... [options]",
                  "The paper's Table 6 for detection. coco128 is split by sorted image name: the first 96 images\n"
                  "train (finetune-asr --task-kind det, train-sr) and the last 32 evaluate (--split eval). Each\n"
                  "image is resized whole to the detector's square input (HR), degraded per scale (MATLAB bicubic\n"
                  "+ optional JPEG), reconstructed by each method (bilinear, SR models; rounded to 8 bits) and\n"
                  "detected by the frozen detector; hr detects on the HR frame itself. Per method: mAP@--iou\n"
                  "(COCO's AP as `eval-det --ap coco --max-dets 0`: pycocotools' matching, 101 points, every\n"
                  "detection kept; classes with ground truth), tail mAP (mean AP over the worse half of those\n"
                  "classes by HR AP) and PSNR/SSIM against HR (Y channel, border = scale). --method NAME:S:FILE\n"
                  "(repeatable) adds any SR checkpoint at one scale. Writes OUT/table6.{md,csv}, OUT/classes.csv.",
                  sp, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!f.model || !f.data) args_usage_error(&cmd, "--model and --data are required");
    if (f.iou <= 0 || f.iou > 1 || f.nms <= 0 || f.nms > 1 || f.thresh < 0 || f.thresh >= 1 || f.quality < 0 ||
        f.quality > 100)
        args_usage_error(&cmd, "--iou and --nms in (0,1], --thresh in [0,1), --quality 0..100");
    int rc = run(&f, specs, nspecs);
    if (rc < 0) fprintf(stderr, "rune eval-det-asr: %s\n", rn_errmsg());
    return rc < 0 ? 1 : 0;
}
