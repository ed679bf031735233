/* conv2d_bn.c: batch_norm(conv2d(x)) with running statistics (+ ReLU) for inference in one pass: the norm folded into the conv. */
#include <math.h>

#include "nn/backend.h"
#include "nn/ops/conv_fused.h"
#include "util/err.h"

static void check_stats(const Tensor *w, const Tensor *gamma, const Tensor *beta, const Tensor *rmean,
                        const Tensor *rvar) {
    const Tensor *t[4] = {gamma, beta, rmean, rvar};
    for (int i = 0; i < 4; i++)
        if (t[i] && (int)tensor_numel(t[i]) != TN(w))
            rn_die("conv2d_bn: a batch-norm vector has %zu elements, the conv makes %d channels", tensor_numel(t[i]),
                   TN(w));
    if (!rmean || !rvar) rn_die("conv2d_bn: inference needs the running mean and variance");
}

/* Backward of the folded conv for the input only (the node is made only when no weight or norm
 * parameter wants a gradient): the ReLU's mask, then conv2d's backward-data with the folded
 * weights w * s, rebuilt here from the saved per-channel scale. */
static void conv2d_bn_backward(Node *n) {
    Tensor *w = n->in[1], *y = n->out;
    const real_t *s = n->saved, *dz = y->grad;
    if (n->iarg[7]) dz = relu_mask_grad(dz, y->data, tensor_numel(y));
    conv2d_backward_from(n, dz, conv_scaled_weights(w, s));
}

/* Inference BatchNorm is y = s*z + (beta - s*mean), s = gamma / sqrt(var + eps), per channel, and
 * z = conv(x, w) + b: so scaling w's rows by s and taking s*(b - mean) + beta as the bias makes
 * the conv's own store the norm (and the ReLU its max). A frozen network still fuses when only
 * its input wants a gradient (ASR through a frozen segmenter); when a weight or norm parameter
 * wants one, or off the host, this is the ops one after another. */
Tensor *op_conv2d_bn(Tensor *x, Tensor *w, Tensor *b, ConvArgs a, Tensor *gamma, Tensor *beta, Tensor *rmean,
                     Tensor *rvar, real_t eps, bool relu) {
    if (ops_device(x, w) != DEV_CPU || tape_wants(w, b, gamma, beta)) {
        Tensor *y = op_batch_norm(op_conv2d(x, w, b, a), gamma, beta, rmean, rvar, false, 0, eps);
        return relu ? op_relu(y) : y;
    }
    check_stats(w, gamma, beta, rmean, rvar);
    if (b && (int)tensor_numel(b) != TN(w))
        rn_die("conv2d_bn: bias has %zu elements, weight has %d output channels", tensor_numel(b), TN(w));
    double t = profile_begin();
    int C = TN(w);
    real_t *s = arena_alloc(engine_arena(), 2 * (size_t)C * sizeof *s), *shift = s + C;
    for (int c = 0; c < C; c++) {
        double sc = (gamma ? gamma->data[c] : 1.0) / sqrt((double)rvar->data[c] + eps);
        s[c] = (real_t)sc;
        shift[c] = (real_t)(sc * ((b ? b->data[c] : 0.0) - rmean->data[c]) + (beta ? beta->data[c] : 0.0));
    }
    Tensor *y = conv2d_fused_forward(x, w, s, shift, a, relu);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_CONV2D_BN, conv2d_bn_backward, y, x, w, NULL, NULL);
        conv2d_node_set_args(n, a);
        n->iarg[7] = relu;
        n->saved = s;
    }
    profile_end(PROF_FWD, relu ? "conv2d+bn+relu (fused)" : "conv2d+bn (fused)", t);
    return y;
}
