/* bench.h: the benchmarks `rune bench` runs (times and GFLOP/s at the shapes rune trains and serves with); records in bench/RESULTS.md. */
#pragma once
#include <stdbool.h>

/* Times op_conv2d forward + backward at CARN-M training shapes (batch 16, 64 channels, group-4
 * 3x3 and 1x1 convs; dx, dw and db) and ResNet-18 shapes at 480x360 (batch 1, frozen weights:
 * dx only, as when ASR trains through the task model). One line per shape: the shape, the median
 * of `reps` runs in ms (forward, backward, both), and GFLOP/s of the total. The same shapes are in
 * scripts/bench_conv.py for PyTorch. */
void bench_conv_shapes(int reps);

/* The model rows below print a human line and "BENCH rune KEY MEDIAN_MS MIN_MS" (bench/bench_run.h);
 * with breakdown, each row is followed by its per-op table (nn/profile.h). */

/* CARN-M x4 inference (120x90 -> 480x360) and a training step (batch 16 of 16x16 LR, L1):
 * median of reps. scripts/bench_carn.py times PyTorch on the same shapes. */
void bench_carn(int reps, bool breakdown);

/* Forward times of ESPNet at 480x360 and SwiftNet-RN18 at 480x360 and 2048x1024 (median of reps,
 * frozen weights, no tape; and forward + input gradient); scripts/bench_seg.py times PyTorch. */
void bench_seg(int reps, bool breakdown);

/* One ASR fine-tuning step on a full 480x360 frame: CARN-M x4 forward (120x90 -> 480x360) and
 * backward, ESPNet-CamVid (frozen, random weights) forward and backward to its input, detail-mask
 * cross-entropy + L1, Adam update; median of reps. scripts/bench_asr.py times the same step in PyTorch. */
void bench_asr_step(int reps, bool breakdown);

/* Times PNG decode (from memory), JPEG encode and decode (TurboJPEG, 4:2:0 at quality 95 as
 * tjbench is run, and at 70), MATLAB bicubic /4 and the whole degrade() step, on the frame at
 * `path` (NULL: the first embedded sample frame) and on a 2048x1024 upscale of it. Prints one
 * line per measurement (best and median of repeated runs, ms and Mpixel/s) to stdout. */
void bench_image(const char *path);
