/* add_relu.c: relu(a + b) for same-shape tensors in one pass (a residual block's join), with its own backward. */
#include "nn/backend.h"
#include "nn/ops/conv_fused.h"
#include "nn/ops/ops.h"

/* Both inputs get the output's gradient where the output is positive: one mask, two stores, instead
 * of a ReLU's gradient buffer and then an add's two copies. */
static void add_relu_backward(Node *n) {
    Tensor *out = n->out;
    size_t total = tensor_numel(out);
    const real_t *dz = relu_mask_grad(out->grad, out->data, total);
    for (int i = 0; i < 2; i++) {
        if (!node_wants(n, i)) continue;
        bool acc;
        real_t *d = tensor_grad_write(n->in[i], &acc); /* [numel(out)] */
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t k = 0; k < total; k++) d[k] = (acc ? d[k] : 0) + dz[k];
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
