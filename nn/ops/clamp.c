/* clamp.c: out = min(max(x, lo), hi); the gradient passes where lo < x < hi (torch.clamp). */
#include "nn/backend.h"
#include "nn/ops/ops.h"

static void clamp_backward(Node *n) {
    if (!node_wants(n, 0)) return;
    Tensor *x = n->in[0];
    real_t lo = (real_t)n->farg[0], hi = (real_t)n->farg[1];
    real_t *dx = tensor_grad(x); /* [numel(x)] */
    const real_t *dout = n->out->grad;
    size_t total = tensor_numel(x);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) dx[i] += x->data[i] > lo && x->data[i] < hi ? dout[i] : 0;
}

Tensor *op_clamp(Tensor *x, real_t lo, real_t hi) {
    OPS_DISPATCH(clamp, x->device, x, lo, hi);
    Tensor *out = tensor_like(x); /* [N,C,H,W] */
    size_t total = tensor_numel(x);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) out->data[i] = x->data[i] < lo ? lo : x->data[i] > hi ? hi : x->data[i];
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_CLAMP, clamp_backward, out, x, NULL, NULL, NULL);
        n->farg[0] = lo, n->farg[1] = hi;
    }
    return out;
}
