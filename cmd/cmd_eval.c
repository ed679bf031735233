/* cmd_eval.c: `rune eval` — the paper's segmentation tables (2-5, Figs. 9/13/14) for bilinear / SR / CloudSeg / ASR / HR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/device_flag.h"
#include "data/dataset.h"
#include "nn/models/carn.h"
#include "profile/eval_plan.h"
#include "profile/eval_seg.h"
#include "profile/report.h"
#include "util/args.h"
#include "util/err.h"

typedef struct Flags {
    const char *task, *arch, *norm, *data, *dataset, *split, *scales, *sr, *asr, *cloudseg, *out;
    int quality, frames, tile, episode, table2_scale, boot, seed;
    const char *diffs;
    bool figures, quiet, predict_void;
    const char *device;
    Device dev;
} Flags;

static int run(const Flags *fl, const char **specs, int nspecs) {
    EvalPlan plan = {0};
    Dataset ds = {0};
    EvalTask task = {0};
    EvalResult res = {0};
    int rc = -1;
    bool have_ds = false, have_res = false;
    PlanShortcuts sc = {.sr = fl->sr, .cloudseg = fl->cloudseg, .asr = fl->asr};
    if (eval_plan_build(&plan, "eval", fl->scales, &sc, specs, nspecs) < 0) goto done;
    if (dataset_open(fl->dataset, fl->data, fl->split, &ds) < 0) goto done;
    have_ds = true;
    if (eval_task_open(&task, fl->task, fl->arch, fl->norm, fl->predict_void) < 0) goto done;
    EvalOpts eo = {.quality = fl->quality, .max_frames = fl->frames, .tile = fl->tile, .progress = !fl->quiet,
                   .device = fl->dev};
    if (eval_seg_run(&ds, &task, plan.m, plan.n, &eo, &res) < 0) goto done;
    have_res = true;
    int t2 = eval_plan_has_scale(&plan, fl->table2_scale) ? fl->table2_scale : plan.scales[0];
    ReportOpts ro = {.table2_scale = t2, .episode = fl->episode, .boot_reps = fl->boot, .seed = (uint64_t)fl->seed,
                     .figures = fl->figures, .echo = stdout, .diffs = fl->diffs};
    if (report_write(&res, fl->out, &ro) < 0) goto done;
    printf("\n%d frames of %s, %d methods, quality %d: %.1f s wall (%.2f s/frame). Files in %s/\n", res.nframes,
           ds.name, res.nmethods, fl->quality, res.seconds, res.seconds / res.nframes, fl->out);
    rc = 0;
done:
    if (have_res) eval_result_free(&res);
    eval_task_close(&task);
    if (have_ds) dataset_free(&ds);
    eval_plan_free(&plan);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    Flags fl = {.dataset = "camvid", .split = "test", .scales = "4", .quality = 0, .episode = 10,
                .table2_scale = 4, .boot = 1000, .seed = 1, .figures = true,
                .predict_void = false, .device = "cpu"};
    const char *method_help = NULL;
    ArgSpec specs[] = {
        {"task", ARG_STR, &fl.task, "M.h5", "frozen segmenter checkpoint (.h5 or .pth), e.g. weights/espnet_camvid.h5"},
        {"task-arch", ARG_STR, &fl.arch, "ARCH", "segmenter architecture: espnet or swiftnet (default: from the file)"},
        {"norm", ARG_STR, &fl.norm, "NAME", "segmenter input normalisation: camvid, cityscapes, ... (default: the model's)"},
        {"predict-void", ARG_BOOL, &fl.predict_void, NULL,
         "argmax over all outputs, so a predicted void (ESPNet's extra channel) counts as wrong; by "
         "default that channel is skipped, as rune eval-seg and rune segment do"},
        {"data", ARG_STR, &fl.data, "DIR", "labelled dataset root, e.g. ../shared/data/camvid"},
        {"dataset", ARG_STR, &fl.dataset, "KIND", "camvid or cityscapes"},
        {"split", ARG_STR, &fl.split, "NAME", "split to evaluate"},
        {"scales", ARG_STR, &fl.scales, "LIST", "downscale factors, e.g. 2,4,6,8"},
        {"sr", ARG_STR, &fl.sr, "S.h5", "standard SR (CARN) as method 'sr' at every scale it has a head for"},
        {"cloudseg", ARG_STR, &fl.cloudseg, "C.h5", "CloudSeg model (Eq. 2) as method 'cloudseg', likewise"},
        {"asr", ARG_STR, &fl.asr, "A.h5", "analytics-aware SR (Eq. 3) as method 'asr', likewise"},
        {"method", ARG_STR, &method_help, "NAME:SCALE:FILE",
         "repeatable: a CARN checkpoint as method NAME at one scale (e.g. asr:4:runs/asr_x4.h5); "
         "bilinear and hr are always included"},
        {"quality", ARG_INT, &fl.quality, "Q", "JPEG quality of the sent LR frame, 1..100; 0 = lossless (PNG bytes)"},
        {"frames", ARG_INT, &fl.frames, "N", "evaluate the first N frames only (0 = all)"},
        {"episode", ARG_INT, &fl.episode, "N", "frames per episode for the frame-wise tail (Table 4)"},
        {"table2-scale", ARG_INT, &fl.table2_scale, "S", "scale of Table 2 / Fig. 9 (first of --scales if absent)"},
        {"bootstrap", ARG_INT, &fl.boot, "B", "bootstrap replicates for diffs.{md,csv} (0 = none)"},
        {"diffs", ARG_STR, &fl.diffs, "A-B,...", "method pairs to compare (default asr-sr,asr-bilinear,asr-cloudseg,sr-bilinear)"},
        {"seed", ARG_INT, &fl.seed, "N", "bootstrap seed"},
        {"tile", ARG_INT, &fl.tile, "T", "SR LR tile side (0 = whole frame); results do not depend on it"},
        {"figures", ARG_BOOL, &fl.figures, NULL, "write fig9/fig13/fig14 .gp + .dat and run gnuplot (--no-figures: skip gnuplot)"},
        {"quiet", ARG_BOOL, &fl.quiet, NULL, "no progress line"},
        DEVICE_ARG(fl.device),
        {"out", ARG_STR, &fl.out, "DIR", "output folder for tables, results.json and figures"},
        {0},
    };
    ArgCmd cmd = {"eval", "--task M.h5 --data DIR --out DIR [--scales 2,4,6,8] [--sr S.h5] [--method NAME:SCALE:FILE ...]",
                  "For every frame: HR -> downscale by each scale (MATLAB bicubic) -> JPEG at --quality (or lossless)\n"
                  "-> each method's reconstruction (bilinear, CARN-based sr / cloudseg / asr) -> the frozen segmenter;\n"
                  "HR itself is the reference. Writes the paper's Tables 2-5 (Markdown + CSV), paired-bootstrap\n"
                  "differences, results.json and gnuplot figures (Figs. 9, 13, 14) to --out and prints the tables.\n"
                  "IoUs are means over the dataset's classes; a segmenter output with no dataset class\n"
                  "(ESPNet-CamVid's void) is never predicted, as in eval-seg (see --predict-void).",
                  specs, 0, 0};
    const char *mspecs[PLAN_MAX_METHODS];
    int nspecs = args_take_repeated(&argc, argv, "method", mspecs, PLAN_MAX_METHODS);
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!fl.task || !fl.data || !fl.out) args_usage_error(&cmd, "--task, --data and --out are required");
    if (fl.quality < 0 || fl.quality > 100 || fl.frames < 0 || fl.episode < 1 || fl.boot < 0)
        args_usage_error(&cmd, "--quality 0..100, --frames >= 0, --episode >= 1, --bootstrap >= 0");
    if (device_flag(&cmd, fl.device, &fl.dev) < 0) return 1;
    if (run(&fl, mspecs, nspecs) < 0) {
        fprintf(stderr, "rune eval: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
