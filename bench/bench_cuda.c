/* bench_cuda.c: GPU timings of the models at the paper's sizes (rune bench --device cuda), for gpu-bench.sh. */
#include "bench/bench_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "nn/ops/ops.h"
#include "nn/optim.h"
#include "util/err.h"
#include "util/progress.h"

/* What one timed run needs; run() does one step and returns a tensor whose item waits for it. */
typedef struct Bench {
    const char *key, *what;
    Carn *sr;
    Segmenter *seg; /* frozen task model, or NULL */
    Optim opt;
    int n, h, w;    /* LR input [n,3,h,w] (SR x4), or the segmenter's input when sr is NULL */
    real_t *lr, *hr; /* host inputs */
    uint8_t *label;  /* [4h*4w] for the ASR loss */
    Tensor *(*run)(struct Bench *b);
} Bench;

static Tensor *upload(const real_t *host, int n, int c, int h, int w) {
    return tensor_to(tensor_from(host, n, c, h, w), DEV_CUDA);
}

/* CARN-M forward + L1 backward, as bench_carn's CPU step and scripts/bench_carn.py's. */
static Tensor *carn_train(Bench *b) {
    params_zero_grad(&b->sr->ps);
    Tensor *y = carn_forward(b->sr, upload(b->lr, b->n, 3, b->h, b->w), 4);
    Tensor *loss = op_l1_loss(y, upload(b->hr, b->n, 3, 4 * b->h, 4 * b->w));
    tape_backward(loss);
    return loss;
}

/* A one-element tensor over y's first value: reading it back waits for the pass that made y. */
static Tensor *first_value(const Tensor *y) {
    Tensor *v = arena_alloc(engine_arena(), sizeof *v);
    *v = *y;
    v->shape[0] = v->shape[1] = v->shape[2] = v->shape[3] = 1;
    return v;
}

static Tensor *carn_infer(Bench *b) {
    return first_value(carn_forward(b->sr, upload(b->lr, b->n, 3, b->h, b->w), 4));
}

static Tensor *seg_forward(Bench *b) {
    return first_value(segmenter_forward(b->seg, upload(b->lr, b->n, 3, b->h, b->w), false));
}

/* One ASR fine-tuning step, as scripts/bench_asr.py: 0.95 L1 + 0.05 CE through the frozen
 * segmenter, backward to the SR model, Adam. */
static Tensor *asr_step(Bench *b) {
    Tensor *y = carn_forward(b->sr, upload(b->lr, b->n, 3, b->h, b->w), 4);
    Tensor *ce = op_cross_entropy(segmenter_forward(b->seg, y, false), b->label, 255, NULL);
    Tensor *l1 = op_l1_loss(y, upload(b->hr, b->n, 3, 4 * b->h, 4 * b->w));
    Tensor *loss = op_add(op_scale(l1, (real_t)0.95), op_scale(ce, (real_t)0.05));
    tape_backward(loss);
    optim_step(&b->opt, &b->sr->ps);
    params_zero_grad(&b->sr->ps);
    return loss;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Two warm-up runs (cuDNN measures its algorithms per shape on the first), then reps timed ones;
 * each ends when tensor_item has read the step's result back, so the GPU's work is inside. */
static void time_bench(Bench *b, int reps) {
    double *t = xmalloc((size_t)reps * sizeof *t);
    bool grad = b->run == carn_train || b->run == asr_step;
    bool old = engine_set_grad(grad);
    for (int r = -2; r < reps; r++) {
        engine_step_reset();
        double t0 = now_seconds();
        tensor_item(b->run(b));
        if (r >= 0) t[r] = now_seconds() - t0;
    }
    engine_step_reset();
    engine_set_grad(old);
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("%-52s median %8.2f ms  (min %.2f, max %.2f, %d reps)\n", b->what, 1e3 * t[reps / 2], 1e3 * t[0],
           1e3 * t[reps - 1], reps);
    printf("BENCH rune %s %.3f\n", b->key, 1e3 * t[reps / 2]);
    fflush(stdout);
    free(t);
}

/* Deterministic values in [0,1) (the numbers do not matter for timing, only that they are finite). */
static real_t *host_values(size_t n, unsigned long long seed) {
    real_t *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (real_t)((seed >> 40) / 16777216.0);
    }
    return p;
}

/* A frozen task model on the device with random weights (PyTorch's side has random ones too). */
static Segmenter *frozen_segmenter(const char *arch) {
    Segmenter *s = segmenter_new(arch, strcmp(arch, "espnet") ? 19 : 12, 1.0);
    if (!s) rn_die("%s", rn_errmsg());
    params_set_trainable(s->ps, false);
    params_to_device(s->ps, DEV_CUDA);
    return s;
}

static void run_one(Bench *b, int reps) {
    size_t nlr = (size_t)b->n * 3 * b->h * b->w, npix = (size_t)b->n * 16 * b->h * b->w;
    b->lr = host_values(nlr, 1);
    if (b->sr) { /* the SR targets: HR frame and labels of the x4 output */
        b->hr = host_values(3 * npix, 2), b->label = xmalloc(npix);
        for (size_t i = 0; i < npix; i++) b->label[i] = (uint8_t)(i * 2654435761u % 11);
        optim_init_adam(&b->opt, &b->sr->ps, 1e-5, 0.9, 0.999, 1e-8, 0);
        params_to_device(&b->sr->ps, DEV_CUDA);
        optim_to_device(&b->opt, DEV_CUDA);
    }
    time_bench(b, reps);
    if (b->sr) optim_free(&b->opt), carn_free(b->sr);
    segmenter_close(b->seg);
    free(b->lr), free(b->hr), free(b->label);
}

const char *const bench_cuda_keys[] = {"carn_train", "carn_infer", "swiftnet_fwd", "asr_espnet", "asr_swiftnet", NULL};

void bench_cuda_run(const char *key, int reps) {
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
    run_one(&b, reps);
}
