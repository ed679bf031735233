/* mse_loss.c: out = mean (a - b)^2 over all elements; b may be a constant target. */
#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/reduce.h"

typedef struct {
    const real_t *a, *b;
} MseCtx;

static void mse_block(size_t lo, size_t hi, const void *ctx, double acc[2]) {
    const MseCtx *c = ctx;
    double s = 0;
    for (size_t i = lo; i < hi; i++) {
        double d = (double)c->a[i] - (double)c->b[i];
        s += d * d;
    }
    acc[0] = s;
}

static void mse_backward(Node *n) {
    Tensor *a = n->in[0], *b = n->in[1];
    size_t total = tensor_numel(a);
    real_t g = (real_t)(2.0 * n->out->grad[0] / (double)total); /* d/da of (a-b)^2 / total, times dout */
    if (node_wants(n, 0)) {
        real_t *da = tensor_grad(a); /* [numel(a)] */
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) da[i] += g * (a->data[i] - b->data[i]);
    }
    if (node_wants(n, 1)) {
        real_t *db = tensor_grad(b); /* [numel(b)] */
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) db[i] -= g * (a->data[i] - b->data[i]);
    }
}

Tensor *op_mse_loss(Tensor *a, Tensor *b) {
    OPS_DISPATCH(mse_loss, ops_device(a, b), a, b);
    char sa[64], sb[64];
    if (!tensor_same_shape(a, b))
        rn_die("mse_loss: shapes %s and %s differ", tensor_shape_str(a, sa, sizeof sa), tensor_shape_str(b, sb, sizeof sb));
    size_t total = tensor_numel(a);
    MseCtx c = {a->data, b->data};
    double s[2];
    reduce_blocks(total, mse_block, &c, s);
    Tensor *out = tensor_new(1, 1, 1, 1); /* [1,1,1,1] */
    out->data[0] = (real_t)(s[0] / (double)total);
    if (tape_wants(a, b, NULL, NULL)) tape_push(OP_MSE_LOSS, mse_backward, out, a, b, NULL, NULL);
    return out;
}
