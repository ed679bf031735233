/* test_cuda_models.c: whole-model CPU vs CUDA parity — CARN-M Adam steps, and an ASR step through the frozen ESPNet. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "nn/ops/ops.h"
#include "nn/optim.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "util/err.h"

#ifndef RUNE_CUDA
TEST(cuda_models_parity) { SKIP("built without CUDA (make CUDA=1)"); }
#else
#include "nn/cuda/cuda.h"

/* Tolerances:
 *  - loss: one float32 reduction over every pixel of the same function of (nearly) the same
 *    parameters: 1e-5 relative covers its summation order; 1e-4 leaves room for the parameter
 *    drift of the later Adam steps (below).
 *  - parameter gradients, per tensor, max |cuda - cpu| over max |cpu|: each layer's float32 sums
 *    differ in order (1e-5 of their scale, test_cuda_dnn's bound) and the differences compound
 *    through the ~40 layers between the loss and the first conv (ESPNet + CARN-M for ASR):
 *    1e-3. An index or formula bug anywhere shows as O(1) in some tensor.
 *  - parameters after Adam steps, as ||p_cuda - p_cpu|| / ||p_cpu - p_start|| over all of them:
 *    Adam moves each parameter by about lr * sign(g) whatever |g| is, so a parameter whose
 *    gradient is below the rounding of the two sums (a handful among 400k) may step the other way
 *    on one side: k flips out of n cost about 2 sqrt(k / n) in this ratio; 0.05 allows ~250 of them,
 *    while a wrong update rule or gradient gives O(1). */
#define TOL_LOSS 1e-4
#define TOL_GRAD 1e-3
#define TOL_STEP 0.05

static void need_gpu(void) {
    if (!cuda_available()) SKIP(rn_errmsg());
}

/* A host copy (malloc'ed) of n floats at p on device d. */
static real_t *host_copy(const real_t *p, size_t n, Device d) {
    Tensor v = {.shape = {1, 1, 1, (int)n}, .data = (real_t *)p, .device = d};
    real_t *h = xmalloc(n * sizeof *h);
    memcpy(h, tensor_host(&v)->data, n * sizeof *h);
    return h;
}

/* Worst per-tensor max |g - ref| / max |ref| over the trainable entries of ps (flat grads g, ref
 * as laid out by ps); prints the worst tensor. */
static double grad_err(const ParamSet *ps, const real_t *g, const real_t *ref, const char *what) {
    double worst = 0;
    const char *at = "-";
    for (int i = 0; i < ps->count; i++) {
        if (ps->is_buffer[i] || !ps->t[i]->requires_grad) continue;
        size_t off = ps->offset[i], n = tensor_numel(ps->t[i]);
        double d = 0, m = 0;
        for (size_t k = 0; k < n; k++) {
            d = fmax(d, fabs((double)g[off + k] - ref[off + k]));
            m = fmax(m, fabs((double)ref[off + k]));
        }
        double e = m > 0 ? d / m : d;
        if (isnan(e) || e > worst) worst = isnan(e) ? INFINITY : e, at = ps->t[i]->name;
    }
    printf("    %s: parameter gradients, worst tensor %s: %.2e (tolerance %.0e)\n", what, at, worst, TOL_GRAD);
    return worst;
}

static double rel(double a, double ref) { return fabs(a - ref) / fmax(fabs(ref), 1e-30); }

/* Deterministic LR / HR batch in [0,1]. */
static void make_batch(real_t *lr, size_t nlr, real_t *hr, size_t nhr) {
    Tensor t = {.shape = {1, 1, 1, (int)nlr}, .data = lr};
    fill_uniform(&t, 5, 0, 1);
    t.shape[3] = (int)nhr, t.data = hr;
    fill_uniform(&t, 6, 0, 1);
}

/* One L1 training step of m on device d; returns the loss and leaves the grads in m->ps. */
static double carn_l1_step(Carn *m, const real_t *lr, const real_t *hr, int n, int h, int w, Device d) {
    Tensor *x = tensor_to(tensor_from(lr, n, 3, h, w), d), *t = tensor_to(tensor_from(hr, n, 3, 4 * h, 4 * w), d);
    Tensor *loss = op_l1_loss(carn_forward(m, x, 4), t);
    tape_backward(loss);
    tape_clear(); /* the other device's step must not walk these nodes */
    return tensor_item(loss);
}

TEST(cuda_models_carn_m_adam_steps) {
    need_gpu();
    enum { N = 4, H = 16, W = 16, STEPS = 3 };
    Carn *cpu = NULL, *gpu = NULL;
    EXPECT(carn_load("weights/carn_m.h5", &cpu, NULL) == 0, "%s", rn_errmsg());
    EXPECT(carn_load("weights/carn_m.h5", &gpu, NULL) == 0, "%s", rn_errmsg());
    if (!cpu || !gpu) return;
    Optim oc, og;
    optim_init_adam(&oc, &cpu->ps, 1e-4, 0.9, 0.999, 1e-8, 0);
    optim_init_adam(&og, &gpu->ps, 1e-4, 0.9, 0.999, 1e-8, 0);
    params_to_device(&gpu->ps, DEV_CUDA);
    optim_to_device(&og, DEV_CUDA);
    size_t total = cpu->ps.total, nlr = (size_t)N * 3 * H * W, nhr = nlr * 16;
    real_t *start = host_copy(cpu->ps.data, total, DEV_CPU), *lr = xmalloc(nlr * sizeof *lr), *hr = xmalloc(nhr * sizeof *hr);
    make_batch(lr, nlr, hr, nhr);
    printf("    CARN-M x4, batch %d of %dx%d LR, L1, Adam lr 1e-4, %d steps\n", N, H, W, STEPS);
    for (int s = 0; s < STEPS; s++) {
        double lc = carn_l1_step(cpu, lr, hr, N, H, W, DEV_CPU), lg = carn_l1_step(gpu, lr, hr, N, H, W, DEV_CUDA);
        printf("    step %d: loss cpu %.7f cuda %.7f (rel %.2e, tolerance %.0e)\n", s, lc, lg, rel(lg, lc), TOL_LOSS);
        EXPECT(rel(lg, lc) <= TOL_LOSS, "step %d loss cpu %.7f cuda %.7f", s, lc, lg);
        if (s == 0) {
            real_t *g = host_copy(gpu->ps.grad, total, DEV_CUDA);
            double e = grad_err(&cpu->ps, g, cpu->ps.grad, "step 0");
            EXPECT(e <= TOL_GRAD, "step 0 gradients differ by %.3g of their scale", e);
            free(g);
        }
        optim_step(&oc, &cpu->ps), optim_step(&og, &gpu->ps);
        params_zero_grad(&cpu->ps), params_zero_grad(&gpu->ps);
        engine_step_reset();
    }
    real_t *pg = host_copy(gpu->ps.data, total, DEV_CUDA);
    double dd = 0, du = 0;
    for (size_t i = 0; i < total; i++) {
        dd += ((double)pg[i] - cpu->ps.data[i]) * ((double)pg[i] - cpu->ps.data[i]);
        du += ((double)cpu->ps.data[i] - start[i]) * ((double)cpu->ps.data[i] - start[i]);
    }
    double ratio = du > 0 ? sqrt(dd / du) : INFINITY;
    printf("    parameters after %d steps: ||cuda - cpu|| / ||update|| = %.2e (tolerance %.0e)\n", STEPS, ratio, TOL_STEP);
    EXPECT(ratio <= TOL_STEP, "parameters after %d Adam steps differ by %.3g of the update", STEPS, ratio);
    free(pg), free(start), free(lr), free(hr);
    optim_free(&oc), optim_free(&og);
    carn_free(cpu), carn_free(gpu);
}

/* Label map of horizontal bands with small blobs (ESPNet-CamVid's 11 classes, a void row), so the
 * cross-entropy sees many classes and an ignored label. */
static void make_labels(uint8_t *label, int h, int w) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            label[y * w + x] = y == h / 2 ? 255 : (uint8_t)((y / 12 + ((x / 8) % 5 == 0 && (y / 8) % 3 == 0)) % 11);
}

/* The ASR loss 0.95 L1(SR, HR) + 0.05 CE(seg(SR)) over every labelled pixel, backward to the SR
 * model's parameters through the frozen segmenter. Returns the loss. */
static double asr_step(Carn *sr, Segmenter *seg, const real_t *lr, const real_t *hr, const uint8_t *label, int h, int w,
                       Device d) {
    Tensor *x = tensor_to(tensor_from(lr, 1, 3, h, w), d), *t = tensor_to(tensor_from(hr, 1, 3, 4 * h, 4 * w), d);
    Tensor *y = carn_forward(sr, x, 4);
    Tensor *ce = op_cross_entropy(segmenter_forward(seg, y, false), label, 255, NULL);
    Tensor *loss = op_add(op_scale(op_l1_loss(y, t), (real_t)0.95), op_scale(ce, (real_t)0.05));
    tape_backward(loss);
    tape_clear();
    return tensor_item(loss);
}

TEST(cuda_models_asr_step_through_frozen_espnet) {
    need_gpu();
    enum { H = 24, W = 32 }; /* SR 96x128: ESPNet's sides divisible by 8 */
    Carn *cpu = NULL, *gpu = NULL;
    EXPECT(carn_load("weights/carn_m.h5", &cpu, NULL) == 0, "%s", rn_errmsg());
    EXPECT(carn_load("weights/carn_m.h5", &gpu, NULL) == 0, "%s", rn_errmsg());
    Segmenter *sc = segmenter_open("weights/espnet_camvid.h5", NULL, 0, NULL);
    Segmenter *sg = segmenter_open("weights/espnet_camvid.h5", NULL, 0, NULL);
    EXPECT(sc && sg, "%s", rn_errmsg());
    if (!cpu || !gpu || !sc || !sg) return;
    params_to_device(&gpu->ps, DEV_CUDA);
    params_to_device(sg->ps, DEV_CUDA);
    size_t nlr = 3 * H * W, nhr = nlr * 16;
    real_t *lr = xmalloc(nlr * sizeof *lr), *hr = xmalloc(nhr * sizeof *hr);
    uint8_t *label = xmalloc((size_t)16 * H * W);
    make_batch(lr, nlr, hr, nhr);
    make_labels(label, 4 * H, 4 * W);
    printf("    CARN-M x4 %dx%d -> %dx%d, frozen ESPNet-CamVid, 0.95 L1 + 0.05 CE\n", W, H, 4 * W, 4 * H);
    double lc = asr_step(cpu, sc, lr, hr, label, H, W, DEV_CPU), lg = asr_step(gpu, sg, lr, hr, label, H, W, DEV_CUDA);
    printf("    loss cpu %.7f cuda %.7f (rel %.2e, tolerance %.0e)\n", lc, lg, rel(lg, lc), TOL_LOSS);
    EXPECT(rel(lg, lc) <= TOL_LOSS, "loss cpu %.7f cuda %.7f", lc, lg);
    real_t *g = host_copy(gpu->ps.grad, gpu->ps.total, DEV_CUDA);
    double e = grad_err(&cpu->ps, g, cpu->ps.grad, "ASR");
    EXPECT(e <= TOL_GRAD, "SR gradients through the frozen segmenter differ by %.3g of their scale", e);
    free(g), free(lr), free(hr), free(label);
    segmenter_close(sc), segmenter_close(sg);
    carn_free(cpu), carn_free(gpu);
}
#endif
