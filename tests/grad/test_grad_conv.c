/* test_grad_conv.c: finite-difference checks of conv2d and conv_transpose2d (all inputs, many argument combinations). */
#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

typedef struct {
    ConvArgs a;
    int out_pad; /* transposed only */
} Ctx;

static Tensor *f_conv(Tensor **in, void *ctx) {
    Ctx *c = ctx;
    return op_conv2d(in[0], in[1], in[2], c->a);
}

static Tensor *f_tconv(Tensor **in, void *ctx) {
    Ctx *c = ctx;
    return op_conv_transpose2d(in[0], in[1], in[2], c->a, c->out_pad, c->out_pad);
}

/* x [n,ci,h,w], weight [wo,wi,kh,kw], bias of nb elements (0 = none). */
static void check(const char *what, GradFn f, Ctx c, int n, int ci, int h, int w, int wo, int wi, int kh, int kw,
                  int nb) {
    Tensor *in[3] = {grad_input(n, ci, h, w, 1), grad_input(wo, wi, kh, kw, 2), nb ? grad_input(nb, 1, 1, 1, 3) : NULL};
    gradcheck(what, f, in, 3, &c, 1e-6, 1e-7);
}

TEST(grad_conv2d_stride_pad_bias) {
    check("stride 2 pad 1", f_conv, (Ctx){conv_args(2, 1, 1, 1), 0}, 2, 3, 6, 5, 4, 3, 3, 3, 4);
}

TEST(grad_conv2d_dilation_no_bias) {
    check("dilation 2 pad 2", f_conv, (Ctx){conv_args(1, 2, 2, 1), 0}, 1, 2, 7, 7, 3, 2, 3, 3, 0);
}

TEST(grad_conv2d_groups) {
    check("groups 2", f_conv, (Ctx){conv_args(1, 1, 1, 2), 0}, 2, 4, 5, 5, 6, 2, 3, 3, 6);
    check("depthwise stride 2", f_conv, (Ctx){conv_args(2, 1, 1, 3), 0}, 1, 3, 5, 5, 3, 1, 3, 3, 3);
}

TEST(grad_conv2d_pointwise) {
    check("1x1", f_conv, (Ctx){conv_args(1, 0, 1, 1), 0}, 2, 3, 4, 4, 5, 3, 1, 1, 5);
    check("1x1 stride 2", f_conv, (Ctx){conv_args(2, 0, 1, 1), 0}, 2, 3, 5, 5, 2, 3, 1, 1, 0);
}

TEST(grad_conv2d_asymmetric) {
    ConvArgs a = {.stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 0, .dil_h = 1, .dil_w = 2, .groups = 1};
    check("3x2 kernel, stride 2x1, pad 1x0, dilation 1x2", f_conv, (Ctx){a, 0}, 1, 2, 6, 7, 3, 2, 3, 2, 3);
}

TEST(grad_conv_transpose2d) {
    check("transposed stride 2 output_padding 1", f_tconv, (Ctx){conv_args(2, 1, 1, 1), 1}, 1, 4, 3, 3, 4, 3, 3, 3, 3);
    check("transposed groups 2 dilation 2", f_tconv, (Ctx){conv_args(1, 1, 2, 2), 1}, 2, 4, 3, 3, 4, 2, 3, 3, 0);
    check("transposed 1x1", f_tconv, (Ctx){conv_args(1, 0, 1, 1), 0}, 2, 3, 3, 2, 3, 4, 1, 1, 4);
}

TEST(grad_conv2d_frozen_weight) {
    Tensor *x = grad_input(1, 2, 4, 4, 4), *w = grad_input(3, 2, 3, 3, 5);
    w->requires_grad = false; /* frozen task model: gradient reaches x, never w */
    Tensor *y = op_conv2d(x, w, NULL, conv_args(1, 1, 1, 1));
    real_t seed[48];
    for (int i = 0; i < 48; i++) seed[i] = 1;
    tape_backward_seed(y, seed);
    EXPECT(x->grad != NULL, "gradient reaches the input through a frozen conv");
    EXPECT(w->grad == NULL, "frozen weight has no gradient");
}

static Tensor *f_conv_relu(Tensor **in, void *ctx) {
    Ctx *c = ctx;
    return op_conv2d_relu(in[0], in[1], in[2], c->a);
}

/* The fused conv + ReLU records a node of its own under autograd (the ReLU's mask inside the
 * conv's backward): every input, on a case where some outputs clip and others do not. */
TEST(grad_conv2d_relu_fused) {
    check("conv2d_relu stride 1 pad 1", f_conv_relu, (Ctx){conv_args(1, 1, 1, 1), 0}, 2, 3, 6, 5, 4, 3, 3, 3, 4);
    check("conv2d_relu stride 2 groups 2", f_conv_relu, (Ctx){conv_args(2, 1, 1, 2), 0}, 1, 4, 7, 6, 4, 2, 3, 3, 0);
}

typedef struct {
    ConvArgs a;
    Tensor *w, *b, *gamma, *beta, *mean, *var; /* frozen */
    bool relu;
} BnCtx;

static Tensor *f_conv_bn(Tensor **in, void *ctx) {
    BnCtx *c = ctx;
    return op_conv2d_bn(in[0], c->w, c->b, c->a, c->gamma, c->beta, c->mean, c->var, (real_t)1e-5, c->relu);
}

/* A frozen conv + inference BatchNorm (+ ReLU) fuses even when its input wants a gradient (ASR
 * through a frozen segmenter): the input's gradient through the folded weights. */
TEST(grad_conv2d_bn_fused_input) {
    for (int relu = 0; relu < 2; relu++) {
        BnCtx c = {.a = conv_args(1 + relu, 1, 1, 1), .relu = relu};
        Tensor **p[6] = {&c.w, &c.b, &c.gamma, &c.beta, &c.mean, &c.var};
        for (int i = 0; i < 6; i++) {
            *p[i] = i ? grad_input(4, 1, 1, 1, 20 + (unsigned)i) : grad_input(4, 3, 3, 3, 20);
            (*p[i])->requires_grad = false;
        }
        for (int i = 0; i < 4; i++) c.var->data[i] = (real_t)(0.5 + c.var->data[i] * c.var->data[i]);
        Tensor *x = grad_input(2, 3, 6, 5, 30 + (unsigned)relu);
        gradcheck(relu ? "conv2d_bn relu stride 2" : "conv2d_bn stride 1", f_conv_bn, &x, 1, &c, 1e-6, 1e-7);
    }
}
