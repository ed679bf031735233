/* bench_asr.c: one analytics-aware fine-tuning step, timed (the step finetune-asr repeats). */
#include "bench/bench.h"

#include <stdio.h>
#include <stdlib.h>

#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "nn/ops/ops.h"
#include "nn/optim.h"
#include "profile/tail.h"
#include "util/err.h"
#include "util/progress.h"
#include "util/sort.h"

/* Deterministic inputs: a smooth frame and a label map of horizontal bands with small blobs, so
 * the detail mask is neither empty nor everything. */
static void make_inputs(Tensor *lr, Tensor *hr, uint8_t *label, real_t *weight) {
    for (size_t i = 0; i < tensor_numel(lr); i++) lr->data[i] = (real_t)(0.5 + 0.4 * ((i * 2654435761u) % 1000) / 1000.0 - 0.2);
    for (size_t i = 0; i < tensor_numel(hr); i++) hr->data[i] = (real_t)(0.5 + 0.4 * ((i * 40503u) % 1000) / 1000.0 - 0.2);
    int h = TH(hr), w = TW(hr);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) label[y * w + x] = (uint8_t)((y / 60 + ((x / 20) % 7 == 0 && (y / 20) % 5 == 0)) % 11);
    uint8_t *mask = xmalloc((size_t)h * w);
    small_region_mask(label, w, h, 0.01, 255, mask);
    for (int i = 0; i < h * w; i++) weight[i] = mask[i];
    free(mask);
}

void bench_asr_step(int reps) {
    Carn *sr = carn_new(CARN_M, 4);
    Segmenter *task = segmenter_new("espnet", 12, 1); /* random weights time as trained ones do */
    params_set_trainable(task->ps, false);
    Optim opt;
    optim_init_adam(&opt, &sr->ps, 1e-5, 0.9, 0.999, 1e-8, 0);
    uint8_t *label = xmalloc(480 * 360);
    real_t *weight = xmalloc(480 * 360 * sizeof(real_t));
    double *t = xmalloc((size_t)reps * sizeof *t);
    for (int r = -1; r < reps; r++) { /* r = -1 warms up */
        engine_step_reset();
        Tensor *lr = tensor_new(1, 3, 90, 120), *hr = tensor_new(1, 3, 360, 480);
        make_inputs(lr, hr, label, weight);
        double t0 = now_seconds();
        Tensor *y = carn_forward(sr, lr, 4);
        Tensor *la = op_cross_entropy(segmenter_forward(task, y, false), label, 255, weight);
        Tensor *loss = op_add(op_scale(op_l1_loss(y, hr), (real_t)0.95), op_scale(la, (real_t)0.05));
        tape_backward(loss);
        optim_step(&opt, &sr->ps);
        params_zero_grad(&sr->ps);
        if (r >= 0) t[r] = now_seconds() - t0;
    }
    engine_step_reset();
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("%-44s median %8.1f ms  (min %.1f, max %.1f, %d reps)\n", "asr step 480x360 (carn_m x4 + espnet)",
           1e3 * t[reps / 2], 1e3 * t[0], 1e3 * t[reps - 1], reps);
    free(t), free(label), free(weight);
    optim_free(&opt);
    segmenter_close(task);
    carn_free(sr);
}
