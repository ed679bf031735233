/* bench_cuda.c: GPU timings of the models at the paper's sizes (rune bench --device cuda), for gpu-bench.sh. */
#include "bench/bench_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_model.h"
#include "nn/ops/ops.h"
#include "util/err.h"

const char *const bench_cuda_keys[] = {"conv_carn", "carn_train", "carn_infer", "swiftnet_fwd", "asr_espnet",
                                       "asr_swiftnet", NULL};

/* The human line, and the BENCH line gpu-bench.sh tabulates when the row has a key. */
static void report(const BenchModel *b, BenchTimes t) {
    printf("%-54s median %8.2f ms  (min %.2f, max %.2f, %d reps)\n", b->what, t.median, t.min, t.max, t.reps);
    if (b->key) bench_line("rune", b->key, t);
}

/* ---- conv_carn: the CARN-M training step's conv shapes alone (scripts/bench_conv.py's carn rows) ---- */

typedef struct {
    const char *name;
    int n, cin, h, w, cout, k, groups;
} ConvShape;

/* A conv's device operands; headers outside the arena, which every run resets. */
typedef struct {
    ConvShape s;
    Tensor x, wt, b;
} ConvBench;

/* One conv forward and its backward (dx, dw, db) from dL/dy = 1, as bench_conv.py's. */
static Tensor *conv_step(void *ctx) {
    ConvBench *c = ctx;
    c->x.grad = c->wt.grad = c->b.grad = NULL;
    Tensor *y = op_conv2d(&c->x, &c->wt, &c->b, conv_args(1, c->s.k / 2, 1, c->s.groups));
    tape_backward_seed(y, NULL);
    tape_clear();
    return bench_over(c->x.grad, DEV_CUDA, 1, 1, 1, 1);
}

/* A persistent device tensor header [n,c,h,w] over fresh values, wanting a gradient. */
static Tensor device_param(int n, int c, int h, int w, unsigned long long seed) {
    return (Tensor){.shape = {n, c, h, w}, .data = bench_values(DEV_CUDA, (size_t)n * c * h * w, seed),
                    .requires_grad = true, .device = DEV_CUDA};
}

static void run_conv_carn(int reps) {
    static const ConvShape shapes[] = {
        {"carn 3x3 g4 64->64 16x16", 16, 64, 16, 16, 64, 3, 4}, {"carn 3x3 g4 64->64 64x64", 16, 64, 64, 64, 64, 3, 4},
        {"carn 1x1 64->64 16x16", 16, 64, 16, 16, 64, 1, 1},    {"carn 1x1 128->64 64x64", 16, 128, 64, 64, 64, 1, 1},
        {"carn 1x1 256->64 64x64", 16, 256, 64, 64, 64, 1, 1},  {"carn 3x3 g4 64->256 64x64", 16, 64, 64, 64, 256, 3, 4},
    };
    double total = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const ConvShape *s = &shapes[i];
        ConvBench c = {.s = *s, .x = device_param(s->n, s->cin, s->h, s->w, 3),
                       .wt = device_param(s->cout, s->cin / s->groups, s->k, s->k, 4),
                       .b = device_param(s->cout, 1, 1, 1, 5)};
        BenchTimes t = bench_time(conv_step, &c, DEV_CUDA, reps, true);
        char what[96];
        snprintf(what, sizeof what, "cuda conv %s b16 fwd+bwd", s->name);
        report(&(BenchModel){.what = what}, t);
        total += t.median;
        bench_values_free(DEV_CUDA, c.x.data), bench_values_free(DEV_CUDA, c.wt.data);
        bench_values_free(DEV_CUDA, c.b.data);
    }
    printf("%-54s median %8.2f ms\n", "cuda carn_m conv shapes, sum of medians", total);
    bench_line("rune", "conv_carn", (BenchTimes){total, total, total, 0, reps});
}

void bench_cuda_run(const char *key, int reps, bool with_breakdown) {
    if (!strcmp(key, "conv_carn")) {
        run_conv_carn(reps);
        return;
    }
    /* the ASR frame: 512x256 LR -> 2048x1024 */
    BenchModel b = {.key = key, .dev = DEV_CUDA, .n = 1, .h = 256, .w = 512};
    if (!strcmp(key, "carn_train"))
        b.what = "cuda carn_m train step 16x(16x16) x4 (fwd+bwd)", b.n = 16, b.h = b.w = 16, b.run = bench_step_carn_train;
    else if (!strcmp(key, "carn_infer"))
        b.what = "cuda carn_m inference 512x256 -> 2048x1024", b.run = bench_step_carn_infer;
    else if (!strcmp(key, "swiftnet_fwd"))
        b.what = "cuda swiftnet-rn18 forward 2048x1024", b.h = 1024, b.w = 2048, b.run = bench_step_seg_forward;
    else if (!strcmp(key, "asr_espnet"))
        b.what = "cuda asr step 2048x1024 (carn_m x4 + frozen espnet)", b.run = bench_step_asr;
    else if (!strcmp(key, "asr_swiftnet"))
        b.what = "cuda asr step 2048x1024 (carn_m x4 + frozen swiftnet)", b.run = bench_step_asr;
    else
        rn_die("bench_cuda_run: unknown key %s", key);
    if (b.run != bench_step_seg_forward) b.sr = carn_new(CARN_M, 4);
    if (b.run == bench_step_seg_forward || b.run == bench_step_asr)
        b.seg = bench_frozen_segmenter(strcmp(key, "asr_espnet") ? "swiftnet" : "espnet", DEV_CUDA);
    bench_model_run(&b, reps, with_breakdown, report);
    if (b.sr) carn_free(b.sr);
    segmenter_close(b.seg);
}
