/* bench_run.h: how every `rune bench` step is timed — medians of repetitions, the per-op breakdown, the BENCH line — on the host or a device. */
#pragma once
#include <stdbool.h>

#include "nn/device.h"
#include "nn/tensor.h"

/* One step of a benchmark; returns a tensor whose first value, read back, waits for the step's
 * device work (any tensor on the host). */
typedef Tensor *(*BenchStepFn)(void *ctx);

/* Milliseconds over reps timed runs: median, min, max, and the mean process CPU time of a run
 * (neighbours on a shared machine inflate wall time, not CPU time). */
typedef struct BenchTimes {
    double median, min, max, cpu;
    int reps;
} BenchTimes;

/* reps runs of fn(ctx) after warm-ups (one on the host: arena chunks, BLAS buffers, page faults;
 * two on a device, whose first run of a shape also measures cuDNN's algorithms), each from a
 * reset arena and tape, with gradient recording set to grad. */
BenchTimes bench_time(BenchStepFn fn, void *ctx, Device dev, int reps, bool grad);

/* A few more runs with the breakdown recording (nn/profile.h), printed as its table: on a device
 * each op is waited for; on the host the ops run as they do unprofiled. */
void bench_breakdown(BenchStepFn fn, void *ctx, Device dev, bool grad);

/* The machine-readable line scripts/bench_table.py and gpu-bench.sh read:
 * "BENCH <impl> <key> <median ms> <min ms>". */
void bench_line(const char *impl, const char *key, BenchTimes t);

/* A tensor header [n,c,h,w] in the arena over memory p on device d that the caller keeps (inputs
 * stay put between runs, as PyTorch's side keeps them). */
Tensor *bench_over(real_t *p, Device d, int n, int c, int h, int w);
/* A one-element header over y's first value, on y's device. */
Tensor *bench_first_value(const Tensor *y);
