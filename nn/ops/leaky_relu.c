/* leaky_relu.c: out = x > 0 ? x : slope * x. */
#include "nn/backend.h"
#include "nn/ops/ops.h"

static void leaky_relu_backward(Node *n) {
    Tensor *x = n->in[0], *out = n->out;
    if (!node_wants(n, 0)) return;
    real_t *dx = tensor_grad(x); /* [numel(x)] */
    const real_t *dout = out->grad, *xd = x->data;
    real_t slope = (real_t)n->farg[0];
    size_t total = tensor_numel(out);
    /* gated by the input, not the output: a negative slope would flip the output's sign */
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) dx[i] += xd[i] > 0 ? dout[i] : slope * dout[i];
}

Tensor *op_leaky_relu(Tensor *x, real_t slope) {
    OPS_DISPATCH(leaky_relu, x->device, x, slope);
    Tensor *out = tensor_like(x); /* [N,C,H,W] */
    size_t total = tensor_numel(x);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) out->data[i] = x->data[i] > 0 ? x->data[i] : slope * x->data[i];
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_LEAKY_RELU, leaky_relu_backward, out, x, NULL, NULL, NULL);
        n->farg[0] = slope;
    }
    return out;
}
