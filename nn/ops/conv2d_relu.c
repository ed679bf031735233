/* conv2d_relu.c: relu(conv2d(x, w, b)) for inference in one pass (the ReLU applied as the conv stores its output). */
#include "nn/backend.h"
#include "nn/ops/conv_fused.h"
#include "util/err.h"

/* Why not an op of its own on the tape: training needs conv2d's and relu's backward as they are,
 * so under autograd (and off the host) this is exactly op_relu(op_conv2d(...)). Without a tape the
 * fused store saves a read and a write of the whole output per conv: CARN-M's inference has a
 * ReLU after 32 of its 45 convs, the largest 44 MB at 480x360. */
Tensor *op_conv2d_relu(Tensor *x, Tensor *w, Tensor *b, ConvArgs a) {
    if (ops_device(x, w) != DEV_CPU || tape_wants(x, w, b, NULL)) return op_relu(op_conv2d(x, w, b, a));
    if (b && (int)tensor_numel(b) != TN(w))
        rn_die("conv2d_relu: bias has %zu elements, weight has %d output channels", tensor_numel(b), TN(w));
    double t = profile_begin();
    Tensor *y = conv2d_fused_forward(x, w, NULL, b ? b->data : NULL, a, true);
    profile_end(PROF_FWD, "conv2d+relu (fused)", t);
    return y;
}
