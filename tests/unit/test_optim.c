/* test_optim.c: Adam, SGD-momentum and lr schedules against torch.optim (scripts/fixtures/gen_optim.py). */
#include <string.h>

#include "nn/optim.h"
#include "tests/fixture.h"
#include "tests/test.h"

#define STEPS 5
#define JUNK ((real_t)7.25)

/* w [3,2,2,2] and b [3] as in the fixture, with a frozen parameter and a buffer between them:
 * the optimizer must skip both even though ps->grad holds junk over their range. */
static void make_set(ParamSet *ps, Fixture *f) {
    params_init(ps);
    params_add(ps, "w", 3, 2, 2, 2);
    params_add(ps, "frozen", 2, 1, 1, 1);
    params_add_buffer(ps, "running_mean", 3, 1, 1, 1);
    params_add(ps, "b", 3, 1, 1, 1);
    params_finalize(ps);
    Tensor *fr = params_find(ps, "frozen");
    fr->requires_grad = false;
    fr->grad = NULL;
    memcpy(params_find(ps, "w")->data, fx_tensor(f, "w_init")->data, 24 * sizeof(real_t));
    memcpy(params_find(ps, "b")->data, fx_tensor(f, "b_init")->data, 3 * sizeof(real_t));
    for (int i = 0; i < 2; i++) fr->data[i] = (real_t)(0.5 + i);
    for (int i = 0; i < 3; i++) params_find(ps, "running_mean")->data[i] = (real_t)(-1.0 - i);
}

static void feed_grads(ParamSet *ps, Fixture *f, int k) {
    char name[16];
    for (size_t i = 0; i < ps->total; i++) ps->grad[i] = JUNK;
    snprintf(name, sizeof name, "gw%d", k);
    memcpy(ps->grad + ps->offset[0], fx_tensor(f, name)->data, 24 * sizeof(real_t));
    snprintf(name, sizeof name, "gb%d", k);
    memcpy(ps->grad + ps->offset[3], fx_tensor(f, name)->data, 3 * sizeof(real_t));
}

static void expect_untouched(const ParamSet *ps) {
    const Tensor *fr = params_find(ps, "frozen"), *rm = params_find(ps, "running_mean");
    for (int i = 0; i < 2; i++) EXPECT(fr->data[i] == (real_t)(0.5 + i), "frozen[%d] changed to %g", i, fr->data[i]);
    for (int i = 0; i < 3; i++) EXPECT(rm->data[i] == (real_t)(-1.0 - i), "buffer[%d] changed to %g", i, rm->data[i]);
}

/* Runs STEPS updates and compares w and b after each with <prefix>w<k>, <prefix>b<k>. */
static void run_steps(Optim *o, ParamSet *ps, Fixture *f, const char *prefix) {
    char name[32];
    for (int k = 0; k < STEPS; k++) {
        feed_grads(ps, f, k);
        optim_step(o, ps);
        snprintf(name, sizeof name, "%sw%d", prefix, k);
        fx_expect(f, name, params_find(ps, "w")->data, 24, 1e-6, 1e-5);
        snprintf(name, sizeof name, "%sb%d", prefix, k);
        fx_expect(f, name, params_find(ps, "b")->data, 3, 1e-6, 1e-5);
    }
    EXPECT(o->step == STEPS, "step %lld", o->step);
    expect_untouched(ps);
}

TEST(optim_adam_vs_torch) {
    Fixture *f = fx_open("optim.h5");
    if (!f) return;
    ParamSet ps;
    make_set(&ps, f);
    Optim o;
    optim_init_adam(&o, &ps, 1e-2, 0.9, 0.99, 1e-8, 0.1);
    run_steps(&o, &ps, f, "adam_");
    fx_expect(f, "adam_mw", o.m + ps.offset[0], 24, 1e-7, 1e-5);
    fx_expect(f, "adam_vw", o.v + ps.offset[0], 24, 1e-9, 1e-5);
    fx_expect(f, "adam_mb", o.m + ps.offset[3], 3, 1e-7, 1e-5);
    fx_expect(f, "adam_vb", o.v + ps.offset[3], 3, 1e-9, 1e-5);
    optim_free(&o);
    params_free(&ps);
    fx_close(f);
}

TEST(optim_sgd_momentum_vs_torch) {
    Fixture *f = fx_open("optim.h5");
    if (!f) return;
    ParamSet ps;
    make_set(&ps, f);
    Optim o;
    optim_init_sgd(&o, &ps, 0.1, 0.9, 0.05);
    run_steps(&o, &ps, f, "sgd_");
    fx_expect(f, "sgd_bufw", o.m + ps.offset[0], 24, 1e-6, 1e-5);
    fx_expect(f, "sgd_bufb", o.m + ps.offset[3], 3, 1e-6, 1e-5);
    optim_free(&o);
    params_free(&ps);
    fx_close(f);
}

/* Compares lr_at(s, 0..n-1) with the learning rates torch's scheduler put in effect. */
static void expect_schedule(Fixture *f, const char *name, const LrSchedule *s) {
    size_t n = 0;
    double *ref = fx_array(f, name, &n);
    if (!ref) return;
    EXPECT(n > 5, "%s has %zu values", name, n);
    for (size_t k = 0; k < n; k++)
        if (!(fabs(lr_at(s, (long long)k) - ref[k]) <= 1e-12))
            test_fail_at(__FILE__, __LINE__, "%s step %zu: lr_at %.12g, torch %.12g", name, k, lr_at(s, (long long)k), ref[k]);
}

TEST(optim_lr_schedules_vs_torch) {
    Fixture *f = fx_open("optim.h5");
    if (!f) return;
    LrSchedule step = {.kind = LR_STEP, .base_lr = 0.1, .step_size = 3, .gamma = 0.5};
    expect_schedule(f, "lr_step", &step);
    LrSchedule cosine = {.kind = LR_COSINE, .base_lr = 0.1, .total = 10, .min_lr = 1e-3};
    expect_schedule(f, "lr_cosine", &cosine);
    LrSchedule warm = {.kind = LR_CONSTANT, .base_lr = 0.1, .warmup = 4};
    expect_schedule(f, "lr_warmup", &warm);
    EXPECT(lr_at(&cosine, 25) == 1e-3, "cosine holds min_lr after total: %g", lr_at(&cosine, 25));
    fx_close(f);
}

/* Warm-up scales whatever schedule runs under it, which keeps counting from step 0. */
TEST(optim_lr_warmup_cosine) {
    LrSchedule s = {.kind = LR_COSINE, .base_lr = 0.2, .total = 100, .min_lr = 0, .warmup = 10};
    EXPECT_NEAR(lr_at(&s, 0), 0.2 * (1 + cos(M_PI * 0 / 100)) / 2 * 0.1, 1e-15);
    EXPECT_NEAR(lr_at(&s, 4), 0.2 * (1 + cos(M_PI * 4 / 100)) / 2 * 0.5, 1e-15);
    EXPECT_NEAR(lr_at(&s, 10), 0.2 * (1 + cos(M_PI * 10 / 100)) / 2, 1e-15);
    EXPECT_NEAR(lr_at(&s, 100), 0.0, 1e-15);
}
