/* bench_carn.c: timing of CARN-M inference (120x90 -> x4) and of a x4 training step, for `rune bench`. */
#include "bench/bench.h"
#include "bench/bench_model.h"

void bench_carn(int reps, bool breakdown) {
    Carn *m = carn_new(CARN_M, 0);
    BenchModel infer = {.key = "carn_infer_480x360", .what = "carn_m inference 120x90 -> x4 (480x360)",
                        .sr = m, .n = 1, .h = 90, .w = 120, .run = bench_step_carn_infer};
    bench_model_run(&infer, reps, breakdown, bench_model_report);
    BenchModel train = {.key = "carn_train", .what = "carn_m train step 16x(16x16) x4, L1, fwd+bwd",
                        .sr = m, .n = 16, .h = 16, .w = 16, .run = bench_step_carn_train};
    bench_model_run(&train, reps, breakdown, bench_model_report);
    carn_free(m);
}
