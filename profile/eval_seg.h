/* eval_seg.h: the engine behind `rune eval` — HR frame -> degrade -> each method's upscale -> frozen segmenter, per (scale, method). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "profile/seg_metrics.h"
#include "profile/signals.h"

/* The class of every pixel of a planar RGB frame [3][h][w] in [0,1] under s, without gradients:
 * the argmax over the real classes, or over every output (a void channel included) when
 * all_outputs. Resets the engine arena. */
void seg_predict_planar(Segmenter *s, const float *rgb, int w, int h, bool all_outputs, uint8_t *pred);
/* The same argmax plus the softmax's statistics over the same channels (st: means over the pixels
 * of the largest probability and of the entropy in nats). */
void seg_predict_planar_soft(Segmenter *s, const float *rgb, int w, int h, bool all_outputs, uint8_t *pred, SoftStats *st);
/* The kernel behind it on planar logits [k][hw]: pred[] exactly as argmax_channels (ties: lowest
 * index); the softmax in float, max subtracted; the means summed in double row by row (rows of
 * `w` pixels) in a fixed order, so the numbers do not depend on the thread count. */
void softmax_stats(const float *logits, int k, int w, int h, uint8_t *pred, SoftStats *st);

/* The frozen task model as the engine sees it: an RGB frame (planar, [0,1], any size) -> one
 * class id per pixel. k = the model's outputs, which may exceed the dataset's classes
 * (ESPNet-CamVid has 12: class 11 = void, which CamVid labels as 255 = ignore). */
typedef struct EvalTask {
    int k;
    void *ctx;
    void (*predict)(void *ctx, const Frame *rgb, uint8_t *pred); /* pred[h*w] */
    /* predict() plus the softmax statistics of the same channels; NULL: a task without them */
    void (*predict_soft)(void *ctx, const Frame *rgb, uint8_t *pred, SoftStats *st);
    void (*close)(void *ctx);
    void (*to_device)(void *ctx, Device d); /* moves the model; NULL: a task that runs on the host only */
} EvalTask;

/* Opens a segmenter checkpoint through nn/models/segmenter.h (arch NULL = from the file, norm NULL
 * = the model's default). predict_void: the argmax runs over ALL outputs, so a model with a void
 * channel (ESPNet-CamVid: 12 outputs, 11 = void, which CamVid labels as 255 = ignore) can predict
 * it and such a pixel counts as a wrong prediction (k = outputs: the extra confusion column);
 * otherwise the argmax skips the void channel as segmenter_predict() and `rune eval-seg` do
 * (k = classes). -1 with rn_errmsg() naming the file. */
int eval_task_open(EvalTask *t, const char *path, const char *arch, const char *norm, bool predict_void);
void eval_task_close(EvalTask *t);

typedef enum { EVAL_HR, EVAL_BILINEAR, EVAL_CARN } EvalKind;

/* One candidate: how the cloud turns the received LR frame back into a frame for the task model. */
typedef struct EvalMethod {
    char name[32];   /* "bilinear", "sr", "cloudseg", "asr", "hr", or a user's name */
    int scale;       /* 1 for hr (the original frame, nothing degraded) */
    EvalKind kind;
    Carn *carn;      /* EVAL_CARN: the SR model (not owned); needs a head for `scale` */
    char file[256];  /* where the SR weights came from (for the report) */
} EvalMethod;

/* The frame the task model sees for method m (EVAL_BILINEAR or EVAL_CARN) from the received LR
 * image: scale * lr size, RGB in [0,1] (SR overshoots clamped). tile: CARN LR tile side (0 = whole
 * frame). */
Frame eval_upscale(const EvalMethod *m, const Image *lr, int tile);

typedef struct EvalOpts {
    int quality;     /* JPEG quality of the LR frame, 0 = lossless PNG */
    int max_frames;  /* 0 = all samples */
    int tile;        /* CARN LR tile side (0 = whole frame); results do not depend on it */
    bool progress;
    Device device;   /* where the task model and every method's SR model run (moved there by eval_seg_run) */
} EvalOpts;

/* Everything measured; per-frame arrays are indexed [method * nframes + frame]. */
typedef struct EvalResult {
    int nclasses;           /* dataset classes: means are taken over these ids */
    int k;                  /* confusion side: max(task outputs, nclasses); extra columns = wrong predictions */
    char **class_names;     /* [nclasses] */
    int nmethods;
    EvalMethod *methods;    /* [nmethods] copies */
    int nframes;
    char **frame_names;     /* [nframes] base names */
    char **seq;             /* [nframes] sequence names (time order = frame order) */
    int quality;
    Confusion *total;       /* [nmethods] over all frames */
    long long *frame_conf;  /* [nmethods * nframes * k * k] */
    double *psnr, *ssim;    /* [nmethods * nframes] Y channel, border = scale; NaN for hr */
    double *bytes;          /* [nmethods * nframes] bytes of the frame as sent (JPEG, or PNG when lossless) */
    long long *region_count, *region_area; /* [nclasses] connected label regions over all HR labels */
    double frame_pixels;    /* mean HR frame area (pixels), to express region sizes as % of the frame */
    double seconds;         /* wall time of the run */
} EvalResult;

/* Runs every method over the first max_frames samples of ds (which must have labels). Methods
 * at the same scale share one degraded frame. -1 with rn_errmsg() on a bad file. */
int eval_seg_run(const Dataset *ds, const EvalTask *task, const EvalMethod *methods, int nmethods,
                 const EvalOpts *o, EvalResult *out);
void eval_result_free(EvalResult *r);

/* ---- derived numbers (all IoUs as fractions in [0,1]) ---- */
/* Mean IoU over the dataset classes 0..nclasses-1 (NaN-skipping). */
double eval_miou(const EvalResult *r, const Confusion *c);
/* A view of method m's confusion on frame f (no copy; do not free). */
Confusion eval_frame_confusion(const EvalResult *r, int m, int f);
/* Tail classes (profile/tail.h) by IoU under method ref over the dataset classes (never an extra
 * model output): tail[] (room for nclasses) ranked worst first; returns how many are the tail. */
int eval_tail_classes(const EvalResult *r, int ref, int *tail);
/* Index of the method named `name` at `scale` (hr: any scale), or -1. */
int eval_find(const EvalResult *r, const char *name, int scale);
/* Episodes: `len` consecutive frames of one sequence in time order (a sequence's last partial
 * episode is dropped). Writes each episode's mIoU (of its summed confusion) into miou[] (room for
 * nframes / len + nseq) and returns the count. */
int eval_episodes(const EvalResult *r, int m, int len, double *miou);
