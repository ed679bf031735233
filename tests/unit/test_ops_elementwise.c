/* test_ops_elementwise.c: add and relu against PyTorch fixtures (scripts/fixtures/gen_elementwise.py). */
#include "nn/ops/ops.h"
#include "tests/fixture.h"
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
