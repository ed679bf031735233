/* test_grad_elementwise.c: finite-difference checks of add and relu. */
#include <math.h>

#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

static Tensor *f_add(Tensor **in, void *ctx) { (void)ctx; return op_add(in[0], in[1]); }
static Tensor *f_relu(Tensor **in, void *ctx) { (void)ctx; return op_relu(in[0]); }
static Tensor *f_clamp(Tensor **in, void *ctx) { (void)ctx; return op_clamp(in[0], -0.5, 0.25); }

TEST(grad_add_same_channel_scalar) {
    Tensor *in[2] = {grad_input(2, 3, 4, 5, 1), grad_input(2, 3, 4, 5, 2)};
    gradcheck("add same", f_add, in, 2, NULL, 1e-6, 1e-7);
    in[1] = grad_input(1, 3, 1, 1, 3);
    gradcheck("add channel", f_add, in, 2, NULL, 1e-6, 1e-7);
    in[1] = grad_input(1, 1, 1, 1, 4);
    gradcheck("add scalar", f_add, in, 2, NULL, 1e-6, 1e-7);
}

TEST(grad_relu) {
    Tensor *x = grad_input(2, 3, 4, 5, 5);
    /* keep values away from the kink at 0, where the derivative is undefined */
    for (size_t i = 0; i < tensor_numel(x); i++)
        if (x->data[i] > -0.01 && x->data[i] < 0.01) x->data[i] = 0.5;
    gradcheck("relu", f_relu, &x, 1, NULL, 1e-6, 1e-7);
}

TEST(grad_frozen_input_gets_no_gradient) {
    Tensor *x = grad_input(1, 2, 3, 3, 6), *w = grad_input(1, 2, 1, 1, 7);
    w->requires_grad = false; /* frozen: gradient must still reach x, never w */
    Tensor *y = op_relu(op_add(x, w));
    real_t seed[18];
    for (int i = 0; i < 18; i++) seed[i] = 1;
    tape_backward_seed(y, seed);
    EXPECT(x->grad != NULL, "gradient reaches the input through a frozen parameter");
    EXPECT(w->grad == NULL, "frozen parameter has no gradient");
}

TEST(grad_clamp) {
    Tensor *x = grad_input(2, 3, 4, 5, 8);
    /* away from the two kinks, where the derivative jumps */
    for (size_t i = 0; i < tensor_numel(x); i++)
        if (fabs(x->data[i] + 0.5) < 0.01 || fabs(x->data[i] - 0.25) < 0.01) x->data[i] = 0;
    gradcheck("clamp", f_clamp, &x, 1, NULL, 1e-6, 1e-7);
}

static Tensor *f_add_relu(Tensor **in, void *ctx) {
    (void)ctx;
    return op_add_relu(in[0], in[1]);
}

/* The residual join relu(a + b) as one op: both inputs' gradients through the shared mask. */
TEST(grad_add_relu_fused) {
    Tensor *in[2] = {grad_input(2, 3, 4, 5, 41), grad_input(2, 3, 4, 5, 42)};
    gradcheck("add_relu", f_add_relu, in, 2, NULL, 1e-6, 1e-7);
}

static Tensor *f_add_self(Tensor **in, void *ctx) {
    (void)ctx;
    return op_add(in[0], in[0]);
}

/* x + x: both slots are the same tensor, so the second gradient must add to the first one's store. */
TEST(grad_add_same_tensor_twice) {
    Tensor *x = grad_input(2, 3, 4, 5, 43);
    gradcheck("add(x, x)", f_add_self, &x, 1, NULL, 1e-6, 1e-7);
}

typedef struct {
    Tensor *gamma, *beta, *mean, *var; /* frozen */
} BnReluCtx;

static Tensor *f_bn_relu(Tensor **in, void *ctx) {
    BnReluCtx *c = ctx;
    return op_batch_norm_relu(in[0], c->gamma, c->beta, c->mean, c->var, (real_t)1e-5);
}

/* Inference BatchNorm + ReLU fused, frozen statistics and affine: the input's gradient. */
TEST(grad_batch_norm_relu_fused) {
    BnReluCtx c;
    Tensor **p[4] = {&c.gamma, &c.beta, &c.mean, &c.var};
    for (int i = 0; i < 4; i++) *p[i] = grad_input(3, 1, 1, 1, 50 + (unsigned)i), (*p[i])->requires_grad = false;
    for (int i = 0; i < 3; i++) c.var->data[i] = (real_t)(0.5 + c.var->data[i] * c.var->data[i]);
    Tensor *x = grad_input(2, 3, 4, 5, 55);
    gradcheck("batch_norm_relu", f_bn_relu, &x, 1, &c, 1e-6, 1e-7);
}

static Tensor *f_add_relu_self(Tensor **in, void *ctx) {
    (void)ctx;
    return op_add_relu(in[0], in[0]);
}

/* relu(x + x): one tensor in both slots of the fused join. */
TEST(grad_add_relu_same_tensor_twice) {
    Tensor *x = grad_input(2, 3, 4, 5, 44);
    gradcheck("add_relu(x, x)", f_add_relu_self, &x, 1, NULL, 1e-6, 1e-7);
}

typedef struct {
    Tensor *gamma, *beta, *mean, *var, *slope; /* frozen */
} BnPreluCtx;

static Tensor *f_bn_prelu(Tensor **in, void *ctx) {
    BnPreluCtx *c = ctx;
    return op_batch_norm_prelu(in[0], c->gamma, c->beta, c->mean, c->var, (real_t)1e-5, c->slope);
}

/* Inference BatchNorm + PReLU fused, frozen: the input's gradient, slopes of both signs (a negative
 * slope makes the output's sign differ from the norm's). */
TEST(grad_batch_norm_prelu_fused) {
    BnPreluCtx c;
    Tensor **p[5] = {&c.gamma, &c.beta, &c.mean, &c.var, &c.slope};
    for (int i = 0; i < 5; i++) *p[i] = grad_input(1, 3, 1, 1, 70 + (unsigned)i), (*p[i])->requires_grad = false;
    for (int i = 0; i < 3; i++) c.var->data[i] = (real_t)(0.5 + c.var->data[i] * c.var->data[i]);
    c.slope->data[0] = (real_t)-0.4, c.slope->data[1] = (real_t)0.25;
    Tensor *x = grad_input(2, 3, 4, 5, 75);
    gradcheck("batch_norm_prelu", f_bn_prelu, &x, 1, &c, 1e-6, 1e-7);
}
