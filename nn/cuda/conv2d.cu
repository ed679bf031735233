// conv2d.cu: op_conv2d on the device — cuDNN forward; backward data, filter and bias on the tape.
#include "nn/cuda/dnn.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
#include "nn/ops/op_checks.h"
}

// The cuDNN geometry of the node's conv: x [N,Cin,H,W] * w [Cout,Cin/g,kh,kw] -> y [N,Cout,OH,OW].
static CudaConv conv_of(const Tensor *x, const Tensor *w, ConvArgs a) {
    ConvGeom g = conv2d_checked_geom(x, w, NULL, a);
    return cuda_conv_of(&g, TN(x), a.groups, TN(w));
}

static void conv2d_backward(Node *n) {
    Tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    CudaConv cv = conv_of(x, w, cuda_conv_args_load(n));
    const float *dy = y->grad; // [N,Cout,OH,OW]
    if (node_wants(n, 0))      // dx [N,Cin,H,W] +=
        cuda_must(cuda_conv_backward_data(&cv, w->data, dy, 1.f, tensor_grad(x)), "conv2d backward (input)");
    if (node_wants(n, 1)) // dw [Cout,Cin/g,kh,kw] +=
        cuda_must(cuda_conv_backward_filter(&cv, x->data, dy, 1.f, tensor_grad(w)), "conv2d backward (weight)");
    if (b && node_wants(n, 2)) // db [Cout] +=
        cuda_must(cuda_bias_grad(TN(y), TC(y), TH(y), TW(y), dy, 1.f, tensor_grad(b)), "conv2d backward (bias)");
}

extern "C" Tensor *cuda_op_conv2d(Tensor *x, Tensor *w, Tensor *b, ConvArgs a) {
    cuda_need("conv2d", "x", x), cuda_need("conv2d", "w", w), cuda_need("conv2d", "b", b);
    ConvGeom g = conv2d_checked_geom(x, w, b, a);
    CudaConv cv = cuda_conv_of(&g, TN(x), a.groups, TN(w));
    Tensor *y = tensor_new_on(DEV_CUDA, TN(x), TN(w), g.OH, g.OW); // [N,Cout,OH,OW]
    cuda_must(cuda_conv_forward(&cv, x->data, w->data, 0.f, y->data), "conv2d");
    if (b) cuda_must(cuda_bias_add(TN(y), TC(y), g.OH, g.OW, b->data, y->data), "conv2d (bias)");
    if (tape_wants(x, w, b, NULL)) {
        Node *n = tape_push(OP_CONV2D, conv2d_backward, y, x, w, b, NULL);
        cuda_conv_args_save(n, a);
    }
    return y;
}
