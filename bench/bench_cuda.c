/* bench_cuda.c: GPU timings of the models at the paper's sizes (rune bench --device cuda), for gpu-bench.sh. */
#include "bench/bench_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "nn/ops/ops.h"
#include "nn/optim.h"
#include "nn/profile.h"
#include "util/err.h"
#include "util/progress.h"
#include "util/sort.h"

const char *const bench_cuda_keys[] = {"conv_carn", "carn_train", "carn_infer", "swiftnet_fwd", "asr_espnet",
                                       "asr_swiftnet", NULL};

/* What one timed run needs; run() does one step and returns a tensor whose item waits for it.
 * Inputs stay on the device between runs (PyTorch's side keeps them there too). */
typedef struct Bench {
    const char *key, *what;
    Carn *sr;
    Segmenter *seg;  /* frozen task model, or NULL */
    Optim opt;
    int n, h, w;     /* LR input [n,3,h,w] (SR x4), or the segmenter's input when sr is NULL */
    real_t *lr, *hr; /* device copies: [n,3,h,w], [n,3,4h,4w] */
    uint8_t *label;  /* host [n,4h,4w] for the ASR loss */
    Tensor *(*run)(struct Bench *b);
} Bench;

/* An arena header over persistent device memory (no copy). */
static Tensor *on_device(real_t *p, int n, int c, int h, int w) {
    Tensor *t = arena_zalloc(engine_arena(), sizeof *t);
    t->shape[0] = n, t->shape[1] = c, t->shape[2] = h, t->shape[3] = w;
    t->data = p, t->device = DEV_CUDA;
    return t;
}

/* A one-element tensor over y's first value: reading it back waits for the pass that made y. */
static Tensor *first_value(const Tensor *y) { return on_device(y->data, 1, 1, 1, 1); }

static Tensor *sr_input(Bench *b) { return on_device(b->lr, b->n, 3, b->h, b->w); }
static Tensor *hr_target(Bench *b) { return on_device(b->hr, b->n, 3, 4 * b->h, 4 * b->w); }

/* CARN-M forward + L1 backward, as bench_carn's CPU step and scripts/bench_carn.py's. */
static Tensor *carn_train(Bench *b) {
    double t = profile_begin();
    params_zero_grad(&b->sr->ps);
    profile_end(PROF_STEP, "params_zero_grad", t);
    Tensor *loss = op_l1_loss(carn_forward(b->sr, sr_input(b), 4), hr_target(b));
    tape_backward(loss);
    return loss;
}

static Tensor *carn_infer(Bench *b) { return first_value(carn_forward(b->sr, sr_input(b), 4)); }

static Tensor *seg_forward(Bench *b) { return first_value(segmenter_forward(b->seg, sr_input(b), false)); }

/* One ASR fine-tuning step, as scripts/bench_asr.py: 0.95 L1 + 0.05 CE through the frozen
 * segmenter, backward to the SR model, Adam. */
static Tensor *asr_step(Bench *b) {
    Tensor *y = carn_forward(b->sr, sr_input(b), 4);
    Tensor *ce = op_cross_entropy(segmenter_forward(b->seg, y, false), b->label, 255, NULL);
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

/* Median of reps timings of fn(ctx) after two warm-ups (cuDNN measures its algorithms per shape on
 * the first); each run ends when tensor_item has read its result back, so the GPU's work is inside. */
static double median_ms(Tensor *(*fn)(void *), void *ctx, int reps, bool grad, double *lo, double *hi) {
    double *t = xmalloc((size_t)reps * sizeof *t);
    bool old = engine_set_grad(grad);
    for (int r = -2; r < reps; r++) {
        engine_step_reset();
        double t0 = now_seconds();
        tensor_item(fn(ctx));
        if (r >= 0) t[r] = now_seconds() - t0;
    }
    engine_step_reset();
    engine_set_grad(old);
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double m = 1e3 * t[reps / 2];
    *lo = 1e3 * t[0], *hi = 1e3 * t[reps - 1];
    free(t);
    return m;
}

/* The per-op table of a few more runs of fn(ctx), each op waited for (nn/profile.h). The step's
 * own host work outside the ops (zeroing grads, the optimizer, reading the loss back) is timed
 * by the bench functions as "step" rows. */
static void breakdown(Tensor *(*fn)(void *), void *ctx, bool grad) {
    enum { STEPS = 3 };
    const OpsBackend *be = ops_backend(DEV_CUDA, "bench");
    bool old = engine_set_grad(grad);
    double total = 0;
    profile_start(be->synchronize);
    for (int r = 0; r < STEPS; r++) {
        engine_step_reset();
        be->synchronize();
        double t0 = now_seconds();
        Tensor *y = fn(ctx);
        double t = profile_begin();
        tensor_item(y);
        profile_end(PROF_STEP, "read the result back", t);
        total += now_seconds() - t0;
    }
    profile_stop();
    engine_step_reset();
    engine_set_grad(old);
    profile_report(stdout, STEPS, total);
}

static void report(const char *what, const char *key, double ms, double lo, double hi, int reps) {
    printf("%-54s median %8.2f ms  (min %.2f, max %.2f, %d reps)\n", what, ms, lo, hi, reps);
    printf("BENCH rune %s %.3f\n", key, ms);
    fflush(stdout);
}

static Tensor *bench_step(void *ctx) {
    Bench *b = ctx;
    return b->run(b);
}

/* n deterministic values in [0,1) copied into a new persistent device block. */
static real_t *device_values(size_t n, unsigned long long seed) {
    real_t *h = xmalloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        h[i] = (real_t)((seed >> 40) / 16777216.0);
    }
    const OpsBackend *be = ops_backend(DEV_CUDA, "bench");
    real_t *d = be->block_alloc(n * sizeof *d);
    be->copy(d, DEV_CUDA, h, DEV_CPU, n * sizeof *d);
    free(h);
    return d;
}

/* A frozen task model on the device with random weights (PyTorch's side has random ones too). */
static Segmenter *frozen_segmenter(const char *arch) {
    Segmenter *s = segmenter_new(arch, strcmp(arch, "espnet") ? 19 : 12, 1.0);
    if (!s) rn_die("%s", rn_errmsg());
    params_set_trainable(s->ps, false);
    params_to_device(s->ps, DEV_CUDA);
    return s;
}

static void run_model(Bench *b, int reps, bool with_breakdown) {
    const OpsBackend *be = ops_backend(DEV_CUDA, "bench");
    size_t npix = (size_t)b->n * 16 * b->h * b->w;
    b->lr = device_values((size_t)b->n * 3 * b->h * b->w, 1);
    if (b->sr) { /* the SR targets: HR frame and labels of the x4 output */
        b->hr = device_values(3 * npix, 2), b->label = xmalloc(npix);
        for (size_t i = 0; i < npix; i++) b->label[i] = (uint8_t)(i * 2654435761u % 11);
        optim_init_adam(&b->opt, &b->sr->ps, 1e-5, 0.9, 0.999, 1e-8, 0);
        params_to_device(&b->sr->ps, DEV_CUDA);
        optim_to_device(&b->opt, DEV_CUDA);
    }
    double lo, hi, ms = median_ms(bench_step, b, reps, b->run == carn_train || b->run == asr_step, &lo, &hi);
    report(b->what, b->key, ms, lo, hi, reps);
    if (with_breakdown) breakdown(bench_step, b, b->run == carn_train || b->run == asr_step);
    if (b->sr) optim_free(&b->opt), carn_free(b->sr);
    segmenter_close(b->seg);
    be->block_free(b->lr), be->block_free(b->hr), free(b->label);
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
    return first_value(&(Tensor){.shape = {1, 1, 1, 1}, .data = c->x.grad});
}

/* A persistent device tensor header [n,c,h,w] over fresh values, wanting a gradient. */
static Tensor device_param(int n, int c, int h, int w, unsigned long long seed) {
    return (Tensor){.shape = {n, c, h, w}, .data = device_values((size_t)n * c * h * w, seed),
                    .requires_grad = true, .device = DEV_CUDA};
}

static void run_conv_carn(int reps) {
    static const ConvShape shapes[] = {
        {"carn 3x3 g4 64->64 16x16", 16, 64, 16, 16, 64, 3, 4}, {"carn 3x3 g4 64->64 64x64", 16, 64, 64, 64, 64, 3, 4},
        {"carn 1x1 64->64 16x16", 16, 64, 16, 16, 64, 1, 1},    {"carn 1x1 128->64 64x64", 16, 128, 64, 64, 64, 1, 1},
        {"carn 1x1 256->64 64x64", 16, 256, 64, 64, 64, 1, 1},  {"carn 3x3 g4 64->256 64x64", 16, 64, 64, 64, 256, 3, 4},
    };
    const OpsBackend *be = ops_backend(DEV_CUDA, "bench");
    double total = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const ConvShape *s = &shapes[i];
        ConvBench c = {.s = *s, .x = device_param(s->n, s->cin, s->h, s->w, 3),
                       .wt = device_param(s->cout, s->cin / s->groups, s->k, s->k, 4),
                       .b = device_param(s->cout, 1, 1, 1, 5)};
        double lo, hi, ms = median_ms(conv_step, &c, reps, true, &lo, &hi);
        char what[96];
        snprintf(what, sizeof what, "cuda conv %s b16 fwd+bwd", s->name);
        printf("%-54s median %8.2f ms  (min %.2f, max %.2f, %d reps)\n", what, ms, lo, hi, reps);
        total += ms;
        be->block_free(c.x.data), be->block_free(c.wt.data), be->block_free(c.b.data);
    }
    report("cuda carn_m conv shapes, sum of medians", "conv_carn", total, total, total, reps);
}

void bench_cuda_run(const char *key, int reps, bool with_breakdown) {
    if (!strcmp(key, "conv_carn")) {
        run_conv_carn(reps);
        return;
    }
    Bench b = {.key = key, .n = 1, .h = 256, .w = 512}; /* the ASR frame: 512x256 LR -> 2048x1024 */
    if (!strcmp(key, "carn_train"))
        b.what = "cuda carn_m train step 16x(16x16) x4 (fwd+bwd)", b.n = 16, b.h = b.w = 16, b.run = carn_train;
    else if (!strcmp(key, "carn_infer"))
        b.what = "cuda carn_m inference 512x256 -> 2048x1024", b.run = carn_infer;
    else if (!strcmp(key, "swiftnet_fwd"))
        b.what = "cuda swiftnet-rn18 forward 2048x1024", b.h = 1024, b.w = 2048, b.run = seg_forward;
    else if (!strcmp(key, "asr_espnet"))
        b.what = "cuda asr step 2048x1024 (carn_m x4 + frozen espnet)", b.run = asr_step;
    else if (!strcmp(key, "asr_swiftnet"))
        b.what = "cuda asr step 2048x1024 (carn_m x4 + frozen swiftnet)", b.run = asr_step;
    else
        rn_die("bench_cuda_run: unknown key %s", key);
    if (b.run != seg_forward) b.sr = carn_new(CARN_M, 4);
    if (b.run == seg_forward || b.run == asr_step) b.seg = frozen_segmenter(strcmp(key, "asr_espnet") ? "swiftnet" : "espnet");
    run_model(&b, reps, with_breakdown);
}
