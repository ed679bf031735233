/* test_ops_loss.c: reductions and losses against PyTorch (scripts/fixtures/gen_loss.py), loss_check_finite. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "nn/ops/ops.h"
#include "tests/fixture.h"
#include "tests/test.h"
#include "util/err.h"

/* Fixture tensor `<name>_<what>` with requires_grad as asked. */
static Tensor *input(Fixture *f, const char *name, const char *what, bool grad) {
    char k[64];
    snprintf(k, sizeof k, "%s_%s", name, what);
    Tensor *t = fx_tensor(f, k);
    if (t) t->requires_grad = grad;
    return t;
}

/* Compares the loss value and, after backward, the gradient of each listed input. */
static void expect_loss(Fixture *f, const char *name, Tensor *loss, Tensor **in, const char **names, int nin) {
    char k[64];
    snprintf(k, sizeof k, "%s_loss", name);
    fx_expect(f, k, loss->data, 1, 1e-6, 1e-5);
    tape_backward(loss);
    for (int i = 0; i < nin; i++) {
        snprintf(k, sizeof k, "%s_d%s", name, names[i]);
        if (!in[i]->grad) {
            test_fail_at(__FILE__, __LINE__, "%s: no gradient reached %s", name, names[i]);
            continue;
        }
        fx_expect(f, k, in[i]->grad, tensor_numel(in[i]), 1e-7, 1e-5);
    }
    tape_clear();
}

TEST(torch_sum_mean) {
    Fixture *f = fx_open("loss.h5");
    if (!f) return;
    Tensor *x = input(f, "sum", "x", true);
    expect_loss(f, "sum", op_sum(x), &x, (const char *[]){"x"}, 1);
    x = input(f, "mean", "x", true);
    expect_loss(f, "mean", op_mean(x), &x, (const char *[]){"x"}, 1);
    fx_close(f);
}

/* uint8 labels from the fixture's float copy. */
static unsigned char *labels_of(Fixture *f, const char *name, size_t *n) {
    char k[64];
    snprintf(k, sizeof k, "%s_lab", name);
    double *d = fx_array(f, k, n);
    unsigned char *lab = arena_alloc(engine_arena(), *n);
    for (size_t i = 0; i < *n; i++) lab[i] = (unsigned char)d[i];
    return lab;
}

static void check_ce(Fixture *f, const char *name, bool weighted) {
    size_t n;
    Tensor *z = input(f, name, "z", true);
    unsigned char *lab = labels_of(f, name, &n);
    Tensor *w = weighted ? input(f, name, "w", false) : NULL;
    EXPECT(n == (size_t)TN(z) * TH(z) * TW(z), "%zu labels", n);
    expect_loss(f, name, op_cross_entropy(z, lab, 255, w ? w->data : NULL), &z, (const char *[]){"z"}, 1);
}

TEST(torch_cross_entropy) {
    Fixture *f = fx_open("loss.h5");
    if (!f) return;
    check_ce(f, "ce", false);
    check_ce(f, "cew", true);
    check_ce(f, "cebig", false); /* logits up to +-60 */
    fx_close(f);
}

TEST(cross_entropy_all_ignored_is_zero) {
    Tensor *z = tensor_zeros(1, 3, 2, 2);
    z->requires_grad = true;
    unsigned char lab[4] = {255, 255, 255, 255};
    Tensor *l = op_cross_entropy(z, lab, 255, NULL);
    EXPECT(l->data[0] == 0, "loss %g", (double)l->data[0]);
    tape_backward(l);
    for (int i = 0; i < 12; i++) EXPECT(z->grad == NULL || z->grad[i] == 0, "no gradient from ignored pixels");
}

TEST(torch_l1_mse) {
    Fixture *f = fx_open("loss.h5");
    if (!f) return;
    Tensor *ab[2] = {input(f, "l1", "a", true), input(f, "l1", "b", true)};
    expect_loss(f, "l1", op_l1_loss(ab[0], ab[1]), ab, (const char *[]){"a", "b"}, 2);
    ab[0] = input(f, "mse", "a", true), ab[1] = input(f, "mse", "b", true);
    expect_loss(f, "mse", op_mse_loss(ab[0], ab[1]), ab, (const char *[]){"a", "b"}, 2);
    fx_close(f);
}

TEST(torch_bce_focal) {
    Fixture *f = fx_open("loss.h5");
    if (!f) return;
    Tensor *x = input(f, "bce", "x", true), *t = input(f, "bce", "t", false), *w = input(f, "bce", "w", false);
    expect_loss(f, "bce", op_bce_with_logits(x, t, w->data), &x, (const char *[]){"x"}, 1);
    x = input(f, "focal", "x", true), t = input(f, "focal", "t", false);
    expect_loss(f, "focal", op_focal_loss(x, t, 0.25f, 2.0f), &x, (const char *[]){"x"}, 1);
    x = input(f, "focal_noalpha", "x", true), t = input(f, "focal_noalpha", "t", false);
    expect_loss(f, "focal_noalpha", op_focal_loss(x, t, -1, 2.0f), &x, (const char *[]){"x"}, 1);
    fx_close(f);
}

TEST(loss_check_finite_names_the_loss) {
    Tensor *l = tensor_new(1, 1, 1, 1);
    l->data[0] = 0.5f;
    EXPECT(loss_check_finite(l, "ce") == 0, "a finite loss passes");
    l->data[0] = NAN;
    EXPECT(loss_check_finite(l, "asr/ce") == -1, "NaN is refused");
    EXPECT(strstr(rn_errmsg(), "asr/ce") && strstr(rn_errmsg(), "NaN"), "message: %s", rn_errmsg());
    l->data[0] = -INFINITY;
    EXPECT(loss_check_finite(l, "l1") == -1, "Inf is refused");
    EXPECT(strstr(rn_errmsg(), "l1") && strstr(rn_errmsg(), "Inf"), "message: %s", rn_errmsg());
}

/* A huge logit must give a finite loss, not exp() overflow. */
TEST(losses_finite_at_extreme_logits) {
    Tensor *x = tensor_new(1, 2, 1, 2), *t = tensor_new(1, 2, 1, 2);
    real_t xs[4] = {-1e4f, 1e4f, 300, -300}, ts[4] = {1, 0, 0, 1};
    memcpy(x->data, xs, sizeof xs), memcpy(t->data, ts, sizeof ts);
    unsigned char lab[2] = {0, 1};
    Tensor *losses[3] = {op_bce_with_logits(x, t, NULL), op_focal_loss(x, t, 0.25f, 2), op_cross_entropy(x, lab, 255, NULL)};
    for (int i = 0; i < 3; i++) EXPECT(loss_check_finite(losses[i], "extreme") == 0, "loss %d = %g", i, (double)losses[i]->data[0]);
    EXPECT_NEAR(losses[0]->data[0], (1e4 + 1e4 + 300 + 300) / 4, 1e-2);
}

/* Same loss and gradients on one thread and on two: reductions sum fixed blocks in a fixed order. */
TEST(losses_deterministic_across_threads) {
    enum { N = 2, K = 5, H = 40, W = 64, P = N * H * W };
    Tensor *z = tensor_new(N, K, H, W), *t = tensor_new(N, K, H, W);
    for (size_t i = 0; i < tensor_numel(z); i++)
        z->data[i] = (real_t)((i * 2654435761u) % 1000) / 100 - 5, t->data[i] = (real_t)((i * 40503u) % 2);
    unsigned char *lab = arena_alloc(engine_arena(), P);
    for (int i = 0; i < P; i++) lab[i] = i % 13 == 0 ? 255 : (unsigned char)(i % K);
    z->requires_grad = true;
    int threads = omp_get_max_threads();
    real_t got[2][3];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run + 1);
        z->grad = NULL;
        Tensor *l = op_add(op_add(op_cross_entropy(z, lab, 255, NULL), op_focal_loss(z, t, 0.25f, 2)),
                           op_add(op_bce_with_logits(z, t, NULL), op_mse_loss(z, t)));
        tape_backward(l);
        got[run][0] = l->data[0], got[run][1] = z->grad[777], got[run][2] = z->grad[tensor_numel(z) - 1];
        tape_clear();
    }
    omp_set_num_threads(threads);
    for (int i = 0; i < 3; i++) EXPECT(got[0][i] == got[1][i], "1 thread %.9g, 2 threads %.9g", (double)got[0][i], (double)got[1][i]);
}
