/* cmd_finetune_asr.c: rune finetune-asr — flags and the call into train/finetune_asr.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/device_flag.h"
#include "nn/dist.h"
#include "train/finetune_asr.h"
#include "train/finetune_asr_det.h"
#include "util/args.h"
#include "util/err.h"

/* --task-kind given on the command line (scanned first: the defaults, and so --help, depend on it). */
static const char *task_kind_arg(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--task-kind") && i + 1 < argc) return argv[i + 1];
        if (!strncmp(argv[i], "--task-kind=", 12)) return argv[i] + 12;
    }
    return "seg";
}

int cmd_finetune_asr(int argc, char **argv) {
    AsrCfg c;
    const char *kind = task_kind_arg(argc, argv);
    if (!strcmp(kind, "det")) asr_det_defaults(&c);
    else asr_defaults(&c);
    const char *loss = "asr", *mask = "detail";
    int seed = (int)c.seed, steps = (int)c.steps, every = (int)c.ckpt_every;
    bool resume = false, quiet = false;
    const char *device = "cpu";
    ArgSpec specs[] = {
        {"task-kind", ARG_STR, &kind, "K", "seg (frozen segmenter) or det (frozen darknet detector; see above)"},
        {"sr", ARG_STR, &c.sr, "SR.h5", "SR checkpoint to start from (from train-sr; needs the --scale head)"},
        {"task", ARG_STR, &c.task, "TASK", "frozen task model: segmenter (ESPNet or SwiftNet, .h5 or .pth) or, det, darknet .h5 from rune import or .cfg"},
        {"weights", ARG_STR, &c.weights, "W", "det: darknet .weights for a .cfg --task"},
        {"focal", ARG_FLOAT, &c.focal, "G", "det: focal gamma of the YOLO objectness/class terms (0 = plain BCE)"},
        {"norm", ARG_STR, &c.norm, "NAME", "segmenter input normalisation (camvid, cityscapes; SwiftNet also swiftnet, imagenet); default: the checkpoint's"},
        {"classes", ARG_INT, &c.task_classes, "K", "segmenter outputs expected, 0 = the checkpoint's (a check; ESPNet-CamVid has 12)"},
        {"data", ARG_STR, &c.data, "DIR", "seg: a CamVid root (train split); det: a YOLO root (coco128), first 96 images by name"},
        {"out", ARG_STR, &c.out, "FILE.h5", "checkpoint to write (loss log beside it: FILE_loss.csv)"},
        {"scale", ARG_INT, &c.scale, "S", "the edge's downscaling factor"},
        {"quality", ARG_INT, &c.quality, "Q", "the edge's JPEG quality (0 = none)"},
        {"alpha", ARG_FLOAT, &c.alpha, "A", "weight of L1(SR(lr), hr)"},
        {"beta", ARG_FLOAT, &c.beta, "B", "weight of the analytics loss L_a (0 = the L1-only control)"},
        {"loss", ARG_STR, &loss, "KIND", "asr (Eq. 3, cross-entropy) or cloudseg (Eq. 2: MSE to task(hr) logits)"},
        {"mask", ARG_STR, &mask, "WHICH", "asr pixels: detail (small regions only) or all (every labelled pixel)"},
        {"small", ARG_FLOAT, &c.small, "FRAC", "detail: seg, a connected region of the WHOLE frame's label smaller than FRAC of the frame's area (then cropped with the frame); det, a box smaller than FRAC of the image's area; 0 < FRAC < 1"},
        {"crop", ARG_INT, &c.crop, "PX", "seg: HR crop side (multiple of 8 and the scale), 0 = whole frames; det: HR side = detector input, 0 = the cfg's"},
        {"batch", ARG_INT, &c.batch, "N", "frames per step"},
        {"steps", ARG_INT, &steps, "N", "total steps"},
        {"ckpt-every", ARG_INT, &every, "N", "checkpoint every N steps"},
        {"lr", ARG_FLOAT, &c.lr, "RATE", "Adam learning rate"},
        {"seed", ARG_INT, &seed, "N", "seed of frame order and flips"},
        {"resume", ARG_BOOL, &resume, NULL, "continue from --out where it stopped"},
        {"quiet", ARG_BOOL, &quiet, NULL, "no progress lines"},
        DEVICE_ARG(device),
        {0},
    };
    ArgCmd cmd = {"finetune-asr", "--sr SR.h5 --task TASK.h5 --data DIR --out ASR.h5 [options]",
                  "Fine-tunes an SR model into analytics-aware SR: loss = alpha * L1(SR(lr), hr) + beta * L_a,\n"
                  "back-propagated through the FROZEN segmenter into the SR model only. L_a (asr) is the\n"
                  "cross-entropy of task(SR(lr)) against the labels, averaged over the detail-mask pixels\n"
                  "(--mask detail) or over all labelled pixels (--mask all); a batch without detail pixels\n"
                  "contributes L_a = 0. The detail mask is made from each WHOLE frame's label: a pixel is detail\n"
                  "when its connected region (4-connected, same class) covers less than --small of the frame's\n"
                  "area; the mask is then cropped and mirrored with the frame, so a large region cut by a crop's\n"
                  "edge is never detail. Every frame of the train split needs a label map of its size (checked\n"
                  "before training starts).\n\n"
                  "--task-kind det (defaults then: alpha 0.9, beta 0.1, focal 2, batch 4): --task is a frozen\n"
                  "darknet detector (Yolo-Fastest: .h5 from rune import), --data a YOLO-layout root (coco128:\n"
                  "images/, labels/, config.yaml) of which the FIRST 96 images by sorted name are the training\n"
                  "split (the last 32 are left for eval-det-asr). Each image is resized whole to the detector's\n"
                  "square input (Yolo-Fastest 1.1: 320x320; boxes keep their normalised coordinates, no\n"
                  "letterbox, as darknet feeds it), mirrored left-right with probability 1/2, degraded by\n"
                  "--scale/--quality, and SR(lr) (again the input size) goes into the detector as is. L_a (asr) is\n"
                  "the YOLOv3 loss (box MSE, objectness/class BCE with a focal term) where only boxes smaller\n"
                  "than --small of the whole image's area are positives and larger boxes count as neither positive nor\n"
                  "negative (--mask detail), or every box (--mask all); --loss cloudseg is the MSE between the\n"
                  "detector's raw head outputs on SR(lr) and on hr; --beta 0 is the L1-only control.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!c.sr || !c.task || !c.data || !c.out) args_usage_error(&cmd, "--sr, --task, --data and --out are required");
    if (strcmp(kind, "seg") && strcmp(kind, "det")) args_usage_error(&cmd, "--task-kind must be seg or det");
    if (!strcmp(loss, "cloudseg")) c.loss = ASR_LOSS_CLOUDSEG;
    else if (!strcmp(loss, "asr")) c.loss = !strcmp(mask, "all") ? ASR_LOSS_ALL : ASR_LOSS_DETAIL;
    else args_usage_error(&cmd, "--loss must be asr or cloudseg");
    if (strcmp(mask, "all") && strcmp(mask, "detail")) args_usage_error(&cmd, "--mask must be detail or all");
    if (c.batch < 1 || steps < 1 || c.alpha < 0 || c.beta < 0 || c.quality < 0 || c.quality > 100)
        args_usage_error(&cmd, "bad numeric option (batch, steps >= 1; alpha, beta >= 0; quality 0..100)");
    if (!(c.small > 0 && c.small < 1))
        args_usage_error(&cmd, "--small %g: a fraction of the frame's area, between 0 and 1 (0.01 = 1 %% of the frame)", c.small);
    c.seed = (uint64_t)seed, c.steps = steps, c.ckpt_every = every, c.resume = resume, c.quiet = quiet;
    if (c.focal < 0) args_usage_error(&cmd, "--focal must be >= 0");
    if (device_flag(&cmd, device, &c.device) < 0) return 1;
    if ((c.kind == ASR_TASK_DET ? finetune_asr_det(&c) : finetune_asr(&c)) < 0) {
        fprintf(stderr, "rune finetune-asr: %s\n", rn_errmsg());
        return 1;
    }
    if (dist_is_root()) fprintf(stderr, "finetune-asr: done, %s\n", c.out); /* rank 0 wrote it */
    return 0;
}
