/* bench_asr.h: timing of one ASR fine-tuning step on a full 480x360 frame, for `rune bench`. */
#pragma once

/* CARN-M x4 forward (120x90 -> 480x360) and backward, ESPNet-CamVid (frozen, random weights)
 * forward and backward to its input, detail-mask cross-entropy + L1, Adam update; median of reps.
 * scripts/bench_asr.py times the same step in PyTorch. */
void bench_asr_step(int reps);
