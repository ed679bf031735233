/* batch_norm_relu.c: relu(batch_norm(x)) with running statistics (inference) in one pass, with its own backward to x. */
#include "nn/backend.h"
#include "nn/ops/bn_fold.h"
#include "nn/ops/op_checks.h"
#include "nn/ops/ops.h"

/* dx (=|+=) s[c] * dy where y > 0: the frozen norm's gradient to its input through the ReLU. */
static void batch_norm_relu_backward(Node *n) {
    if (!node_wants(n, 0)) return;
    Tensor *x = n->in[0], *y = n->out;
    const real_t *s = n->saved, *dy = y->grad;
    int C = TC(x), NC = TN(x) * C;
    size_t plane = (size_t)TH(x) * TW(x);
    bool acc;
    real_t *dx = tensor_grad_write(x, &acc); /* [N,C,H,W] */
#pragma omp parallel for schedule(static) if ((size_t)NC * plane > 65536)
    for (int nc = 0; nc < NC; nc++) {
        real_t k = s[nc % C], *d = dx + (size_t)nc * plane;
        const real_t *g = dy + (size_t)nc * plane, *o = y->data + (size_t)nc * plane;
        for (size_t i = 0; i < plane; i++) d[i] = (acc ? d[i] : 0) + (o[i] > 0 ? k * g[i] : 0);
    }
}

/* Why: a pre-activation block (SwiftNet's upsampling path: BN, ReLU, conv) made two passes and two
 * buffers of what is one affine map and a max per element. The norm is y = s*x + t with
 * s = gamma / sqrt(var + eps), t = beta - s*mean, in float (op_batch_norm rounds through double:
 * the two differ in the last bits). When gamma or beta want a gradient, or off the host, it is the
 * two ops. */
Tensor *op_batch_norm_relu(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar, real_t eps) {
    if (x->device != DEV_CPU || tape_wants(gamma, beta, NULL, NULL))
        return op_relu(op_batch_norm(x, gamma, beta, rmean, rvar, false, 0, eps));
    batch_norm_check(x, gamma, beta, rmean, rvar, false);
    double t0 = profile_begin();
    int C = TC(x), NC = TN(x) * C;
    size_t plane = (size_t)TH(x) * TW(x);
    real_t *s = arena_alloc(engine_arena(), 2 * (size_t)C * sizeof *s), *t = s + C;
    bn_fold(gamma, beta, rmean, rvar, eps, C, s, t);
    Tensor *y = tensor_like(x); /* [N,C,H,W] */
#pragma omp parallel for schedule(static) if ((size_t)NC * plane > 65536)
    for (int nc = 0; nc < NC; nc++) {
        real_t k = s[nc % C], b = t[nc % C], *o = y->data + (size_t)nc * plane;
        const real_t *xp = x->data + (size_t)nc * plane;
        for (size_t i = 0; i < plane; i++) {
            real_t v = k * xp[i] + b;
            o[i] = v > 0 ? v : 0;
        }
    }
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(OP_BATCH_NORM_RELU, batch_norm_relu_backward, y, x, NULL, NULL, NULL)->saved = s;
    profile_end(PROF_FWD, "batch_norm+relu (fused)", t0);
    return y;
}
