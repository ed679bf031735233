/* cmd_profile.c: `rune profile` — tail-aware offline profiling (§3.2): flags, help, one call into profile/profile_run.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "profile/profile_run.h"
#include "util/args.h"
#include "util/err.h"

/* The command line as typed, recorded in profile.json. */
static void join_args(char *buf, size_t cap, int argc, char **argv) {
    size_t n = (size_t)snprintf(buf, cap, "rune");
    for (int i = 0; i < argc && n < cap; i++) n += (size_t)snprintf(buf + n, cap - n, " %s", argv[i]);
}

int cmd_profile(int argc, char **argv) {
    ProfileOpts o;
    profile_opts_defaults(&o);
    bool quiet = false;
    ArgSpec specs[] = {
        {"data", ARG_STR, &o.data, "DIR", "dataset root (required)"},
        {"dataset", ARG_STR, &o.kind, "KIND", "camvid or cityscapes (seg); yolo (det: coco128's train/eval split)"},
        {"split", ARG_STR, &o.split, "S", "split profiled for the configurations and the threshold fit"},
        {"val-split", ARG_STR, &o.val_split, "S", "held-out split, swept at every configuration: each detector's "
                                                  "recall/precision/AUC there, tail frames by the train cut-off on its "
                                                  "reference accuracy (\"\" = none; CamVid: val)"},
        {"task-kind", ARG_STR, &o.task_kind, "K", "seg (a segmenter; accuracy = per-frame mIoU) or det (a darknet "
                                                  "detector on --dataset yolo; per-frame AP@0.5 on frames resized to its "
                                                  "square input, signal = share of detections scoring >= 0.25 smaller "
                                                  "than --small of the frame)"},
        {"task", ARG_STR, &o.task, "M", "frozen task model (required): segmenter (ESPNet/SwiftNet .pth or rune .h5) or "
                                        "darknet .cfg (with --weights) / rune .h5; its class count must equal the dataset's"},
        {"weights", ARG_STR, &o.weights, "W", "darknet .weights for a .cfg --task"},
        {"arch", ARG_STR, &o.arch, "A", "espnet or swiftnet (default: told from the file)"},
        {"norm", ARG_STR, &o.norm, "NAME", "input normalisation (default: the model's)"},
        {"sr", ARG_STR, &o.sr, "LIST", "how the cloud rebuilds each scale: x2=A.h5,x4=B.h5,... (CARN/ASR checkpoints with "
                                       "that head) or xS=bilinear; every scale of --scales needs an entry (required)"},
        {"scales", ARG_STR, &o.scales, "LIST", "downscale factors, each 2..16"},
        {"qualities", ARG_STR, &o.qualities, "LIST", "JPEG qualities profiled at every scale"},
        {"hr-qualities", ARG_STR, &o.hr_qualities, "LIST", "JPEG qualities of the full-resolution frame (\"\" = no HR "
                                                           "configurations)"},
        {"targets", ARG_STR, &o.targets, "LIST", "auto (every cost at which the standard or the tail group's pick "
                                                 "changes: the costs of both frontiers) or bandwidth targets in Mbps; "
                                                 "per target and group the most accurate configuration whose cost x 8 x "
                                                 "--fps fits"},
        {"fps", ARG_FLOAT, &o.fps, "F", "frame rate that turns bytes per frame into a bit rate"},
        {"reference", ARG_STR, &o.reference, "S:Q", "configuration whose per-frame accuracy defines the tail frames (S 1 = "
                                                    "HR; default: HR at the highest --hr-qualities, or without HR the "
                                                    "smallest scale at the highest quality, with a warning)"},
        {"bytes-model", ARG_STR, &o.bytes_model, "M", "what a configuration costs: all (its mean bytes over every frame, "
                                                      "for the standard and the tail pick alike: the paper's \"same data "
                                                      "size\") or own (each group's own mean bytes)"},
        {"signal", ARG_STR, &o.signal, "NAME", "tail-frame signal CAC reads: ratio (the paper's small-region ratio), "
                                               "ratio_lr, small_count, maxprob, entropy, tail_share, or auto (the best "
                                               "mean val AUC over the scales in the direction fitted on train; "
                                               "train AUC without --val-split)"},
        {"recall-target", ARG_FLOAT, &o.recall_target, "R", "each configuration's detector threshold catches at least R of "
                                                            "the train tail frames"},
        {"tail-pct", ARG_FLOAT, &o.tail_pct, "P", "tail frames: the worst P % by per-frame mIoU (the paper: 10)"},
        {"small", ARG_FLOAT, &o.small, "FRAC", "Eq. 3: a connected region (4-connectivity, same class) of the whole "
                                               "frame's prediction smaller than FRAC of the frame is small (as finetune-asr)"},
        {"stride", ARG_INT, &o.stride, "N", "profile every N-th frame of --split"},
        {"frames", ARG_INT, &o.frames, "N", "at most N frames of --split after --stride (0 = all)"},
        {"val-stride", ARG_INT, &o.val_stride, "N", "every N-th frame of --val-split"},
        {"val-frames", ARG_INT, &o.val_frames, "N", "at most N frames of --val-split (0 = all)"},
        {"tile", ARG_INT, &o.tile, "N", "CARN LR tile side (0 = whole frame; results do not depend on it)"},
        {"resume", ARG_BOOL, &o.resume, NULL, "keep the frames already in STEM_train.csv / STEM_val.csv (same settings) and "
                                              "measure only the rest"},
        {"figures", ARG_BOOL, &o.figures, NULL, "run gnuplot on the figure scripts (--no-figures: scripts and data only)"},
        {"quiet", ARG_BOOL, &quiet, NULL, "no progress lines"},
        {"out", ARG_STR, &o.out, "FILE", "profile.json path (also -o FILE); the other files go beside it"},
        {0},
    };
    ArgCmd cmd = {"profile", "--data DIR --task M --sr x2=A.h5,... [options] -o profile.json",
                  "Tail-aware offline profiling (Runespoor §3.2). For every frame of --split and every\n"
                  "configuration (each scale x each JPEG quality, plus HR at --hr-qualities): the encoded\n"
                  "bytes, the frame rebuilt by the --sr model of its scale, the segmenter's per-frame mIoU\n"
                  "against the label and the small-region ratio of its prediction (share of the frame in\n"
                  "connected regions below --small of the frame); with --task-kind det, a detector's\n"
                  "per-frame AP and its share of small boxes. Tail frames = the worst --tail-pct % at\n"
                  "--reference (HR). Per --targets bandwidth: the most accurate configuration for standard\n"
                  "and for tail frames, costed by --bytes-model, and the tail pick's gain on each group\n"
                  "with a paired bootstrap interval. Per configuration: a detector on --signal (direction\n"
                  "by a Mann-Whitney test on --split, threshold at --recall-target), checked on\n"
                  "--val-split; every signal evaluated per scale; cac-share pairs per target. The paper's\n"
                  "pooled regression threshold is reported beside them.\n"
                  "Writes -o (profile.json, schema in the README), STEM_train.csv / STEM_val.csv (one row per\n"
                  "frame and configuration; the resume log), STEM.md (the summary, also printed) and\n"
                  "STEM_pareto / STEM_fig8 .gp/.dat/.png. Bad input (frame size not divisible by a scale,\n"
                  "a scale without --sr entry, a task model with another class count, an unwritable -o)\n"
                  "stops before the sweep.",
                  specs, 0, 0};
    /* args.h knows long flags only; the documented short "-o" is rewritten to "--out" here */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "-o")) argv[i] = "--out";
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!o.data || !o.task || !o.sr) args_usage_error(&cmd, "--data, --task and --sr are required");
    o.progress = !quiet;
    char line[4096];
    join_args(line, sizeof line, argc, argv);
    o.command = line;
    if (profile_run(&o) < 0) {
        fprintf(stderr, "rune profile: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
