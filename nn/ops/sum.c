/* sum.c: out = sum of all elements of x (a 1x1x1x1 scalar). */
#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/reduce.h"

static void sum_block(size_t lo, size_t hi, const void *ctx, double acc[2]) {
    const real_t *x = ctx;
    double s = 0;
    for (size_t i = lo; i < hi; i++) s += x[i];
    acc[0] = s;
}

static void sum_backward(Node *n) {
    Tensor *x = n->in[0];
    if (!node_wants(n, 0)) return;
    real_t *dx = tensor_grad(x); /* [numel(x)] */
    real_t g = n->out->grad[0];
    size_t total = tensor_numel(x);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) dx[i] += g;
}

Tensor *op_sum(Tensor *x) {
    OPS_DISPATCH(sum, x->device, x);
    double s[2];
    reduce_blocks(tensor_numel(x), sum_block, x->data, s);
    Tensor *out = tensor_new(1, 1, 1, 1); /* [1,1,1,1] */
    out->data[0] = (real_t)s[0];
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(OP_SUM, sum_backward, out, x, NULL, NULL, NULL);
    return out;
}
