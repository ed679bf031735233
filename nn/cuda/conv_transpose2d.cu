// conv_transpose2d.cu: op_conv_transpose2d on the device — a conv's backward-data run forward, through cuDNN.
#include "nn/cuda/dnn.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
#include "nn/ops/op_checks.h"
}

// x [N,Cin,H,W] -> y [N,Cout,OH,OW] with w [Cin,Cout/g,kh,kw] is the adjoint of the conv from y's
// shape to x's with the same weight read as [Cin outputs, Cout/g inputs per group]: cv is that conv.
static CudaConv conv_of(const Tensor *x, const Tensor *w, const Tensor *b, ConvArgs a, int oph, int opw) {
    ConvGeom g = conv_transpose2d_checked_geom(x, w, b, a, oph, opw);
    return cuda_conv_of(&g, TN(x), a.groups, TN(w));
}

static void conv_transpose2d_backward(Node *n) {
    Tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    CudaConv cv = conv_of(x, w, NULL, cuda_conv_args_load(n), n->iarg[7] >> 16, n->iarg[7] & 0xffff);
    const float *dy = y->grad; // [N,Cout,OH,OW]
    // the adjoint of the adjoint is the conv itself: dx = conv(dy); dw is the conv's weight grad
    // with dy in the role of its input and x in the role of its output gradient
    if (node_wants(n, 0)) // dx [N,Cin,H,W] +=
        cuda_must(cuda_conv_forward(&cv, dy, w->data, 1.f, tensor_grad(x)), "conv_transpose2d backward (input)");
    if (node_wants(n, 1)) // dw [Cin,Cout/g,kh,kw] +=
        cuda_must(cuda_conv_backward_filter(&cv, dy, x->data, 1.f, tensor_grad(w)),
                  "conv_transpose2d backward (weight)");
    if (b && node_wants(n, 2)) // db [Cout] +=
        cuda_must(cuda_bias_grad(TN(y), TC(y), TH(y), TW(y), dy, 1.f, tensor_grad(b)),
                  "conv_transpose2d backward (bias)");
}

extern "C" Tensor *cuda_op_conv_transpose2d(Tensor *x, Tensor *w, Tensor *b, ConvArgs a, int out_pad_h,
                                            int out_pad_w) {
    cuda_need("conv_transpose2d", "x", x), cuda_need("conv_transpose2d", "w", w);
    cuda_need("conv_transpose2d", "b", b);
    CudaConv cv = conv_of(x, w, b, a, out_pad_h, out_pad_w);
    Tensor *y = tensor_new_on(DEV_CUDA, TN(x), cv.c, cv.h, cv.w); // [N,Cout,OH,OW]
    cuda_must(cuda_conv_backward_data(&cv, w->data, x->data, 0.f, y->data), "conv_transpose2d");
    if (b) cuda_must(cuda_bias_add(TN(y), TC(y), TH(y), TW(y), b->data, y->data), "conv_transpose2d (bias)");
    if (tape_wants(x, w, b, NULL)) {
        Node *n = tape_push(OP_CONV_TRANSPOSE2D, conv_transpose2d_backward, y, x, w, b, NULL);
        cuda_conv_args_save(n, a);
        n->iarg[7] = out_pad_h << 16 | out_pad_w; // as the CPU op packs them
    }
    return y;
}
