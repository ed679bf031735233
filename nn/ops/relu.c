/* relu.c: out = max(x, 0). */
#include "nn/backend.h"
#include "nn/ops/ops.h"

static void relu_backward(Node *n) {
    Tensor *x = n->in[0], *out = n->out;
    if (!node_wants(n, 0)) return;
    bool acc;
    real_t *dx = tensor_grad_write(x, &acc); /* [numel(x)] */
    const real_t *dout = out->grad, *y = out->data;
    size_t total = tensor_numel(out);
    /* gradient gated by the output (y > 0 iff x > 0), so x itself need not be kept alive */
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) dx[i] = (acc ? dx[i] : 0) + (y[i] > 0 ? dout[i] : 0);
}

Tensor *op_relu(Tensor *x) {
    OPS_DISPATCH(relu, x->device, x);
    Tensor *out = tensor_like(x); /* [N,C,H,W] */
    size_t total = tensor_numel(x);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) out->data[i] = x->data[i] > 0 ? x->data[i] : 0;
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(OP_RELU, relu_backward, out, x, NULL, NULL, NULL);
    return out;
}
