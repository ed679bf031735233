/* cmd_train_sr.c: rune train-sr — flags and the call into train/train_sr.c. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "cmd/device_flag.h"
#include "nn/dist.h"
#include "train/train_sr.h"
#include "util/args.h"
#include "util/err.h"

int cmd_train_sr(int argc, char **argv) {
    SrTrainCfg c;
    sr_train_defaults(&c);
    int seed = (int)c.seed, steps = (int)c.steps, every = (int)c.ckpt_every, halve = 0;
    bool resume = false, quiet = false;
    const char *device = "cpu";
    ArgSpec specs[] = {
        {"data", ARG_STR, &c.data, "DIR", "training HR frames: a CamVid root (train split) or a folder of frames"},
        {"val", ARG_STR, &c.val, "DIR", "held-out frames scored at each checkpoint (CamVid root: test split)"},
        {"val-frames", ARG_INT, &c.val_frames, "N", "how many held-out frames to score"},
        {"out", ARG_STR, &c.out, "FILE.h5", "checkpoint to write (loss log beside it: FILE_loss.csv, FILE_val.csv)"},
        {"init", ARG_STR, &c.init, "FILE", "start from these weights (.h5, or the published carn_m.pth)"},
        {"arch", ARG_STR, &c.arch, "NAME", "carn_m or carn"},
        {"scale", ARG_INT, &c.scale, "S", "upscaling factor: 2, 3, 4, 6 or 8"},
        {"lr-patch", ARG_INT, &c.lr_patch, "P", "LR patch side (HR patch = P x scale)"},
        {"batch", ARG_INT, &c.batch, "N", "patches per step"},
        {"steps", ARG_INT, &steps, "N", "total optimisation steps"},
        {"ckpt-every", ARG_INT, &every, "N", "write a checkpoint (and validate) every N steps"},
        {"quality", ARG_INT, &c.quality, "Q", "JPEG quality of the LR frames (0 = no JPEG)"},
        {"lr", ARG_FLOAT, &c.lr, "RATE", "Adam learning rate"},
        {"lr-halve-every", ARG_INT, &halve, "N", "halve the learning rate every N steps (0 = never)"},
        {"seed", ARG_INT, &seed, "N", "seed of weights, patch order, crops and flips"},
        {"resume", ARG_BOOL, &resume, NULL, "continue from --out where it stopped (same loss curve as one run)"},
        {"quiet", ARG_BOOL, &quiet, NULL, "no progress lines"},
        DEVICE_ARG(device),
        {0},
    };
    ArgCmd cmd = {"train-sr", "--data DIR --out FILE.h5 [options]",
                  "Trains a CARN / CARN-M super-resolution model on random HR patches (flips and 90-degree\n"
                  "rotations), LR made as the edge makes it (MATLAB bicubic downscale, optional JPEG), L1 loss, Adam.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!c.data || !c.out) args_usage_error(&cmd, "--data and --out are required");
    if (c.scale != 2 && c.scale != 3 && c.scale != 4 && c.scale != 6 && c.scale != 8)
        args_usage_error(&cmd, "--scale must be 2, 3, 4, 6 or 8");
    if (c.batch < 1 || c.lr_patch < 4 || steps < 1 || c.quality < 0 || c.quality > 100)
        args_usage_error(&cmd, "--batch >= 1, --lr-patch >= 4, --steps >= 1, --quality 0..100");
    c.seed = (uint64_t)seed, c.steps = steps, c.ckpt_every = every, c.lr_halve_every = halve;
    c.resume = resume, c.quiet = quiet;
    if (device_flag(&cmd, device, &c.device) < 0) return 1;
    if (train_sr(&c) < 0) {
        fprintf(stderr, "rune train-sr: %s\n", rn_errmsg());
        return 1;
    }
    if (dist_is_root()) fprintf(stderr, "train-sr: done, %s\n", c.out); /* rank 0 wrote it */
    return 0;
}
