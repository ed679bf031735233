/* bench_asr.c: one analytics-aware fine-tuning step, timed (the step finetune-asr repeats). */
#include <stdlib.h>

#include "bench/bench.h"
#include "bench/bench_model.h"
#include "profile/tail.h"
#include "util/err.h"

/* A label map of horizontal bands with small blobs, and its detail mask as cross-entropy weights,
 * so the mask is neither empty nor everything (as in finetune-asr). */
static void make_labels(uint8_t *label, real_t *weight, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) label[y * w + x] = (uint8_t)((y / 60 + ((x / 20) % 7 == 0 && (y / 20) % 5 == 0)) % 11);
    uint8_t *mask = xmalloc((size_t)h * w);
    small_region_mask(label, w, h, 0.01, 255, mask);
    for (int i = 0; i < h * w; i++) weight[i] = mask[i];
    free(mask);
}

void bench_asr_step(int reps, bool breakdown) {
    BenchModel b = {.key = "asr_espnet_480x360", .what = "asr step 480x360 (carn_m x4 + espnet)",
                    .sr = carn_new(CARN_M, 4), .seg = bench_frozen_segmenter("espnet", DEV_CPU),
                    .n = 1, .h = 90, .w = 120, .run = bench_step_asr};
    b.label = xmalloc(480 * 360), b.weight = xmalloc(480 * 360 * sizeof(real_t));
    make_labels(b.label, b.weight, 480, 360);
    bench_model_run(&b, reps, breakdown, bench_model_report);
    free(b.label), free(b.weight);
    segmenter_close(b.seg);
    carn_free(b.sr);
}
