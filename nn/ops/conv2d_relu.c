/* conv2d_relu.c: relu(conv2d(x, w, b)) in one pass (the ReLU applied as the conv stores its output), with its own backward. */
#include "nn/backend.h"
#include "nn/ops/conv_fused.h"
#include "util/err.h"

/* Why fused: the store saves a read and a write of the whole output per conv (CARN-M has a ReLU
 * after 32 of its 45 convs, the largest 44 MB at 480x360), and in training the ReLU's backward is
 * a mask on the way into the conv's backward, not a gradient buffer of its own. */
real_t *relu_mask_grad(const real_t *dy, const real_t *y, size_t n) {
    real_t *dz = arena_alloc(engine_arena(), n * sizeof *dz);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dz[i] = y[i] > 0 ? dy[i] : 0;
    return dz;
}

static void conv2d_relu_backward(Node *n) {
    const real_t *dz = relu_mask_grad(n->out->grad, n->out->data, tensor_numel(n->out));
    conv2d_backward_from(n, dz, n->in[1]->data);
}

Tensor *op_conv2d_relu(Tensor *x, Tensor *w, Tensor *b, ConvArgs a) {
    if (ops_device(x, w) != DEV_CPU) return op_relu(op_conv2d(x, w, b, a));
    if (b && (int)tensor_numel(b) != TN(w))
        rn_die("conv2d_relu: bias has %zu elements, weight has %d output channels", tensor_numel(b), TN(w));
    double t = profile_begin();
    Tensor *y = conv2d_fused_forward(x, w, NULL, b ? b->data : NULL, a, true);
    if (tape_wants(x, w, b, NULL))
        conv2d_node_set_args(tape_push(OP_CONV2D_RELU, conv2d_relu_backward, y, x, w, b, NULL), a);
    profile_end(PROF_FWD, "conv2d+relu (fused)", t);
    return y;
}
