/* test_grad_carn.c: whole-model directional finite-difference checks of CARN / CARN-M (float64 build). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/models/carn.h"
#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

/* L = mean((carn(x, s) - t)^2): smooth apart from ReLU kinks, which a small step rarely crosses. */
static double loss_at(Carn *m, Tensor *x, Tensor *t, int s) {
    ArenaMark mk = arena_mark(engine_arena());
    bool old = engine_set_grad(false);
    double l = op_mse_loss(carn_forward(m, x, s), t)->data[0];
    engine_set_grad(old);
    arena_rewind(engine_arena(), mk);
    return l;
}

/* Compares (L(v + eps d) - L(v - eps d)) / 2eps with <dL/dv, d> for v = the input, then v = all
 * trainable parameters at once. */
static void directional(Carn *m, int s, int h, int w, unsigned seed) {
    Tensor *x = grad_input(1, 3, h, w, seed), *t = tensor_new(1, 3, h * s, w * s);
    fill_uniform(x, seed, 0, 1);
    fill_uniform(t, seed + 1, 0, 1);
    Tensor *dx = tensor_like(x), *dp = tensor_new(1, 1, 1, (int)m->ps.total);
    fill_uniform(dx, seed + 2, -1, 1);
    fill_uniform(dp, seed + 3, -1, 1);
    params_zero_grad(&m->ps);
    Tensor *loss = op_mse_loss(carn_forward(m, x, s), t);
    tape_backward(loss);
    tape_clear();
    double ax = 0, ap = 0;
    for (size_t i = 0; i < tensor_numel(x); i++) ax += x->grad[i] * dx->data[i];
    for (size_t i = 0; i < m->ps.total; i++) ap += m->ps.grad[i] * dp->data[i]; /* frozen shifters: grad 0 */
    /* the parameter step moves ~400k numbers at once, so it must be smaller to cross no ReLU kink */
    const double eps = 1e-6, peps = 1e-7;
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] += eps * dx->data[i];
    double lp = loss_at(m, x, t, s);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] -= 2 * eps * dx->data[i];
    double lm = loss_at(m, x, t, s);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] += eps * dx->data[i];
    double nx = (lp - lm) / (2 * eps);
    /* parameters: step only the trainable ones (frozen mean shifters are not model freedom) */
    real_t *saved = arena_alloc(engine_arena(), m->ps.total * sizeof(real_t));
    memcpy(saved, m->ps.data, m->ps.total * sizeof(real_t));
    for (int k = 0; k < 2; k++) {
        double sign = k ? -1 : 1;
        for (int e = 0; e < m->ps.count; e++) {
            if (!m->ps.t[e]->requires_grad) continue;
            size_t off = m->ps.offset[e], n = tensor_numel(m->ps.t[e]);
            for (size_t i = 0; i < n; i++) m->ps.data[off + i] = saved[off + i] + sign * peps * dp->data[off + i];
        }
        if (k == 0) lp = loss_at(m, x, t, s);
        else lm = loss_at(m, x, t, s);
    }
    memcpy(m->ps.data, saved, m->ps.total * sizeof(real_t));
    double np = (lp - lm) / (2 * peps);
    double ex = fabs(ax - nx) / (1e-8 + fabs(nx)), ep = fabs(ap - np) / (1e-8 + fabs(np));
    printf("    %s x%d: input <g,d> %.10g vs fd %.10g (rel %.2e); params %.10g vs %.10g (rel %.2e)\n",
           carn_kind_name(m->kind), s, ax, nx, ex, ap, np, ep);
    EXPECT(ex < 1e-6, "%s x%d input directional derivative off by %.3g", carn_kind_name(m->kind), s, ex);
    EXPECT(ep < 1e-6, "%s x%d parameter directional derivative off by %.3g", carn_kind_name(m->kind), s, ep);
}

/* PyTorch's default init (U(+-1/sqrt(fan_in))) shrinks signals by ~2.4x per ReLU conv, so the
 * input gradient of a deep random CARN is tiny and drowns in rounding; He-scaled weights keep it
 * O(1) so the check has teeth. */
static void he_scale(Carn *m) {
    for (int e = 0; e < m->ps.count; e++) {
        Tensor *t = m->ps.t[e];
        if (!t->requires_grad || TH(t) * TW(t) * TC(t) == 1) continue; /* biases are [C,1,1,1] */
        for (size_t i = 0; i < tensor_numel(t); i++) t->data[i] *= 2.4;
    }
}

TEST(grad_carn_m_directional) {
    int scales[5] = {2, 3, 4, 6, 8};
    Carn *m = carn_new_heads(CARN_M, scales, 5);
    he_scale(m);
    for (int i = 0; i < 5; i++) directional(m, scales[i], 5, 4, 10 + i);
    carn_free(m);
}

TEST(grad_carn_full_directional) {
    Carn *m = carn_new(CARN_FULL, 0);
    he_scale(m);
    directional(m, 2, 4, 3, 20);
    carn_free(m);
}
