/* gradcheck.c: finite differences against the tape's analytic gradients. */
#include "tests/gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/tape.h"
#include "tests/test.h"
#include "util/err.h"

void fill_uniform(Tensor *t, unsigned seed, double lo, double hi) {
    unsigned long long s = 0x9E3779B97F4A7C15ull * (seed + 1);
    size_t n = tensor_numel(t);
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        t->data[i] = (real_t)(lo + (hi - lo) * ((s >> 11) * (1.0 / 9007199254740992.0)));
    }
}

Tensor *grad_input(int n, int c, int h, int w, unsigned seed) {
    Tensor *t = tensor_new(n, c, h, w);
    fill_uniform(t, seed, -1, 1);
    t->requires_grad = true;
    return t;
}

/* An error that is NaN or infinite (a NaN/Inf gradient, or a loss that overflowed) is the worst
 * possible: as plain NaN it would compare false both with `> worst` and with `> tol` and pass. */
static double finite_or_inf(double err) { return isfinite(err) ? err : INFINITY; }

static double weighted_sum(const Tensor *out, const real_t *r) {
    double s = 0;
    size_t n = tensor_numel(out);
    for (size_t i = 0; i < n; i++) s += (double)out->data[i] * r[i];
    return s;
}

double gradcheck(const char *what, GradFn f, Tensor **in, int nin, void *ctx, double eps, double tol) {
    Arena *ar = engine_arena();
    Tensor *out = f(in, ctx);
    Tensor *rt = tensor_like(out);
    fill_uniform(rt, 4242, -1, 1);
    real_t *analytic[8];
    RN_CHECK(nin <= 8, "at most 8 inputs");
    for (int i = 0; i < nin; i++) {
        if (in[i] && in[i]->requires_grad && !in[i]->is_param) in[i]->grad = NULL;
    }
    tape_backward_seed(out, rt->data);
    for (int i = 0; i < nin; i++) {
        analytic[i] = NULL;
        if (!in[i] || !in[i]->requires_grad) continue;
        size_t n = tensor_numel(in[i]);
        analytic[i] = arena_alloc(ar, n * sizeof(real_t));
        if (in[i]->grad) memcpy(analytic[i], in[i]->grad, n * sizeof(real_t));
        else memset(analytic[i], 0, n * sizeof(real_t));
    }
    tape_clear();
    bool old = engine_set_grad(false);
    double worst = 0;
    int bad_in = -1;
    size_t bad_at = 0;
    double bad_a = 0, bad_n = 0;
    for (int i = 0; i < nin; i++) {
        if (!analytic[i]) continue;
        size_t n = tensor_numel(in[i]);
        for (size_t j = 0; j < n; j++) {
            real_t x0 = in[i]->data[j];
            ArenaMark m = arena_mark(ar);
            in[i]->data[j] = x0 + eps;
            double lp = weighted_sum(f(in, ctx), rt->data);
            arena_rewind(ar, m);
            in[i]->data[j] = x0 - eps;
            double lm = weighted_sum(f(in, ctx), rt->data);
            arena_rewind(ar, m);
            in[i]->data[j] = x0;
            double num = (lp - lm) / (2 * eps), a = analytic[i][j];
            double err = finite_or_inf(fabs(a - num) / (1 + fabs(num)));
            if (bad_in < 0 || err > worst) worst = err, bad_in = i, bad_at = j, bad_a = a, bad_n = num;
        }
    }
    engine_set_grad(old);
    if (!(worst <= tol))
        test_fail_at(__FILE__, __LINE__, "%s: gradient of input %d at element %zu: analytic %.10g, numeric %.10g (scaled err %.3g > %.3g)",
                     what, bad_in, bad_at, bad_a, bad_n, worst, tol);
    else
        printf("    %s: max scaled grad error %.2e\n", what, worst);
    return worst;
}

/* Collects the tensors to perturb: inputs that need grad, then the extra (parameter) tensors. */
static int directional_targets(Tensor **in, int nin, Tensor **extra, int nextra, Tensor **out) {
    int n = 0;
    for (int i = 0; i < nin; i++)
        if (in[i] && in[i]->requires_grad) out[n++] = in[i];
    for (int i = 0; i < nextra; i++)
        if (extra[i] && extra[i]->requires_grad) out[n++] = extra[i];
    return n;
}

static void step_all(Tensor **t, real_t **dir, int n, double s) {
    for (int i = 0; i < n; i++) {
        size_t m = tensor_numel(t[i]);
        for (size_t j = 0; j < m; j++) t[i]->data[j] += (real_t)(s * dir[i][j]);
    }
}

double gradcheck_directional(const char *what, GradFn f, Tensor **in, int nin, void *ctx, Tensor **extra,
                             int nextra, double eps, double tol) {
    Arena *ar = engine_arena();
    Tensor *tg[256];
    RN_CHECK(nin + nextra <= 256, "too many tensors");
    int nt = directional_targets(in, nin, extra, nextra, tg);
    real_t *dir[256];
    double analytic = 0;
    /* fresh gradients: parameter grads accumulate across backward calls by design */
    for (int i = 0; i < nt; i++) {
        if (!tg[i]->is_param) tg[i]->grad = NULL;
        else if (tg[i]->grad) memset(tg[i]->grad, 0, tensor_numel(tg[i]) * sizeof(real_t));
    }
    Tensor *out = f(in, ctx);
    Tensor *rt = tensor_like(out);
    fill_uniform(rt, 777, -1, 1);
    tape_backward_seed(out, rt->data);
    for (int i = 0; i < nt; i++) {
        size_t m = tensor_numel(tg[i]);
        Tensor *d = tensor_new(1, 1, 1, (int)m);
        fill_uniform(d, 1000 + i, -1, 1);
        dir[i] = d->data;
        if (tg[i]->grad)
            for (size_t j = 0; j < m; j++) analytic += (double)tg[i]->grad[j] * dir[i][j];
    }
    tape_clear();
    bool old = engine_set_grad(false);
    ArenaMark mk = arena_mark(ar);
    step_all(tg, dir, nt, eps);
    double lp = weighted_sum(f(in, ctx), rt->data);
    arena_rewind(ar, mk);
    step_all(tg, dir, nt, -2 * eps);
    double lm = weighted_sum(f(in, ctx), rt->data);
    arena_rewind(ar, mk);
    step_all(tg, dir, nt, eps);
    engine_set_grad(old);
    double num = (lp - lm) / (2 * eps);
    double err = finite_or_inf(fabs(analytic - num) / fmax(fabs(num), 1e-12));
    if (!(err <= tol))
        test_fail_at(__FILE__, __LINE__, "%s: directional derivative analytic %.12g vs numeric %.12g (rel err %.3g > %.3g)",
                     what, analytic, num, err, tol);
    else
        printf("    %s: directional derivative %.10g, rel err %.2e\n", what, num, err);
    return err;
}
