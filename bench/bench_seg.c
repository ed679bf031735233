/* bench_seg.c: `rune bench` timings of the frozen segmenters (ESPNet, SwiftNet-RN18) at the frame sizes rune serves. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"
#include "nn/models/segmenter.h"
#include "util/progress.h"
#include "util/sort.h"

/* One timed pass: forward without a tape, or forward + backward to the input only (the frozen task
 * model inside ASR fine-tuning). Returns wall ms; *cpu gets process CPU ms (neighbours on a shared
 * machine inflate wall time, not CPU time). */
static double run_once(Segmenter *s, Tensor *x, bool backward, double *cpu) {
    ArenaMark m = arena_mark(engine_arena());
    x->requires_grad = backward;
    x->grad = NULL;
    bool old = engine_set_grad(backward);
    double c0 = 1e3 * cpu_seconds(), t0 = 1e3 * now_seconds();
    Tensor *y = segmenter_forward(s, x, false);
    if (backward) tape_backward(op_sum(y));
    double t1 = 1e3 * now_seconds();
    *cpu = 1e3 * cpu_seconds() - c0;
    tape_clear();
    engine_set_grad(old);
    arena_rewind(engine_arena(), m);
    return t1 - t0;
}

static void bench_one(const char *name, Segmenter *s, int h, int w, bool backward, int reps) {
    ArenaMark m = arena_mark(engine_arena());
    Tensor *x = tensor_new(1, 3, h, w);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] = (real_t)((i * 2654435761u % 1000) / 1000.0);
    double cpu, *t = malloc(sizeof(double) * (size_t)reps), csum = 0;
    run_once(s, x, backward, &cpu); /* warm-up: arena chunks, scratch, page faults */
    for (int r = 0; r < reps; r++) t[r] = run_once(s, x, backward, &cpu), csum += cpu;
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("%-34s %4dx%-4d %-8s median %8.1f ms  min %8.1f  max %8.1f  cpu/run %8.1f ms\n", name, w, h,
           backward ? "fwd+dx" : "fwd", t[reps / 2], t[0], t[reps - 1], csum / reps);
    fflush(stdout);
    free(t);
    arena_rewind(engine_arena(), m);
}

void bench_seg(int reps) {
    if (reps < 1) reps = 1;
    /* random weights time the same as trained ones (no data-dependent work in any op) */
    Segmenter *esp = segmenter_new("espnet", 12, 1), *sw = segmenter_new("swiftnet", 19, 1);
    params_set_trainable(esp->ps, false), params_set_trainable(sw->ps, false);
    bench_one("espnet p2 q8, 12 classes", esp, 360, 480, false, reps);
    bench_one("espnet p2 q8, 12 classes", esp, 360, 480, true, reps);
    bench_one("swiftnet rn18 single scale, 19 cls", sw, 360, 480, false, reps);
    bench_one("swiftnet rn18 single scale, 19 cls", sw, 360, 480, true, reps);
    bench_one("swiftnet rn18 single scale, 19 cls", sw, 1024, 2048, false, reps);
    segmenter_close(esp), segmenter_close(sw);
}
