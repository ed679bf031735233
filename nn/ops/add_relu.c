/* add_relu.c: relu(a + b) for same-shape tensors in one pass (a residual block's join), with its own backward. */
#include "nn/backend.h"
#include "nn/ops/ops.h"

/* Both inputs get the output's gradient where the output is positive: one pass, two stores, instead
 * of a ReLU's gradient buffer and then an add's two copies. */
static void add_relu_backward(Node *n) {
    Tensor *out = n->out;
    size_t total = tensor_numel(out);
    const real_t *dy = out->grad, *y = out->data;
    bool wa = node_wants(n, 0), wb = node_wants(n, 1) && n->in[1] != n->in[0], acca = false, accb = false;
    real_t *da = wa ? tensor_grad_write(n->in[0], &acca) : NULL, *db = wb ? tensor_grad_write(n->in[1], &accb) : NULL;
    /* one pass: the mask read once, both gradients written (CARN's residual joins) */
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t k = 0; k < total; k++) {
        real_t g = y[k] > 0 ? dy[k] : 0;
        if (da) da[k] = (acca ? da[k] : 0) + g;
        if (db) db[k] = (accb ? db[k] : 0) + g;
    }
    if (node_wants(n, 1) && n->in[1] == n->in[0]) { /* relu(x + x): the second slot adds to the first's */
        bool acc;
        real_t *d = tensor_grad_write(n->in[1], &acc);
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t k = 0; k < total; k++) d[k] += y[k] > 0 ? dy[k] : 0;
    }
}

Tensor *op_add_relu(Tensor *a, Tensor *b) {
    if (ops_device(a, b) != DEV_CPU || !tensor_same_shape(a, b)) return op_relu(op_add(a, b));
    double t = profile_begin();
    Tensor *out = tensor_like(a); /* [N,C,H,W] */
    size_t total = tensor_numel(out);
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) {
        real_t v = a->data[i] + b->data[i];
        out->data[i] = v > 0 ? v : 0;
    }
    if (tape_wants(a, b, NULL, NULL)) tape_push(OP_ADD_RELU, add_relu_backward, out, a, b, NULL, NULL);
    profile_end(PROF_FWD, "add+relu (fused)", t);
    return out;
}
