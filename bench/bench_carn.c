/* bench_carn.c: timing of CARN-M inference (120x90 -> x4) and of a x4 training step, for `rune bench`. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"
#include "nn/models/carn.h"
#include "nn/ops/ops.h"
#include "util/err.h"
#include "util/progress.h"
#include "util/sort.h"

static void fill(Tensor *t, unsigned long long seed) {
    for (size_t i = 0; i < tensor_numel(t); i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        t->data[i] = (real_t)((seed >> 40) / 16777216.0);
    }
}

/* Median, min and max of reps timings (the spread shows interference from other processes). */
static void report(const char *what, double *t, int reps) {
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("%-44s median %8.1f ms  (min %.1f, max %.1f, %d reps)\n", what, 1e3 * t[reps / 2], 1e3 * t[0],
           1e3 * t[reps - 1], reps);
}

static void bench_infer(Carn *m, int reps) {
    double *t = xmalloc((size_t)reps * sizeof *t);
    bool old = engine_set_grad(false);
    for (int r = -1; r < reps; r++) { /* r = -1 warms up (arena chunks, BLAS buffers) */
        engine_step_reset();
        Tensor *x = tensor_new(1, 3, 90, 120);
        fill(x, 1);
        double t0 = now_seconds();
        carn_forward(m, x, 4);
        if (r >= 0) t[r] = now_seconds() - t0;
    }
    engine_set_grad(old);
    report("carn_m inference 120x90 -> x4 (480x360)", t, reps);
    free(t);
}

static void bench_train(Carn *m, int reps) {
    double *t = xmalloc((size_t)reps * sizeof *t);
    for (int r = -1; r < reps; r++) {
        engine_step_reset();
        Tensor *x = tensor_new(16, 3, 16, 16), *y = tensor_new(16, 3, 64, 64);
        fill(x, 2), fill(y, 3);
        double t0 = now_seconds();
        params_zero_grad(&m->ps);
        Tensor *loss = op_l1_loss(carn_forward(m, x, 4), y);
        tape_backward(loss);
        if (r >= 0) t[r] = now_seconds() - t0;
    }
    engine_step_reset();
    report("carn_m train step 16x(16x16) x4, L1, fwd+bwd", t, reps);
    free(t);
}

void bench_carn(int reps) {
    if (reps < 1) reps = 1;
    Carn *m = carn_new(CARN_M, 0);
    bench_infer(m, reps);
    bench_train(m, reps);
    carn_free(m);
}
