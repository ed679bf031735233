/* bench_run.c: medians and per-op breakdowns of a benchmark step (rune bench), the same on the host and on a device. */
#include "bench/bench_run.h"

#include <stdio.h>
#include <stdlib.h>

#include "nn/backend.h"
#include "nn/profile.h"
#include "util/err.h"
#include "util/progress.h"
#include "util/sort.h"

Tensor *bench_over(real_t *p, Device d, int n, int c, int h, int w) {
    Tensor *t = arena_zalloc(engine_arena(), sizeof *t);
    t->shape[0] = n, t->shape[1] = c, t->shape[2] = h, t->shape[3] = w;
    t->data = p, t->device = d;
    return t;
}

Tensor *bench_first_value(const Tensor *y) { return bench_over(y->data, y->device, 1, 1, 1, 1); }

/* One run from a clean arena and tape; returns wall seconds and adds process CPU seconds to *cpu.
 * Reading the first value back makes a device's queued work part of the time. */
static double run_once(BenchStepFn fn, void *ctx, double *cpu) {
    engine_step_reset();
    double c0 = cpu_seconds(), t0 = now_seconds();
    tensor_item(fn(ctx));
    double t = now_seconds() - t0;
    *cpu += cpu_seconds() - c0;
    return t;
}

BenchTimes bench_time(BenchStepFn fn, void *ctx, Device dev, int reps, bool grad) {
    if (reps < 1) reps = 1;
    double *t = xmalloc((size_t)reps * sizeof *t), cpu = 0;
    bool old = engine_set_grad(grad);
    for (int r = dev == DEV_CPU ? 1 : 2; r > 0; r--) run_once(fn, ctx, &cpu);
    cpu = 0;
    for (int r = 0; r < reps; r++) t[r] = run_once(fn, ctx, &cpu);
    engine_step_reset();
    engine_set_grad(old);
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    BenchTimes bt = {1e3 * t[reps / 2], 1e3 * t[0], 1e3 * t[reps - 1], 1e3 * cpu / reps, reps};
    free(t);
    return bt;
}

/* Each step's wall time covers resetting the arena (a row of its own; outside the timed medians),
 * fn and the read-back, so the table's rows add up to it. */
void bench_breakdown(BenchStepFn fn, void *ctx, Device dev, bool grad) {
    enum { STEPS = 3 };
    void (*sync)(void) = dev == DEV_CPU ? NULL : ops_backend(dev, "bench")->synchronize;
    bool old = engine_set_grad(grad);
    double total = 0;
    profile_start(sync);
    for (int r = 0; r < STEPS; r++) {
        if (sync) sync();
        double t0 = now_seconds(), t = profile_begin();
        engine_step_reset();
        profile_end(PROF_STEP, "engine_step_reset (arena, tape)", t);
        Tensor *y = fn(ctx);
        t = profile_begin();
        tensor_item(y);
        profile_end(PROF_STEP, "read the result back", t);
        total += now_seconds() - t0;
    }
    profile_stop();
    engine_step_reset();
    engine_set_grad(old);
    profile_report(stdout, STEPS, total);
}

void bench_line(const char *impl, const char *key, BenchTimes t) {
    printf("BENCH %s %s %.3f %.3f\n", impl, key, t.median, t.min);
    fflush(stdout);
}
