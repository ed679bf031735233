/* test_grad_misc.c: finite-difference checks of batch norm, the activations, mul/scale and the shape ops. */
#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

/* Moves values off the kink at 0, where piecewise-linear ops have no derivative. */
static void avoid_zero(Tensor *x) {
    for (size_t i = 0; i < tensor_numel(x); i++)
        if (x->data[i] > -0.01 && x->data[i] < 0.01) x->data[i] = 0.5;
}

typedef struct {
    Tensor *rmean, *rvar;
    bool training;
} BnCtx;

/* in[0] = x, in[1] = gamma (may be NULL), in[2] = beta (may be NULL). */
static Tensor *f_bn(Tensor **in, void *ctx) {
    BnCtx *c = ctx;
    return op_batch_norm(in[0], in[1], in[2], c->rmean, c->rvar, c->training, 0.1, 1e-5);
}

static BnCtx bn_ctx(int C, bool training) {
    BnCtx c = {tensor_new(1, C, 1, 1), tensor_new(1, C, 1, 1), training};
    fill_uniform(c.rmean, 11, -0.5, 0.5);
    fill_uniform(c.rvar, 12, 0.5, 2.0);
    return c;
}

TEST(grad_batch_norm_training) {
    BnCtx c = bn_ctx(3, true);
    Tensor *in[3] = {grad_input(2, 3, 3, 4, 1), grad_input(1, 3, 1, 1, 2), grad_input(1, 3, 1, 1, 3)};
    gradcheck("batch_norm train", f_bn, in, 3, &c, 1e-6, 1e-7);
    EXPECT(c.rmean->grad == NULL && c.rvar->grad == NULL, "running stats are buffers, no gradient");
    Tensor *bare[3] = {in[0], NULL, NULL}; /* affine=False */
    gradcheck("batch_norm train no affine", f_bn, bare, 3, &c, 1e-6, 1e-7);
}

TEST(grad_batch_norm_inference) {
    BnCtx c = bn_ctx(3, false);
    Tensor *in[3] = {grad_input(2, 3, 3, 4, 4), grad_input(1, 3, 1, 1, 5), grad_input(1, 3, 1, 1, 6)};
    gradcheck("batch_norm eval", f_bn, in, 3, &c, 1e-6, 1e-7);
    in[1]->requires_grad = in[2]->requires_grad = false; /* frozen affine: x still gets its gradient */
    in[1]->grad = in[2]->grad = NULL;
    gradcheck("batch_norm eval frozen", f_bn, in, 3, &c, 1e-6, 1e-7);
    EXPECT(in[1]->grad == NULL && in[2]->grad == NULL, "frozen gamma/beta get no gradient");
}

static Tensor *f_leaky(Tensor **in, void *ctx) { (void)ctx; return op_leaky_relu(in[0], 0.1); }
static Tensor *f_prelu(Tensor **in, void *ctx) { (void)ctx; return op_prelu(in[0], in[1]); }
static Tensor *f_sigmoid(Tensor **in, void *ctx) { (void)ctx; return op_sigmoid(in[0]); }
static Tensor *f_mul(Tensor **in, void *ctx) { (void)ctx; return op_mul(in[0], in[1]); }
static Tensor *f_scale(Tensor **in, void *ctx) { (void)ctx; return op_scale(in[0], -2.5); }

TEST(grad_leaky_relu) {
    Tensor *x = grad_input(2, 3, 4, 5, 7);
    avoid_zero(x);
    gradcheck("leaky_relu", f_leaky, &x, 1, NULL, 1e-6, 1e-7);
}

TEST(grad_prelu_channel_and_shared) {
    Tensor *in[2] = {grad_input(2, 3, 4, 5, 8), grad_input(1, 3, 1, 1, 9)};
    avoid_zero(in[0]);
    gradcheck("prelu channel", f_prelu, in, 2, NULL, 1e-6, 1e-7);
    in[1] = grad_input(1, 1, 1, 1, 10);
    gradcheck("prelu shared", f_prelu, in, 2, NULL, 1e-6, 1e-7);
}

TEST(grad_sigmoid) {
    Tensor *x = grad_input(2, 3, 4, 5, 11);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] *= 6; /* both tails of the stable form */
    gradcheck("sigmoid", f_sigmoid, &x, 1, NULL, 1e-6, 1e-7);
}

TEST(grad_mul_same_channel_scalar) {
    Tensor *in[2] = {grad_input(2, 3, 4, 5, 12), grad_input(2, 3, 4, 5, 13)};
    gradcheck("mul same", f_mul, in, 2, NULL, 1e-6, 1e-7);
    in[1] = grad_input(1, 3, 1, 1, 14);
    gradcheck("mul channel", f_mul, in, 2, NULL, 1e-6, 1e-7);
    in[1] = grad_input(1, 1, 1, 1, 15);
    gradcheck("mul scalar", f_mul, in, 2, NULL, 1e-6, 1e-7);
    in[1] = in[0]; /* x * x: both gradients accumulate into one buffer */
    gradcheck("mul square", f_mul, in, 2, NULL, 1e-6, 1e-7);
}

TEST(grad_scale) {
    Tensor *x = grad_input(2, 3, 4, 5, 16);
    gradcheck("scale", f_scale, &x, 1, NULL, 1e-6, 1e-7);
}

static Tensor *f_concat(Tensor **in, void *ctx) { return op_concat(in, *(int *)ctx); }
static Tensor *f_slice(Tensor **in, void *ctx) { (void)ctx; return op_slice_channels(in[0], 2, 3); }
static Tensor *f_shuffle(Tensor **in, void *ctx) { return op_pixel_shuffle(in[0], *(int *)ctx); }

TEST(grad_concat) {
    Tensor *in[5] = {grad_input(2, 2, 3, 4, 17), grad_input(2, 1, 3, 4, 18), grad_input(2, 3, 3, 4, 19)};
    int n = 3;
    gradcheck("concat 3", f_concat, in, n, &n, 1e-6, 1e-7);
    /* more inputs than a node has slots, one of them twice and one frozen */
    in[3] = in[0], in[4] = grad_input(2, 2, 3, 4, 20);
    in[1]->requires_grad = false;
    in[1]->grad = NULL;
    n = 5;
    gradcheck("concat 5 repeated", f_concat, in, n, &n, 1e-6, 1e-7);
    EXPECT(in[1]->grad == NULL, "frozen input gets no gradient");
}

TEST(grad_slice_channels) {
    Tensor *x = grad_input(2, 6, 3, 4, 21);
    gradcheck("slice_channels", f_slice, &x, 1, NULL, 1e-6, 1e-7);
}

TEST(grad_pixel_shuffle) {
    int r = 2;
    Tensor *x = grad_input(2, 8, 3, 4, 22);
    gradcheck("pixel_shuffle r=2", f_shuffle, &x, 1, &r, 1e-6, 1e-7);
    r = 3;
    x = grad_input(1, 18, 2, 3, 23);
    gradcheck("pixel_shuffle r=3", f_shuffle, &x, 1, &r, 1e-6, 1e-7);
}
