/* bench_cuda.h: `rune bench --device cuda` — the GPU timings scripts/gpu-bench.sh sets beside PyTorch's. */
#pragma once

/* CARN-M x4 training step (batch 16 of 16x16 LR), CARN-M x4 inference 512x256 -> 2048x1024,
 * SwiftNet-RN18 forward at 2048x1024 and an ASR step at 2048x1024 through a frozen ESPNet and a
 * frozen SwiftNet, on the CUDA device; median of reps after warm-ups (the first run of a shape
 * also measures cuDNN's algorithms). Prints a human line and a "BENCH rune KEY MS" line each;
 * says so and returns when this build has no CUDA backend. */
void bench_cuda(int reps);
