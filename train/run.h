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
