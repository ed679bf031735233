/* bench_model.h: the whole-model steps `rune bench` times (CARN-M training and inference, the segmenters, an ASR step), on the host or a device. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "bench/bench_run.h"
#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "nn/optim.h"

/* What one timed step needs. The caller sets key, what, dev, sizes, run and the models (sr, seg;
 * bench_model_run moves them to dev, the caller frees them); label and weight, when the caller
 * leaves them NULL, are made by bench_model_run (weight stays NULL: plain cross-entropy). */
typedef struct BenchModel {
    const char *key, *what;
    Device dev;
    Carn *sr;
    Segmenter *seg;  /* frozen task model, or NULL */
    int n, h, w;     /* LR input [n,3,h,w] (SR x4), or the segmenter's input when sr is NULL */
    uint8_t *label;  /* host [n,4h,4w] for the ASR loss */
    real_t *weight;  /* host [n,4h,4w] cross-entropy weights (the detail mask), or NULL */
    Tensor *(*run)(struct BenchModel *b);
    /* set by bench_model_run */
    Optim opt;
    real_t *lr, *hr; /* persistent on dev: [n,3,h,w], [n,3,4h,4w] */
} BenchModel;

/* The steps (b->run). carn_train: zero grads, CARN-M x4 forward, L1, backward (bench_carn.py's
 * step). carn_infer: CARN-M x4 forward, no tape. seg_forward: the segmenter's forward, no tape.
 * seg_forward_dx: forward and backward of sum(logits) to the input only (the frozen task model
 * inside ASR fine-tuning). asr_step: CARN-M x4, the frozen segmenter, 0.95 L1 + 0.05 CE (weighted
 * by b->weight), backward to the SR model, Adam, zero grads (bench_asr.py's step). */
Tensor *bench_step_carn_train(BenchModel *b);
Tensor *bench_step_carn_infer(BenchModel *b);
Tensor *bench_step_seg_forward(BenchModel *b);
Tensor *bench_step_seg_forward_dx(BenchModel *b);
Tensor *bench_step_asr(BenchModel *b);

/* n deterministic values in [0,1) in a new persistent block on dev; freed by bench_values_free. */
real_t *bench_values(Device dev, size_t n, unsigned long long seed);
void bench_values_free(Device dev, real_t *p);

/* A frozen task model with random weights (they time as trained ones do) on dev: "espnet" (12
 * CamVid classes) or "swiftnet" (19). */
Segmenter *bench_frozen_segmenter(const char *arch, Device dev);

/* A report for bench_model_run: the row's median, min and max (the spread shows interference
 * from other processes) and its BENCH line. */
void bench_model_report(const BenchModel *b, BenchTimes t);

/* Sets up b's inputs on its device, times reps steps, has report print the result (the human line
 * and any BENCH line), then, with breakdown, prints the per-op table of a few more steps; frees
 * what it set up. Returns the times. */
BenchTimes bench_model_run(BenchModel *b, int reps, bool breakdown, void (*report)(const BenchModel *, BenchTimes));
