/* test_cuda_ops.c: CPU vs CUDA parity of every kernel op (forward and every gradient), the device Adam/SGD step and device memory. */
#include <math.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/optim.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "util/err.h"
#ifdef RUNE_CUDA
#include "nn/cuda/cuda.h"
#endif

/* Tolerance, for every op: |cuda - cpu| <= ATOL + RTOL * |cpu|, element by element. Both sides
 * run the same float32 formulas; they differ by the last bits only: nvcc contracts a*b + c into
 * one FMA (gcc in C11 mode does not), CUDA's expf/logf are within 2 ulp of glibc's, and every sum
 * is accumulated in double on both sides but in another order (block tree vs. serial blocks), so
 * a reduction's float result may differ by 1 ulp. 1e-5 relative is ~80 ulp: room for these, far
 * below any indexing or formula bug (those show as O(1) errors). ATOL covers values that cancel
 * to near zero (gradients summed from terms of both signs). */
#define RTOL 1e-5
#define ATOL 1e-6

static void need_gpu(void) {
#ifndef RUNE_CUDA
    SKIP("built without CUDA (make CUDA=1)");
#else
    if (!cuda_available()) SKIP(rn_errmsg());
#endif
}

/* Worst |d - r| / (ATOL + RTOL |r|) over n elements (<= 1 passes); *maxabs gets the worst |d - r|. */
static double worst(const real_t *d, const real_t *r, size_t n, double *maxabs) {
    double w = 0;
    *maxabs = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)d[i] - (double)r[i]);
        if (isnan(e) || isnan((double)d[i]) != isnan((double)r[i])) e = INFINITY;
        if (e > *maxabs) *maxabs = e;
        double q = e / (ATOL + RTOL * fabs((double)r[i]));
        if (q > w) w = q;
    }
    return w;
}

/* Host copy of a tensor's data (or its grad) wherever it lives. */
static real_t *host_values(const Tensor *t, bool grad) {
    Tensor v = *t;
    v.data = grad ? t->grad : t->data;
    return tensor_to(&v, DEV_CPU)->data;
}

/* Prints one line per compared buffer and fails the test (not stopping it) past tolerance. */
static void compare(const char *op, const char *what, const Tensor *dev, const Tensor *cpu, bool grad) {
    if (grad && (!cpu->grad || !dev->grad)) {
        EXPECT(!cpu->grad && !dev->grad, "%s %s: gradient on one side only (cpu %p, cuda %p)", op, what,
               (void *)cpu->grad, (void *)dev->grad);
        return;
    }
    EXPECT(tensor_same_shape(dev, cpu), "%s %s: shapes differ", op, what);
    double maxabs, w = worst(host_values(dev, grad), grad ? cpu->grad : cpu->data, tensor_numel(cpu), &maxabs);
    printf("    %-28s %-6s max|d| %.3g  err/tol %.3g%s\n", op, what, maxabs, w, w <= 1 ? "" : "  FAIL");
    EXPECT(w <= 1, "%s %s: max |cuda - cpu| %.3g, %.3g x the tolerance", op, what, maxabs, w);
}

/* ---- the op cases: up to 3 inputs of small odd shapes, each with a value range and a grad flag ---- */

typedef Tensor *(*CaseFn)(Tensor **x);

typedef struct {
    const char *name;
    CaseFn fn;
    int nin;
    int shape[3][4];
    double lo[3], hi[3];
    bool nograd[3]; /* targets */
} Case;

/* Runs c on host inputs, then on device copies of the same inputs, seeds both backward passes with
 * the same random dL/dout, and compares the output and every input gradient. */
static void run_case(const Case *c, unsigned seed) {
    Tensor *cpu[3], *dev[3];
    for (int i = 0; i < c->nin; i++) {
        const int *s = c->shape[i];
        cpu[i] = tensor_new(s[0], s[1], s[2], s[3]);
        double lo = c->lo[i] || c->hi[i] ? c->lo[i] : -1, hi = c->lo[i] || c->hi[i] ? c->hi[i] : 1;
        fill_uniform(cpu[i], seed + 7 * i, lo, hi);
        dev[i] = tensor_to(cpu[i], DEV_CUDA);
        cpu[i]->requires_grad = dev[i]->requires_grad = !c->nograd[i];
    }
    Tensor *y = c->fn(cpu);
    Tensor *dout = tensor_like(y);
    fill_uniform(dout, seed + 99, -1, 1);
    tape_backward_seed(y, dout->data);
    tape_clear(); /* the device pass walks its own nodes only */
    Tensor *yd = c->fn(dev);
    EXPECT(yd->device == DEV_CUDA, "%s: output on %s", c->name, device_name(yd->device));
    tape_backward_seed(yd, dout->data);
    tape_clear();
    compare(c->name, "out", yd, y, false);
    static const char *const dname[3] = {"d0", "d1", "d2"};
    for (int i = 0; i < c->nin; i++)
        if (!c->nograd[i]) compare(c->name, dname[i], dev[i], cpu[i], true);
}

static void run_cases(const Case *cs, int n) {
    for (int i = 0; i < n; i++) {
        run_case(&cs[i], 11 * (unsigned)i + 1);
        engine_step_reset();
    }
}

#define S(n, c, h, w) {n, c, h, w}
#define X S(2, 3, 7, 5)

static Tensor *c_add(Tensor **x) { return op_add(x[0], x[1]); }
static Tensor *c_mul(Tensor **x) { return op_mul(x[0], x[1]); }
static Tensor *c_mul_self(Tensor **x) { return op_mul(x[0], x[0]); }
static Tensor *c_scale(Tensor **x) { return op_scale(x[0], -1.75f); }
static Tensor *c_relu(Tensor **x) { return op_relu(x[0]); }
static Tensor *c_leaky(Tensor **x) { return op_leaky_relu(x[0], 0.1f); }
static Tensor *c_prelu(Tensor **x) { return op_prelu(x[0], x[1]); }
static Tensor *c_sigmoid(Tensor **x) { return op_sigmoid(x[0]); }
static Tensor *c_clamp(Tensor **x) { return op_clamp(x[0], -0.5f, 0.25f); }

TEST(cuda_ops_elementwise) {
    need_gpu();
    const Case cs[] = {
        {"add", c_add, 2, {X, X}, {0}, {0}, {0}},
        {"add per-channel", c_add, 2, {X, S(1, 3, 1, 1)}, {0}, {0}, {0}},
        {"add scalar", c_add, 2, {X, S(1, 1, 1, 1)}, {0}, {0}, {0}},
        {"mul", c_mul, 2, {X, X}, {0}, {0}, {0}},
        {"mul per-channel [C,1,1,1]", c_mul, 2, {X, S(3, 1, 1, 1)}, {0}, {0}, {0}},
        {"mul scalar", c_mul, 2, {X, S(1, 1, 1, 1)}, {0}, {0}, {0}},
        {"mul(x, x)", c_mul_self, 1, {X}, {0}, {0}, {0}},
        {"scale", c_scale, 1, {X}, {0}, {0}, {0}},
        {"relu", c_relu, 1, {X}, {0}, {0}, {0}},
        {"leaky_relu", c_leaky, 1, {X}, {0}, {0}, {0}},
        {"prelu per-channel", c_prelu, 2, {X, S(1, 3, 1, 1)}, {0, 0.1}, {0, 0.4}, {0}},
        {"prelu shared", c_prelu, 2, {X, S(1, 1, 1, 1)}, {0, 0.1}, {0, 0.4}, {0}},
        {"sigmoid", c_sigmoid, 1, {X}, {-6}, {6}, {0}},
        {"clamp", c_clamp, 1, {X}, {0}, {0}, {0}},
    };
    run_cases(cs, (int)(sizeof cs / sizeof cs[0]));
}

static Tensor *c_concat(Tensor **x) {
    Tensor *xs[4] = {x[0], x[1], x[0], x[2]}; /* x[0] twice: both slices accumulate */
    return op_concat(xs, 4);
}
static Tensor *c_slice(Tensor **x) { return op_slice_channels(x[0], 2, 3); }
static Tensor *c_shuffle2(Tensor **x) { return op_pixel_shuffle(x[0], 2); }
static Tensor *c_shuffle3(Tensor **x) { return op_pixel_shuffle(x[0], 3); }

TEST(cuda_ops_shape) {
    need_gpu();
    const Case cs[] = {
        {"concat", c_concat, 3, {X, S(2, 1, 7, 5), S(2, 4, 7, 5)}, {0}, {0}, {false, true, false}},
        {"slice_channels", c_slice, 1, {S(2, 7, 5, 3)}, {0}, {0}, {0}},
        {"pixel_shuffle r=2", c_shuffle2, 1, {S(2, 12, 5, 3)}, {0}, {0}, {0}},
        {"pixel_shuffle r=3", c_shuffle3, 1, {S(1, 18, 3, 5)}, {0}, {0}, {0}},
    };
    run_cases(cs, (int)(sizeof cs / sizeof cs[0]));
}

static Tensor *c_resize_up(Tensor **x) { return op_resize_bilinear(x[0], 17, 11); }
static Tensor *c_resize_down(Tensor **x) { return op_resize_bilinear(x[0], 3, 4); }
static Tensor *c_upsample(Tensor **x) { return op_upsample_nearest(x[0], 2); }
static Tensor *c_maxpool(Tensor **x) { return op_max_pool2d(x[0], 3, 2, 1); }
static Tensor *c_maxpool_dark(Tensor **x) { return op_max_pool2d_at(x[0], 2, 1, 0, TH(x[0]), TW(x[0]), OP_DARKNET_MAXPOOL); }
static Tensor *c_avgpool(Tensor **x) { return op_avg_pool2d(x[0], 3, 2, 1); }
static Tensor *c_adaptive(Tensor **x) { return op_adaptive_avg_pool2d(x[0], 3, 2); }
static Tensor *c_adaptive1(Tensor **x) { return op_adaptive_avg_pool2d(x[0], 1, 1); }

TEST(cuda_ops_resample_pool) {
    need_gpu();
    const Case cs[] = {
        {"resize_bilinear up", c_resize_up, 1, {X}, {0}, {0}, {0}},
        {"resize_bilinear down", c_resize_down, 1, {S(2, 3, 9, 13)}, {0}, {0}, {0}},
        {"upsample_nearest", c_upsample, 1, {X}, {0}, {0}, {0}},
        {"max_pool2d k3 s2 p1", c_maxpool, 1, {S(2, 3, 9, 7)}, {0}, {0}, {0}},
        {"darknet_maxpool k2 s1", c_maxpool_dark, 1, {X}, {0}, {0}, {0}},
        {"avg_pool2d k3 s2 p1", c_avgpool, 1, {S(2, 3, 9, 7)}, {0}, {0}, {0}},
        {"adaptive_avg_pool2d 3x2", c_adaptive, 1, {X}, {0}, {0}, {0}},
        {"adaptive_avg_pool2d 1x1", c_adaptive1, 1, {X}, {0}, {0}, {0}},
    };
    run_cases(cs, (int)(sizeof cs / sizeof cs[0]));
}

/* Cross-entropy's labels (some ignored) and per-pixel weights: host arrays, as callers pass them. */
#define CE_N 2
#define CE_K 5
#define CE_H 7
#define CE_W 3
static unsigned char g_labels[CE_N * CE_H * CE_W];
static real_t g_weights[CE_N * CE_H * CE_W], g_bce_w[2 * 3 * 7 * 5];

static void make_targets(void) {
    for (int i = 0; i < CE_N * CE_H * CE_W; i++) {
        g_labels[i] = i % 7 == 3 ? 255 : (unsigned char)((i * 13 + 5) % CE_K);
        g_weights[i] = (real_t)(0.25 + (i % 4) * 0.5);
    }
    for (int i = 0; i < 2 * 3 * 7 * 5; i++) g_bce_w[i] = (real_t)((i % 5) * 0.3);
}

static Tensor *c_sum(Tensor **x) { return op_sum(x[0]); }
static Tensor *c_mean(Tensor **x) { return op_mean(x[0]); }
static Tensor *c_l1(Tensor **x) { return op_l1_loss(x[0], x[1]); }
static Tensor *c_mse(Tensor **x) { return op_mse_loss(x[0], x[1]); }
static Tensor *c_bce(Tensor **x) { return op_bce_with_logits(x[0], x[1], NULL); }
static Tensor *c_bce_w(Tensor **x) { return op_bce_with_logits(x[0], x[1], g_bce_w); }
static Tensor *c_focal(Tensor **x) { return op_focal_loss(x[0], x[1], 0.25f, 2); }
static Tensor *c_focal_plain(Tensor **x) { return op_focal_loss(x[0], x[1], -1, 0); }
static Tensor *c_ce(Tensor **x) { return op_cross_entropy(x[0], g_labels, 255, NULL); }
static Tensor *c_ce_w(Tensor **x) { return op_cross_entropy(x[0], g_labels, 255, g_weights); }

TEST(cuda_ops_reduce_loss) {
    need_gpu();
    make_targets();
    const Case cs[] = {
        {"sum", c_sum, 1, {S(3, 5, 37, 41)}, {0}, {0}, {0}},
        {"mean", c_mean, 1, {S(3, 5, 37, 41)}, {0}, {0}, {0}},
        {"sum past the reduction grid", c_sum, 1, {S(1, 1, 600, 501)}, {0}, {0}, {0}},
        {"l1_loss", c_l1, 2, {X, X}, {0}, {0}, {0}},
        {"mse_loss", c_mse, 2, {X, X}, {0}, {0}, {0}},
        {"bce_with_logits", c_bce, 2, {X, X}, {-4, 0}, {4, 1}, {false, true}},
        {"bce_with_logits weighted", c_bce_w, 2, {X, X}, {-4, 0}, {4, 1}, {false, true}},
        {"focal_loss a=.25 g=2", c_focal, 2, {X, X}, {-4, 0}, {4, 1}, {false, true}},
        {"focal_loss a<0 g=0", c_focal_plain, 2, {X, X}, {-4, 0}, {4, 1}, {false, true}},
        {"cross_entropy", c_ce, 1, {S(CE_N, CE_K, CE_H, CE_W)}, {-3}, {3}, {0}},
        {"cross_entropy weighted", c_ce_w, 1, {S(CE_N, CE_K, CE_H, CE_W)}, {-3}, {3}, {0}},
    };
    run_cases(cs, (int)(sizeof cs / sizeof cs[0]));
    /* a NaN loss on the device is refused like a host one */
    Tensor *x = tensor_new(1, 1, 1, 2);
    x->data[0] = 1, x->data[1] = NAN;
    EXPECT(loss_check_finite(op_mean(tensor_to(x, DEV_CUDA)), "device mean") < 0, "NaN device loss passed");
    x->data[1] = 2;
    EXPECT(loss_check_finite(op_mean(tensor_to(x, DEV_CUDA)), "device mean") == 0, "%s", rn_errmsg());
}

/* ---- device memory: copies, grads, the seed, the arena across resets ---- */

TEST(cuda_tensor_memory) {
    need_gpu();
    Tensor *h = tensor_new(3, 5, 7, 9);
    fill_uniform(h, 5, -2, 2);
    Tensor *d = tensor_to(h, DEV_CUDA), *back = tensor_to(d, DEV_CPU);
    EXPECT(d->device == DEV_CUDA && back->device == DEV_CPU, "devices %d %d", d->device, back->device);
    EXPECT(memcmp(back->data, h->data, tensor_numel(h) * sizeof(real_t)) == 0, "round trip changed values");
    real_t *g = host_values(d, false);
    EXPECT(g[0] == h->data[0], "host_values");
    tensor_grad(d);
    real_t *z = host_values(d, true);
    double s = 0;
    for (size_t i = 0; i < tensor_numel(d); i++) s += fabs((double)z[i]);
    EXPECT(s == 0, "device grad not zeroed (%g)", s);
    Tensor *f = tensor_zeros_like(d);
    tensor_fill(f, 2.5f);
    EXPECT(f->device == DEV_CUDA && host_values(f, false)[17] == 2.5f, "fill on device");
    /* a scalar loss seeds 1 on the device: d(sum x)/dx = 1 everywhere */
    d->requires_grad = true;
    Tensor *loss = op_sum(d);
    tape_backward(loss);
    real_t *dx = host_values(d, true);
    EXPECT(dx[0] == 1 && dx[tensor_numel(d) - 1] == 1, "seed: %g %g", dx[0], dx[tensor_numel(d) - 1]);
    /* the arena is reused across steps: many steps of a large tensor do not run out */
    for (int step = 0; step < 50; step++) {
        engine_step_reset();
        Tensor *big = tensor_new_on(DEV_CUDA, 8, 64, 128, 128); /* 32 MiB */
        tensor_fill(big, (real_t)step);
    }
    engine_step_reset();
}

/* ---- the optimizers on a device ParamSet vs the same on the host ---- */

static void make_params(ParamSet *ps) {
    params_init(ps);
    params_add(ps, "a", 3, 5, 3, 3);
    params_add_buffer(ps, "running", 1, 5, 1, 1);
    params_add(ps, "frozen", 1, 7, 1, 1);
    params_add(ps, "b", 1, 5, 1, 1);
    params_finalize(ps);
    for (int i = 0; i < ps->count; i++) fill_uniform(ps->t[i], 40 + i, -1, 1);
    params_find(ps, "frozen")->requires_grad = false;
    params_find(ps, "frozen")->grad = NULL;
}

/* A [1,1,1,n] tensor header over n values at data on d (a view for copies and comparisons). */
static Tensor flat(real_t *data, size_t n, Device d) {
    Tensor t;
    memset(&t, 0, sizeof t);
    t.shape[0] = t.shape[1] = t.shape[2] = 1, t.shape[3] = (int)n;
    t.data = data, t.device = d;
    return t;
}

/* k steps of o on ps with a fixed pseudo-random gradient per step, written over the whole flat
 * grad buffer (the optimizer must skip the buffer's and the frozen entry's ranges itself). */
static void optim_steps(ParamSet *ps, Optim *o, int k) {
    for (int s = 0; s < k; s++) {
        Tensor *g = tensor_new(1, 1, 1, (int)ps->total);
        fill_uniform(g, 100 + s, -1, 1);
        Tensor *gd = tensor_to(g, ps->device);
        Tensor dst = flat(ps->grad, ps->total, ps->device);
        if (ps->device == DEV_CPU) memcpy(dst.data, gd->data, ps->total * sizeof(real_t));
        else ops_backend(ps->device, "test")->copy(dst.data, ps->device, gd->data, ps->device, ps->total * sizeof(real_t));
        o->lr = 1e-2 * (s + 1);
        optim_step(o, ps);
        engine_step_reset();
    }
}

static void optim_parity(const char *name, bool adam) {
    ParamSet ph, pd;
    Optim oh, od;
    make_params(&ph), make_params(&pd);
    if (adam) optim_init_adam(&oh, &ph, 1e-2, 0.9, 0.999, 1e-8, 0.01), optim_init_adam(&od, &pd, 1e-2, 0.9, 0.999, 1e-8, 0.01);
    else optim_init_sgd(&oh, &ph, 0.1, 0.9, 0.01), optim_init_sgd(&od, &pd, 0.1, 0.9, 0.01);
    params_to_device(&pd, DEV_CUDA);
    optim_to_device(&od, DEV_CUDA);
    EXPECT(params_find(&pd, "a")->device == DEV_CUDA, "tensor not repointed");
    optim_steps(&ph, &oh, 5);
    optim_steps(&pd, &od, 5);
    params_to_device(&pd, DEV_CPU);
    optim_to_device(&od, DEV_CPU);
    Tensor th = flat(ph.data, ph.total, DEV_CPU), td = flat(pd.data, pd.total, DEV_CPU);
    compare(name, "params", &td, &th, false);
    th = flat(oh.m, oh.n, DEV_CPU), td = flat(od.m, od.n, DEV_CPU);
    compare(name, "m", &td, &th, false);
    if (adam) {
        th = flat(oh.v, oh.n, DEV_CPU), td = flat(od.v, od.n, DEV_CPU);
        compare(name, "v", &td, &th, false);
    }
    EXPECT(memcmp(params_find(&pd, "frozen")->data, params_find(&ph, "frozen")->data, 7 * sizeof(real_t)) == 0,
           "%s moved a frozen parameter", name);
    optim_free(&oh), optim_free(&od), params_free(&ph), params_free(&pd);
}

TEST(cuda_optim_step) {
    need_gpu();
    optim_parity("adam", true);
    optim_parity("sgd", false);
}
