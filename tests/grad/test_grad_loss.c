/* test_grad_loss.c: finite-difference checks of the reductions and losses. */
#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

static Tensor *f_sum(Tensor **in, void *ctx) { (void)ctx; return op_sum(in[0]); }
static Tensor *f_mean(Tensor **in, void *ctx) { (void)ctx; return op_mean(in[0]); }
static Tensor *f_l1(Tensor **in, void *ctx) { (void)ctx; return op_l1_loss(in[0], in[1]); }
static Tensor *f_mse(Tensor **in, void *ctx) { (void)ctx; return op_mse_loss(in[0], in[1]); }

TEST(grad_sum_mean) {
    Tensor *x = grad_input(2, 3, 4, 5, 21);
    gradcheck("sum", f_sum, &x, 1, NULL, 1e-6, 1e-8);
    gradcheck("mean", f_mean, &x, 1, NULL, 1e-6, 1e-8);
}

TEST(grad_l1_mse) {
    Tensor *in[2] = {grad_input(2, 3, 4, 5, 22), grad_input(2, 3, 4, 5, 23)};
    /* keep a - b away from the kink of |.| at 0 */
    for (size_t i = 0; i < tensor_numel(in[0]); i++) {
        real_t d = in[0]->data[i] - in[1]->data[i];
        if (d > -0.01 && d < 0.01) in[0]->data[i] += 0.1;
    }
    gradcheck("l1", f_l1, in, 2, NULL, 1e-6, 1e-8);
    gradcheck("mse", f_mse, in, 2, NULL, 1e-6, 1e-8);
    in[1]->requires_grad = false; /* constant target */
    gradcheck("l1 constant target", f_l1, in, 2, NULL, 1e-6, 1e-8);
    gradcheck("mse constant target", f_mse, in, 2, NULL, 1e-6, 1e-8);
}

typedef struct {
    unsigned char *labels;
    real_t *weight;
    int ignore;
    Tensor *target;
    real_t alpha, gamma;
} LossCtx;

static Tensor *f_ce(Tensor **in, void *ctx) {
    LossCtx *c = ctx;
    return op_cross_entropy(in[0], c->labels, c->ignore, c->weight);
}
static Tensor *f_bce(Tensor **in, void *ctx) {
    LossCtx *c = ctx;
    return op_bce_with_logits(in[0], c->target, c->weight);
}
static Tensor *f_focal(Tensor **in, void *ctx) {
    LossCtx *c = ctx;
    return op_focal_loss(in[0], c->target, c->alpha, c->gamma);
}

TEST(grad_cross_entropy) {
    enum { N = 2, K = 4, H = 3, W = 5, P = N * H * W };
    Tensor *z = grad_input(N, K, H, W, 24);
    for (size_t i = 0; i < tensor_numel(z); i++) z->data[i] *= 3; /* a spread of confident and unsure pixels */
    unsigned char labels[P];
    real_t weight[P];
    for (int i = 0; i < P; i++) {
        labels[i] = i % 7 == 3 ? 255 : (unsigned char)((i * 5 + 1) % K);
        weight[i] = (real_t)(0.25 + 0.1 * (i % 6));
    }
    LossCtx c = {labels, NULL, 255, NULL, 0, 0};
    gradcheck("cross_entropy ignore=255", f_ce, &z, 1, &c, 1e-6, 1e-8);
    c.weight = weight;
    gradcheck("cross_entropy ignore=255 weighted", f_ce, &z, 1, &c, 1e-6, 1e-8);
    c.ignore = -1;
    for (int i = 0; i < P; i++) labels[i] %= K;
    gradcheck("cross_entropy no ignore weighted", f_ce, &z, 1, &c, 1e-6, 1e-8);
}

TEST(grad_bce_with_logits) {
    Tensor *x = grad_input(2, 3, 4, 4, 25), *t = tensor_new(2, 3, 4, 4);
    fill_uniform(t, 26, 0, 1); /* soft targets */
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] *= 4;
    real_t weight[96];
    for (int i = 0; i < 96; i++) weight[i] = (real_t)(0.5 + 0.05 * (i % 11));
    LossCtx c = {NULL, NULL, 0, t, 0, 0};
    gradcheck("bce_with_logits", f_bce, &x, 1, &c, 1e-6, 1e-8);
    c.weight = weight;
    gradcheck("bce_with_logits weighted", f_bce, &x, 1, &c, 1e-6, 1e-8);
}

TEST(grad_focal_loss) {
    Tensor *x = grad_input(2, 3, 4, 4, 27), *t = tensor_new(2, 3, 4, 4);
    for (size_t i = 0; i < tensor_numel(x); i++) {
        x->data[i] *= 4;
        t->data[i] = (real_t)(i % 3 == 0); /* binary targets */
    }
    LossCtx c = {NULL, NULL, 0, t, 0.25, 2};
    gradcheck("focal gamma=2 alpha=0.25", f_focal, &x, 1, &c, 1e-6, 1e-8);
    c.alpha = -1, c.gamma = 0.5; /* gamma < 1 exercises m^(gamma-1) */
    gradcheck("focal gamma=0.5 no alpha", f_focal, &x, 1, &c, 1e-6, 1e-8);
    c.alpha = 0.25, c.gamma = 0; /* gamma = 0: alpha-weighted BCE */
    gradcheck("focal gamma=0", f_focal, &x, 1, &c, 1e-6, 1e-8);
    fill_uniform(t, 28, 0, 1); /* soft targets */
    c.gamma = 2;
    gradcheck("focal soft targets", f_focal, &x, 1, &c, 1e-6, 1e-8);
}
