/* scale.c: out = alpha * x for a constant alpha. */
#include "nn/backend.h"
#include "nn/ops/ops.h"

static void scale_backward(Node *n) {
    Tensor *x = n->in[0], *out = n->out;
    if (!node_wants(n, 0)) return;
    real_t *dx = tensor_grad(x); /* [numel(x)] */
    const real_t *dout = out->grad;
    real_t alpha = (real_t)n->farg[0];
    size_t total = tensor_numel(out);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) dx[i] += alpha * dout[i];
}

Tensor *op_scale(Tensor *x, real_t alpha) {
    OPS_DISPATCH(scale, x->device, x, alpha);
    Tensor *out = tensor_like(x); /* [N,C,H,W] */
    size_t total = tensor_numel(x);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) out->data[i] = alpha * x->data[i];
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_SCALE, scale_backward, out, x, NULL, NULL, NULL);
        n->farg[0] = alpha;
    }
    return out;
}
