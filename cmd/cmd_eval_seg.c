/* cmd_eval_seg.c: `rune eval-seg` — per-class IoU, mIoU and the tail-class mean of a segmenter over a labelled dataset. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "profile/eval_segmenter.h"
#include "util/args.h"
#include "util/err.h"

int cmd_eval_seg(int argc, char **argv) {
    EvalSegmenterOpts o = {.kind = "camvid", .split = "test"};
    ArgSpec specs[] = {
        {"model", ARG_STR, &o.model, "M", "weights: published ESPNet .pth, upstream SwiftNet .pth/.pt, or a rune .h5"},
        {"arch", ARG_STR, &o.arch, "A", "espnet or swiftnet (default: told from the file)"},
        {"classes", ARG_INT, &o.classes, "N", "classes predicted (default: the model's; ESPNet's void channel dropped)"},
        {"norm", ARG_STR, &o.norm, "NAME", "input normalisation (camvid, cityscapes; default as rune segment)"},
        {"data", ARG_STR, &o.data, "DIR", "dataset root"},
        {"dataset", ARG_STR, &o.kind, "KIND", "camvid or cityscapes"},
        {"split", ARG_STR, &o.split, "S", "split to score (train, val, test)"},
        {"csv", ARG_STR, &o.csv, "FILE", "also write class,iou,tail rows and the summary to FILE"},
        {"limit", ARG_INT, &o.limit, "N", "score only the first N frames (0 = all)"},
        {"void-class", ARG_BOOL, &o.void_class, NULL, "ESPNet's own protocol for a model with a void output: the argmax runs "
                                                      "over all outputs and void-labelled pixels are kept as that class (a "
                                                      "class predicted there loses IoU, a void prediction is a miss); the "
                                                      "mean is still over the real classes"},
        {0},
    };
    ArgCmd cmd = {"eval-seg", "--model M --data DIR [options]",
                  "Runs a frozen segmenter over every labelled frame of a split at full resolution and\n"
                  "accumulates one confusion matrix (label 255 = void/ignore is not counted; predictions\n"
                  "are the argmax over the real classes). Prints per-class IoU, mIoU over the classes that\n"
                  "occur, the tail-class mean (the worst half of the classes, the paper's 50%-100%) and\n"
                  "pixel accuracy. --void-class scores as ESPNet's scripts do (see its help line).",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!o.model || !o.data) args_usage_error(&cmd, "--model and --data are required");
    if (eval_segmenter_run(&o) < 0) {
        fprintf(stderr, "rune eval-seg: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
