/* bench_seg.c: `rune bench` timings of the frozen segmenters (ESPNet, SwiftNet-RN18) at the frame sizes rune serves. */
#include <stdio.h>

#include "bench/bench.h"
#include "bench/bench_model.h"

/* Wall times and the process CPU time per run: neighbours on a shared machine inflate the first. */
static void report(const BenchModel *b, BenchTimes t) {
    printf("%-34s %4dx%-4d %-8s median %8.1f ms  min %8.1f  max %8.1f  cpu/run %8.1f ms\n", b->what, b->w, b->h,
           b->run == bench_step_seg_forward_dx ? "fwd+dx" : "fwd", t.median, t.min, t.max, t.cpu);
    bench_line("rune", b->key, t);
}

void bench_seg(int reps, bool breakdown) {
    /* random weights time the same as trained ones (no data-dependent work in any op) */
    Segmenter *esp = bench_frozen_segmenter("espnet", DEV_CPU), *sw = bench_frozen_segmenter("swiftnet", DEV_CPU);
    const char *espname = "espnet p2 q8, 12 classes", *swname = "swiftnet rn18 single scale, 19 cls";
    BenchModel rows[] = {
        {.key = "espnet_fwd_480x360", .what = espname, .seg = esp, .h = 360, .w = 480, .run = bench_step_seg_forward},
        {.key = "espnet_fwd_dx_480x360", .what = espname, .seg = esp, .h = 360, .w = 480, .run = bench_step_seg_forward_dx},
        {.key = "swiftnet_fwd_480x360", .what = swname, .seg = sw, .h = 360, .w = 480, .run = bench_step_seg_forward},
        {.key = "swiftnet_fwd_dx_480x360", .what = swname, .seg = sw, .h = 360, .w = 480, .run = bench_step_seg_forward_dx},
        {.key = "swiftnet_fwd_2048x1024", .what = swname, .seg = sw, .h = 1024, .w = 2048, .run = bench_step_seg_forward},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        rows[i].n = 1;
        bench_model_run(&rows[i], reps, breakdown, report);
    }
    segmenter_close(esp), segmenter_close(sw);
}
