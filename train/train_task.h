/* train_task.h: training a segmenter (SwiftNet, ESPNet) from scratch with cross-entropy on random crops (rune train-task): checkpoints, exact resume. */
#pragma once
#include <stdbool.h>

#include "nn/device.h"

typedef struct TaskTrainCfg {
    const char *arch;      /* "swiftnet" or "espnet" */
    const char *data, *kind, *split; /* the labelled dataset (data/dataset.h: dataset_open) */
    const char *out;       /* checkpoint (.h5); the loss log goes beside it (_loss.csv) */
    const char *optim;     /* "adam" (betas 0.9/0.99 as upstream) or "sgd" (with momentum) */
    const char *norm;      /* input normalisation stored in the model */
    int batch, crop;       /* crops per step; square crop side (0 = whole frames) */
    int classes;           /* model outputs; 0 = the dataset's classes */
    int steps, ckpt_every; /* total steps (a resumed run continues to it); checkpoint period */
    double width;          /* SwiftNet channel scale (1 = ResNet-18's) */
    double lr, min_lr;     /* cosine-annealed from lr to min_lr over the steps */
    double momentum, wd;   /* SGD momentum; weight decay (L2 added to the gradient) */
    int seed;              /* weights and the crop/flip stream */
    bool resume, quiet;
    Device device;        /* where the model, optimizer state and batches live */
} TaskTrainCfg;

/* rune train-task's defaults: SwiftNet (width 0.25) on CamVid's train split, Adam 4e-4 -> 1e-6,
 * batch 8 of 256 crops, 1000 steps, a checkpoint every 200. */
void task_train_defaults(TaskTrainCfg *c);
/* Trains (or, with resume and an existing checkpoint, continues) the model; 0 on success, -1 with
 * rn_errmsg() on bad input or I/O failure. */
int train_task(const TaskTrainCfg *c);
