/* sweep.h: the knob sweep of `rune profile` — every frame x every (scale, JPEG quality): bytes, rebuilt frame, per-frame accuracy, the tail-frame signals of the prediction, per-class pixel counts. */
#pragma once
#include <stdbool.h>

#include "data/dataset.h"
#include "nn/models/carn.h"
#include "profile/eval_seg.h"
#include "profile/signals.h"

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

/* The measurements: per-(frame, config) arrays indexed [f * nconfigs + c]; per-class counts
 * indexed [(f * nconfigs + c) * k + cls]. */
typedef struct Sweep {
    int nframes, nconfigs;
    SweepConfig cfg[SWEEP_MAX_CONFIGS];
    int *sample;        /* [nframes] dataset index of each frame */
    char **name;        /* [nframes] frame base names */
    double *bytes;      /* encoded bytes on the wire */
    double *acc;        /* per-frame accuracy (fraction): mIoU over the classes present, or AP@0.5 */
    double *sig[SIG_N]; /* the signals of the prediction (profile/signals.h; detection: ratio = small-box share,
                         * small_count = small boxes, the rest NaN); sig[SIG_TAIL_SHARE] stays NaN: the
                         * analysis fills it once it knows the tail classes */
    double *ratio;      /* = sig[SIG_RATIO], the same array under the name the older readers use */
    double *ratio_ms;   /* milliseconds spent computing the ratio (small_count comes with it) */
    double *ratio_lr_ms;/* milliseconds spent computing ratio_lr (HR: the ratio's; NaN for detection) */
    int k;              /* classes with per-class counts: the task's per_class (0: none) */
    long long *px;      /* pixels predicted as cls */
    long long *tp;      /* pixels predicted cls and labelled cls */
    long long *lab;     /* pixels labelled cls */
    bool *done;         /* [nframes] measured (or read back by resume) */
    /* where the time of the frames measured in this run went (seconds) */
    double t_load, t_degrade, t_sr, t_task, t_ratio, t_wall;
    int measured;       /* frames measured in this run (not resumed) */
} Sweep;

/* What the task reports about one rebuilt frame. */
typedef struct SweepScore {
    double acc;         /* per-frame mIoU / AP, NaN when the frame has no ground truth */
    FrameSignals sig;   /* signals of the prediction (tail_share NaN); sig.k = the task's per_class */
    long long tp[SIG_MAX_CLASSES], lab[SIG_MAX_CLASSES]; /* per class, sig.k of them */
    double t_task;      /* seconds spent predicting */
} SweepScore;

/* The frozen task model as the sweep sees it: what a frame is, and how a rebuilt frame scores. */
typedef struct SweepTask {
    const char *kind;   /* "segmentation", "detection" */
    int classes;        /* classes the model predicts (must be the dataset's) */
    int per_class;      /* classes counted per frame (px/tp/lab): `classes` for segmentation, 0 for detection */
    void *ctx;
    /* The HR size sample i will have (for the divisibility check); -1 with rn_errmsg() when the
     * sample cannot be scored (no label map). */
    int (*check)(void *ctx, const Dataset *ds, int i, int *w, int *h);
    /* Sample i's HR frame (8-bit RGB, what the edge degrades) and its ground truth (*gt, freed by gt_free). */
    int (*load)(void *ctx, const Dataset *ds, int i, Image *hr, void **gt);
    /* The rebuilt frame (HR size) of a frame received at `scale` (1 = HR) scored into *out. */
    void (*score)(void *ctx, const Frame *in, const void *gt, int scale, double small, SweepScore *out);
    void (*gt_free)(void *gt);
    void (*close)(void *ctx);
} SweepTask;

/* The segmentation task (profile/sweep_seg.c): a frozen segmenter (eval_task_open; the argmax over
 * the real classes), per-frame mIoU over the dataset classes, small-region ratio over the whole
 * frame's prediction. */
int sweep_task_seg(SweepTask *t, const char *path, const char *arch, const char *norm);
/* The detection task (profile/sweep_det.c): a frozen darknet detector on frames resized whole to
 * its square input (as eval-det-asr), per-frame AP@0.5 (mean over the frame's classes with
 * ground truth), and the share of detections (score >= SWEEP_DET_CONF) smaller than `small` of
 * the frame. */
#define SWEEP_DET_CONF 0.25
int sweep_task_det(SweepTask *t, const char *model, const char *weights);
void sweep_task_close(SweepTask *t);

typedef struct SweepOpts {
    double small;       /* Eq. 3 size threshold: a region below small * frame area is small */
    int tile;           /* CARN LR tile (0 = whole frame) */
    const char *csv;    /* per-(frame, config) rows appended here frame by frame (NULL: none) */
    bool resume;        /* read csv first and skip the frames it already holds complete */
    bool progress;
    const char *what;   /* progress label ("profile train") */
} SweepOpts;

/* Frames: every stride-th sample of ds from 0, at most max_frames of them (0 = all); k classes
 * counted per frame (the task's per_class). */
void sweep_init(Sweep *s, const Dataset *ds, int stride, int max_frames, const SweepConfig *cfg, int ncfg, int k);
void sweep_free(Sweep *s);
int sweep_find(const Sweep *s, int scale, int quality); /* config index, or -1 */
int sweep_scales(const Sweep *s, int *sc);              /* the distinct scales in configuration order; count */

/* Checks before any work: every chosen frame's HR size is divisible by every scale (so bytes
 * and accuracy describe the whole frame) and the task can score it; every scale > 1
 * either has a model with a head for it or is meant bilinear. -1 with rn_errmsg() naming the
 * first bad frame or scale. */
int sweep_check(const Sweep *s, const Dataset *ds, const SweepTask *task, const SweepModels *m);

/* Measures every frame not yet done; with o->csv appends each finished frame's rows (flushed),
 * and with o->resume first reads back the complete frames of an earlier run of the same sweep
 * (a row for a config or frame this sweep lacks is an error: other settings). */
int sweep_run(Sweep *s, const Dataset *ds, const SweepTask *task, const SweepModels *m, const SweepOpts *o);

/* The CSV the sweep writes: these columns, then px0..px{k-1}, tp0..tp{k-1}, lab0..lab{k-1}. A NaN is
 * written "nan"; bytes and counts as integers, the ms columns to 6 digits, every other number with
 * the fewest digits that read back to the same double (resume reproduces the measured values). */
#define SWEEP_CSV_COLUMNS                                                                               \
    "frame_index,frame,scale,quality,bytes,acc,small_ratio,ratio_ms,small_ratio_lr,ratio_lr_ms,small_count," \
    "maxprob,entropy"
/* The header line for k classes (malloc'ed, no newline). */
char *sweep_csv_header(int k);
