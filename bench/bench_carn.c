/* bench_carn.c: timing of CARN-M inference (120x90 -> x4) and of a x4 training step, for `rune bench`. */
#include <stdio.h>

#include "bench/bench.h"
#include "bench/bench_model.h"

/* Median, min and max of the runs (the spread shows interference from other processes). */
static void report(const BenchModel *b, BenchTimes t) {
    printf("%-44s median %8.1f ms  (min %.1f, max %.1f, %d reps)\n", b->what, t.median, t.min, t.max, t.reps);
    bench_line("rune", b->key, t);
}

void bench_carn(int reps, bool breakdown) {
    Carn *m = carn_new(CARN_M, 0);
    BenchModel infer = {.key = "carn_infer_480x360", .what = "carn_m inference 120x90 -> x4 (480x360)",
                        .sr = m, .n = 1, .h = 90, .w = 120, .run = bench_step_carn_infer};
    bench_model_run(&infer, reps, breakdown, report);
    BenchModel train = {.key = "carn_train", .what = "carn_m train step 16x(16x16) x4, L1, fwd+bwd",
                        .sr = m, .n = 16, .h = 16, .w = 16, .run = bench_step_carn_train};
    bench_model_run(&train, reps, breakdown, report);
    carn_free(m);
}
