/* sweep.h: the knob sweep of `rune profile` — every frame x every (scale, JPEG quality): bytes, rebuilt frame, per-frame accuracy, small-region ratio of the prediction. */
#pragma once
#include <stdbool.h>

#include "data/dataset.h"
#include "nn/models/carn.h"
#include "profile/eval_seg.h"

#define SWEEP_MAX_CONFIGS 128
#define SWEEP_MAX_SCALE 16

/* One configuration the edge can send: downscale by `scale` (1 = HR) and JPEG at `quality`. */
typedef struct SweepConfig {
    int scale, quality;
} SweepConfig;

/* How the cloud rebuilds each scale: a CARN checkpoint with a head for it, or bilinear (carn NULL). */
typedef struct SweepModels {
    Carn *carn[SWEEP_MAX_SCALE + 1]; /* [scale]; NULL = bilinear (scale 1 needs nothing) */
} SweepModels;

/* The measurements: per-(frame, config) arrays indexed [f * nconfigs + c]. */
typedef struct Sweep {
    int nframes, nconfigs;
    SweepConfig cfg[SWEEP_MAX_CONFIGS];
    int *sample;        /* [nframes] dataset index of each frame */
    char **name;        /* [nframes] frame base names */
    double *bytes;      /* encoded bytes on the wire */
    double *acc;        /* per-frame mIoU (fraction) over the dataset classes present in label or prediction */
    double *ratio;      /* small-region ratio of the prediction: small-region pixels / frame pixels */
    double *ratio_ms;   /* milliseconds spent computing that ratio */
    bool *done;         /* [nframes] measured (or read back by resume) */
    /* where the time of the frames measured in this run went (seconds) */
    double t_load, t_degrade, t_sr, t_task, t_ratio, t_wall;
    int measured;       /* frames measured in this run (not resumed) */
} Sweep;

typedef struct SweepOpts {
    double small;       /* Eq. 3 size threshold: a region below small * frame area is small */
    int tile;           /* CARN LR tile (0 = whole frame) */
    const char *csv;    /* per-(frame, config) rows appended here frame by frame (NULL: none) */
    bool resume;        /* read csv first and skip the frames it already holds complete */
    bool progress;
    const char *what;   /* progress label ("profile train") */
} SweepOpts;

/* Frames: every stride-th sample of ds from 0, at most max_frames of them (0 = all). */
void sweep_init(Sweep *s, const Dataset *ds, int stride, int max_frames, const SweepConfig *cfg, int ncfg);
void sweep_free(Sweep *s);
int sweep_find(const Sweep *s, int scale, int quality); /* config index, or -1 */

/* Checks before any work: every chosen frame's size (from its header) is divisible by every
 * scale (so bytes and accuracy describe the whole frame) and carries a label; every scale > 1
 * either has a model with a head for it or is meant bilinear. -1 with rn_errmsg() naming the
 * first bad frame or scale. */
int sweep_check(const Sweep *s, const Dataset *ds, const SweepModels *m);

/* Measures every frame not yet done; with o->csv appends each finished frame's rows (flushed),
 * and with o->resume first reads back the complete frames of an earlier run of the same sweep
 * (a row for a config or frame this sweep lacks is an error: other settings). */
int sweep_run(Sweep *s, const Dataset *ds, const EvalTask *task, const SweepModels *m, const SweepOpts *o);

/* The CSV header the sweep writes. */
#define SWEEP_CSV_HEADER "frame_index,frame,scale,quality,bytes,acc,small_ratio,ratio_ms"
