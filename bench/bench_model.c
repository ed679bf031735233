/* bench_model.c: the whole-model benchmark steps and their setup, shared by `rune bench` on the CPU and with --device cuda. */
#include "bench/bench_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/profile.h"
#include "util/err.h"
#include "util/rng.h"

static Tensor *sr_input(BenchModel *b) { return bench_over(b->lr, b->dev, b->n, 3, b->h, b->w); }
static Tensor *hr_target(BenchModel *b) { return bench_over(b->hr, b->dev, b->n, 3, 4 * b->h, 4 * b->w); }

Tensor *bench_step_carn_train(BenchModel *b) {
    double t = profile_begin();
    params_zero_grad(&b->sr->ps);
    profile_end(PROF_STEP, "params_zero_grad", t);
    Tensor *loss = op_l1_loss(carn_forward(b->sr, sr_input(b), 4), hr_target(b));
    tape_backward(loss);
    return loss;
}

Tensor *bench_step_carn_infer(BenchModel *b) { return bench_first_value(carn_forward(b->sr, sr_input(b), 4)); }

Tensor *bench_step_seg_forward(BenchModel *b) { return bench_first_value(segmenter_forward(b->seg, sr_input(b), false)); }

Tensor *bench_step_seg_forward_dx(BenchModel *b) {
    Tensor *x = sr_input(b);
    x->requires_grad = true;
    tape_backward(op_sum(segmenter_forward(b->seg, x, false)));
    return bench_first_value(bench_over(x->grad, x->device, 1, 1, 1, 1));
}

Tensor *bench_step_asr(BenchModel *b) {
    Tensor *y = carn_forward(b->sr, sr_input(b), 4);
    Tensor *ce = op_cross_entropy(segmenter_forward(b->seg, y, false), b->label, 255, b->weight);
    Tensor *loss = op_add(op_scale(op_l1_loss(y, hr_target(b)), (real_t)0.95), op_scale(ce, (real_t)0.05));
    tape_backward(loss);
    double t = profile_begin();
    optim_step(&b->opt, &b->sr->ps);
    profile_end(PROF_STEP, "optim_step (adam)", t);
    t = profile_begin();
    params_zero_grad(&b->sr->ps);
    profile_end(PROF_STEP, "params_zero_grad", t);
    return loss;
}

real_t *bench_values(Device dev, size_t n, unsigned long long seed) {
    real_t *h = xmalloc(n * sizeof *h);
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) h[i] = (real_t)rng_unit(splitmix64_next(&st));
    if (dev == DEV_CPU) return h;
    const OpsBackend *be = ops_backend(dev, "bench");
    real_t *d = be->block_alloc(n * sizeof *d);
    be->copy(d, dev, h, DEV_CPU, n * sizeof *d);
    free(h);
    return d;
}

void bench_values_free(Device dev, real_t *p) {
    if (dev == DEV_CPU) free(p);
    else if (p) ops_backend(dev, "bench")->block_free(p);
}

Segmenter *bench_frozen_segmenter(const char *arch, Device dev) {
    Segmenter *s = segmenter_new(arch, strcmp(arch, "espnet") ? 19 : 12, 1.0);
    if (!s) rn_die("%s", rn_errmsg());
    params_set_trainable(s->ps, false);
    if (dev != DEV_CPU) params_to_device(s->ps, dev);
    return s;
}

static bool wants_grad(const BenchModel *b) {
    return b->run == bench_step_carn_train || b->run == bench_step_asr || b->run == bench_step_seg_forward_dx;
}

static Tensor *model_step(void *ctx) {
    BenchModel *b = ctx;
    return b->run(b);
}

/* The SR side's targets and optimizer: HR frame, labels of the x4 output, Adam. */
static void setup_sr(BenchModel *b, bool *own_label) {
    size_t npix = (size_t)b->n * 16 * b->h * b->w;
    b->hr = bench_values(b->dev, 3 * npix, 2);
    if ((*own_label = !b->label)) {
        b->label = xmalloc(npix);
        for (size_t i = 0; i < npix; i++) b->label[i] = (uint8_t)(i * 2654435761u % 11);
    }
    optim_init_adam(&b->opt, &b->sr->ps, 1e-5, 0.9, 0.999, 1e-8, 0);
    if (b->dev != DEV_CPU) params_to_device(&b->sr->ps, b->dev), optim_to_device(&b->opt, b->dev);
}

void bench_model_report(const BenchModel *b, BenchTimes t) {
    printf("%-44s median %8.1f ms  (min %.1f, max %.1f, %d reps)\n", b->what, t.median, t.min, t.max, t.reps);
    bench_line("rune", b->key, t);
}

BenchTimes bench_model_run(BenchModel *b, int reps, bool breakdown, void (*report)(const BenchModel *, BenchTimes)) {
    bool own_label = false;
    b->lr = bench_values(b->dev, (size_t)b->n * 3 * b->h * b->w, 1), b->hr = NULL;
    if (b->sr) setup_sr(b, &own_label);
    BenchTimes t = bench_time(model_step, b, b->dev, reps, wants_grad(b));
    report(b, t);
    if (breakdown) bench_breakdown(model_step, b, b->dev, wants_grad(b));
    if (b->sr) optim_free(&b->opt);
    if (own_label) free(b->label), b->label = NULL;
    bench_values_free(b->dev, b->lr), bench_values_free(b->dev, b->hr);
    return t;
}
