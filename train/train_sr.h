/* train_sr.h: training CARN / CARN-M on HR frames (rune train-sr). */
#pragma once
#include <stdbool.h>

#include "nn/device.h"
#include <stdint.h>

typedef struct SrTrainCfg {
    const char *data;     /* CamVid root (has train.txt; uses the train split) or a folder of HR frames */
    const char *val;      /* held-out frames: CamVid root (test split) or a folder; NULL = none */
    int val_frames;       /* how many held-out frames to score at each checkpoint */
    const char *out;      /* checkpoint path (.h5); the loss log goes beside it (_loss.csv) */
    const char *init;     /* initial weights: a rune .h5 or the published .pth; NULL = random */
    const char *arch;     /* "carn_m" or "carn" */
    int scale;            /* 2, 3, 4, 6, 8 */
    int lr_patch;         /* LR patch side; HR patch = lr_patch * scale */
    int batch;
    long long steps;      /* total steps of the run (a resumed run continues to this number) */
    long long ckpt_every;
    int quality;          /* 0: LR = bicubic downscale; 1..100: also JPEG at this quality */
    double lr;
    long long lr_halve_every; /* halve the learning rate every N steps (0 = constant) */
    uint64_t seed;
    bool resume;
    bool quiet;
    Device device;    /* where the model, Adam state and batches live (DEV_CPU: the default) */
} SrTrainCfg;

void sr_train_defaults(SrTrainCfg *c);
/* Runs the training; 0 on success, -1 with rn_errmsg() on bad input or I/O failure. */
int train_sr(const SrTrainCfg *c);
