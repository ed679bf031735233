/* cmd_train_task.c: `rune train-task` — flags and the call into train/train_task.c (a segmenter trained with cross-entropy on random crops). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/device_flag.h"
#include "train/train_task.h"
#include "util/args.h"
#include "util/err.h"

int cmd_train_task(int argc, char **argv) {
    TaskTrainCfg c;
    task_train_defaults(&c);
    const char *device = "cpu";
    ArgSpec specs[] = {
        {"model", ARG_STR, &c.arch, "ARCH", "architecture to train: swiftnet (or espnet)"},
        {"data", ARG_STR, &c.data, "DIR", "dataset root"},
        {"dataset", ARG_STR, &c.kind, "KIND", "camvid or cityscapes"},
        {"split", ARG_STR, &c.split, "S", "split to train on"},
        {"out", ARG_STR, &c.out, "FILE.h5", "checkpoint (the loss log goes beside it, _loss.csv)"},
        {"steps", ARG_INT, &c.steps, "N", "total steps (a resumed run continues to N)"},
        {"ckpt-every", ARG_INT, &c.ckpt_every, "N", "save a checkpoint every N steps (and at the end)"},
        {"resume", ARG_BOOL, &c.resume, NULL, "continue from --out (weights, optimizer moments, step)"},
        {"batch", ARG_INT, &c.batch, "B", "crops per step"},
        {"crop", ARG_INT, &c.crop, "P", "square random crop side (0 = whole frames)"},
        {"width", ARG_FLOAT, &c.width, "W", "SwiftNet channel scale (1 = ResNet-18's 64..512 and 128 features)"},
        {"classes", ARG_INT, &c.classes, "N", "model outputs (default: the dataset's classes)"},
        {"norm", ARG_STR, &c.norm, "NAME", "input normalisation stored in the model (camvid, cityscapes, imagenet, swiftnet)"},
        {"optim", ARG_STR, &c.optim, "adam|sgd", "optimizer (Adam betas 0.9/0.99 as upstream; SGD with --momentum)"},
        {"lr", ARG_FLOAT, &c.lr, "LR", "initial learning rate, cosine-annealed to --min-lr over --steps"},
        {"min-lr", ARG_FLOAT, &c.min_lr, "LR", "final learning rate"},
        {"momentum", ARG_FLOAT, &c.momentum, "M", "SGD momentum"},
        {"wd", ARG_FLOAT, &c.wd, "WD", "weight decay (L2 added to the gradient)"},
        {"seed", ARG_INT, &c.seed, "S", "seed of the weights and of the crop/flip stream"},
        {"quiet", ARG_BOOL, &c.quiet, NULL, "no progress lines"},
        DEVICE_ARG(device),
        {0},
    };
    ArgCmd cmd = {"train-task", "--model swiftnet --data DIR --steps N [options]",
                  "Trains a segmentation model from scratch with softmax cross-entropy (label 255 ignored)\n"
                  "on random square crops with random horizontal flips, BN in training mode, Adam or SGD\n"
                  "with a cosine learning-rate schedule. Checkpoints (HDF5, with optimizer state) every N\n"
                  "steps and at the end; --resume continues a run exactly. Score the result with\n"
                  "`rune eval-seg --model FILE.h5`.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!c.data) args_usage_error(&cmd, "--data is required");
    if (c.steps < 1 || c.batch < 1 || c.crop < 0) args_usage_error(&cmd, "--steps and --batch must be >= 1, --crop >= 0");
    if (c.crop > 0 && c.crop < 32) args_usage_error(&cmd, "--crop must be 0 or >= 32");
    if (strcmp(c.optim, "adam") && strcmp(c.optim, "sgd")) args_usage_error(&cmd, "--optim is adam or sgd");
    if (c.width <= 0) args_usage_error(&cmd, "--width must be > 0");
    if (device_flag(&cmd, device, &c.device) < 0) return 1;
    if (train_task(&c) < 0) {
        fprintf(stderr, "rune train-task: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
