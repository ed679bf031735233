/* cmd_finetune_asr.c: rune finetune-asr — flags and the call into train/finetune_asr.c. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "train/finetune_asr.h"
#include "util/args.h"
#include "util/err.h"

int cmd_finetune_asr(int argc, char **argv) {
    AsrCfg c;
    asr_defaults(&c);
    const char *loss = "asr", *mask = "detail";
    int seed = (int)c.seed, steps = (int)c.steps, every = (int)c.ckpt_every;
    bool resume = false, quiet = false;
    ArgSpec specs[] = {
        {"sr", ARG_STR, &c.sr, "SR.h5", "SR checkpoint to start from (from train-sr; needs the --scale head)"},
        {"task", ARG_STR, &c.task, "TASK", "frozen segmenter weights (ESPNet .h5 or .pth)"},
        {"norm", ARG_STR, &c.norm, "NAME", "segmenter input normalisation: camvid or cityscapes"},
        {"classes", ARG_INT, &c.task_classes, "K", "segmenter outputs (ESPNet-CamVid: 12)"},
        {"data", ARG_STR, &c.data, "DIR", "labelled frames: a CamVid root (train split)"},
        {"out", ARG_STR, &c.out, "FILE.h5", "checkpoint to write (loss log beside it: FILE_loss.csv)"},
        {"scale", ARG_INT, &c.scale, "S", "the edge's downscaling factor"},
        {"quality", ARG_INT, &c.quality, "Q", "the edge's JPEG quality (0 = none)"},
        {"alpha", ARG_FLOAT, &c.alpha, "A", "weight of L1(SR(lr), hr)"},
        {"beta", ARG_FLOAT, &c.beta, "B", "weight of the analytics loss L_a (0 = the L1-only control)"},
        {"loss", ARG_STR, &loss, "KIND", "asr (Eq. 3, cross-entropy) or cloudseg (Eq. 2: MSE to task(hr) logits)"},
        {"mask", ARG_STR, &mask, "WHICH", "asr pixels: detail (small regions only) or all (every labelled pixel)"},
        {"small", ARG_FLOAT, &c.small, "FRAC", "small region: connected area below this fraction of the frame"},
        {"crop", ARG_INT, &c.crop, "PX", "HR crop side (multiple of 8 and the scale); 0 = whole frames"},
        {"batch", ARG_INT, &c.batch, "N", "frames per step"},
        {"steps", ARG_INT, &steps, "N", "total steps"},
        {"ckpt-every", ARG_INT, &every, "N", "checkpoint every N steps"},
        {"lr", ARG_FLOAT, &c.lr, "RATE", "Adam learning rate"},
        {"seed", ARG_INT, &seed, "N", "seed of frame order and flips"},
        {"resume", ARG_BOOL, &resume, NULL, "continue from --out where it stopped"},
        {"quiet", ARG_BOOL, &quiet, NULL, "no progress lines"},
        {0},
    };
    ArgCmd cmd = {"finetune-asr", "--sr SR.h5 --task TASK.h5 --data DIR --out ASR.h5 [options]",
                  "Fine-tunes an SR model into analytics-aware SR: loss = alpha * L1(SR(lr), hr) + beta * L_a,\n"
                  "back-propagated through the FROZEN segmenter into the SR model only. L_a (asr) is the\n"
                  "cross-entropy of task(SR(lr)) against the labels, averaged over the detail-mask pixels\n"
                  "(--mask detail: connected same-label regions smaller than --small of the frame) or over all\n"
                  "labelled pixels (--mask all); a batch without detail pixels contributes L_a = 0.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    if (!c.sr || !c.task || !c.data || !c.out) args_usage_error(&cmd, "--sr, --task, --data and --out are required");
    if (!strcmp(loss, "cloudseg")) c.loss = ASR_LOSS_CLOUDSEG;
    else if (!strcmp(loss, "asr")) c.loss = !strcmp(mask, "all") ? ASR_LOSS_ALL : ASR_LOSS_DETAIL;
    else args_usage_error(&cmd, "--loss must be asr or cloudseg");
    if (strcmp(mask, "all") && strcmp(mask, "detail")) args_usage_error(&cmd, "--mask must be detail or all");
    if (c.batch < 1 || steps < 1 || c.alpha < 0 || c.beta < 0 || c.small <= 0 || c.quality < 0 || c.quality > 100)
        args_usage_error(&cmd, "bad numeric option (batch, steps >= 1; alpha, beta >= 0; small > 0; quality 0..100)");
    c.seed = (uint64_t)seed, c.steps = steps, c.ckpt_every = every, c.resume = resume, c.quiet = quiet;
    if (finetune_asr(&c) < 0) {
        fprintf(stderr, "rune finetune-asr: %s\n", rn_errmsg());
        return 1;
    }
    fprintf(stderr, "finetune-asr: done, %s\n", c.out);
    return 0;
}
