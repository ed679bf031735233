/* bench_cuda.h: `rune bench --device cuda` — the GPU timings scripts/gpu-bench.sh sets beside PyTorch's. */
#pragma once
#include <stdbool.h>

/* The GPU benchmarks, by key: carn_train (CARN-M x4 training step, batch 16 of 16x16 LR),
 * carn_infer (CARN-M x4 512x256 -> 2048x1024), swiftnet_fwd (SwiftNet-RN18 forward 2048x1024),
 * asr_espnet / asr_swiftnet (an ASR step at 2048x1024 through that frozen task model). NULL-ended. */
extern const char *const bench_cuda_keys[];

/* Times one of them on the CUDA device (check device_ready first): median of reps after two
 * warm-ups (the first run of a shape also measures cuDNN's algorithms); prints a human line and
 * "BENCH rune KEY MS". breakdown: then a few more steps with every op waited for and timed
 * (nn/profile.h), printed as a table by op, forward and backward, and host calls. */
void bench_cuda_run(const char *key, int reps, bool breakdown);
