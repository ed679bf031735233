/* mean.c: out = mean of all elements of x (a 1x1x1x1 scalar). */
#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/reduce.h"

static void mean_block(size_t lo, size_t hi, const void *ctx, double acc[2]) {
    const real_t *x = ctx;
    double s = 0;
    for (size_t i = lo; i < hi; i++) s += x[i];
    acc[0] = s;
}

static void mean_backward(Node *n) {
    Tensor *x = n->in[0];
    if (!node_wants(n, 0)) return;
    real_t *dx = tensor_grad(x); /* [numel(x)] */
    size_t total = tensor_numel(x);
    real_t g = (real_t)(n->out->grad[0] / (double)total);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) dx[i] += g;
}

Tensor *op_mean(Tensor *x) {
    OPS_DISPATCH(mean, x->device, x);
    double s[2];
    size_t total = tensor_numel(x);
    reduce_blocks(total, mean_block, x->data, s);
    Tensor *out = tensor_new(1, 1, 1, 1); /* [1,1,1,1] */
    out->data[0] = (real_t)(s[0] / (double)total);
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(OP_MEAN, mean_backward, out, x, NULL, NULL, NULL);
    return out;
}
