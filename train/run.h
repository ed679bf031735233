/* run.h: what every training loop shares — a CSV loss log that survives resume, checkpoint cadence, progress. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "util/progress.h"

typedef struct TrainLog {
    FILE *f;
    const char *path;
} TrainLog;

/* Opens PATH for the loss curve ("step,<columns>"). When resuming at `step`, rows past it are
 * dropped first, so a resumed run's log equals an uninterrupted run's. Returns -1 with rn_errmsg(). */
int trainlog_open(TrainLog *lg, const char *path, const char *columns, long long resume_step);
void trainlog_row(TrainLog *lg, long long step, const double *vals, int n);
void trainlog_close(TrainLog *lg);

/* Derived file names beside a checkpoint: "<out without .h5><suffix>". */
const char *run_sibling(const char *ckpt_path, const char *suffix, char *buf, size_t n);

/* The loop every trainer runs: steps start..steps, one CSV row per step (columns as named; the
 * first value is the loss, NaN stops the run), a progress line with rate and ETA, a checkpoint
 * every ckpt_every steps and at the end. The step and checkpoint functions are the trainer's.
 * Under mpirun (nn/dist.h) every rank runs the steps, whose values must already be averaged over
 * ranks; rank 0 alone writes the log, the progress line and the checkpoints. */
typedef struct TrainLoop {
    const char *what;       /* progress tag: "train-sr" */
    const char *log_path;   /* loss log (CSV), NULL for none */
    const char *columns;    /* its columns after "step": "loss,lr" */
    int ncols;
    long long start, steps, ckpt_every;
    bool quiet;
    void *ctx;
    /* one optimisation step: vals[0..ncols) for the log, a short progress text; 0 or -1 */
    int (*step)(void *ctx, long long step, double *vals, char *extra, size_t n);
    /* write the checkpoint for `step` (and validate, if the trainer does); 0 or -1 */
    int (*checkpoint)(void *ctx, long long step);
} TrainLoop;

int train_loop(const TrainLoop *L);
