/* test_ops_elementwise.c: add and relu against PyTorch fixtures (scripts/fixtures/gen_elementwise.py), and the fused batch_norm_relu against the ops. */
#include <math.h>

#include "nn/ops/ops.h"
#include "tests/fixture.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

TEST(torch_add_relu) {
    Fixture *f = fx_open("elementwise.h5");
    if (!f) return;
    Tensor *a = fx_tensor(f, "a"), *b = fx_tensor(f, "b");
    a->requires_grad = b->requires_grad = true;
    Tensor *y = op_relu(op_add(a, b));
    fx_expect(f, "y", y->data, tensor_numel(y), 1e-6, 1e-6);
    Tensor *seed = fx_tensor(f, "seed");
    tape_backward_seed(y, seed->data);
    fx_expect(f, "da", a->grad, tensor_numel(a), 1e-6, 1e-6);
    fx_expect(f, "db", b->grad, tensor_numel(b), 1e-6, 1e-6);
    fx_close(f);
}

TEST(torch_clamp) {
    Fixture *f = fx_open("elementwise.h5");
    if (!f) return;
    Tensor *c = fx_tensor(f, "c");
    c->requires_grad = true;
    Tensor *z = op_clamp(op_scale(c, 2), 0, 1);
    fx_expect(f, "z", z->data, tensor_numel(z), 1e-7, 1e-6);
    tape_backward_seed(z, fx_tensor(f, "seed")->data);
    fx_expect(f, "dc", c->grad, tensor_numel(c), 1e-7, 1e-6);
    fx_close(f);
}

/* op_batch_norm_relu (the norm as s*x + t in float, then the max) against op_relu(op_batch_norm(...))
 * in inference mode: the same values to float rounding, zeros in the same places but at the rounding edge. */
TEST(batch_norm_relu_fused_matches_the_ops) {
    Tensor *x = grad_input(2, 5, 7, 9, 60), *g = grad_input(5, 1, 1, 1, 61), *b = grad_input(5, 1, 1, 1, 62);
    Tensor *m = grad_input(5, 1, 1, 1, 63), *v = grad_input(5, 1, 1, 1, 64);
    for (int c = 0; c < 5; c++) v->data[c] = (real_t)(0.5 + v->data[c] * v->data[c]);
    bool old = engine_set_grad(false);
    Tensor *ref = op_relu(op_batch_norm(x, g, b, m, v, false, 0, (real_t)1e-5));
    Tensor *got = op_batch_norm_relu(x, g, b, m, v, (real_t)1e-5);
    engine_set_grad(old);
    size_t n = tensor_numel(ref), zeros = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got->data[i] - ref->data[i]) / (1 + fabs((double)ref->data[i]));
        worst = d > worst ? d : worst;
        zeros += ref->data[i] == 0;
    }
    EXPECT(worst < 1e-6, "fused differs from the ops by %.2e", worst);
    EXPECT(zeros > 0 && zeros < n, "the case should clip some values and keep others");
    engine_step_reset();
}

/* op_batch_norm_prelu against op_prelu(op_batch_norm(...)) in inference mode, per-channel and shared
 * slopes: the same values to float rounding. */
TEST(batch_norm_prelu_fused_matches_the_ops) {
    Tensor *x = grad_input(2, 5, 7, 9, 80), *g = grad_input(5, 1, 1, 1, 81), *b = grad_input(5, 1, 1, 1, 82);
    Tensor *m = grad_input(5, 1, 1, 1, 83), *v = grad_input(5, 1, 1, 1, 84);
    Tensor *slopes[2] = {grad_input(1, 5, 1, 1, 85), grad_input(1, 1, 1, 1, 86)};
    for (int c = 0; c < 5; c++) v->data[c] = (real_t)(0.5 + v->data[c] * v->data[c]);
    for (int k = 0; k < 2; k++) {
        bool old = engine_set_grad(false);
        Tensor *ref = op_prelu(op_batch_norm(x, g, b, m, v, false, 0, (real_t)1e-5), slopes[k]);
        Tensor *got = op_batch_norm_prelu(x, g, b, m, v, (real_t)1e-5, slopes[k]);
        engine_set_grad(old);
        double worst = 0;
        for (size_t i = 0; i < tensor_numel(ref); i++) {
            double d = fabs((double)got->data[i] - ref->data[i]) / (1 + fabs((double)ref->data[i]));
            worst = d > worst ? d : worst;
        }
        EXPECT(worst < 1e-6, "slope %s: fused differs from the ops by %.2e", k ? "shared" : "per channel", worst);
    }
    engine_step_reset();
}
