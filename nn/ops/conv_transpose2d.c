/* conv_transpose2d.c: transposed 2-D convolution (PyTorch ConvTranspose2d): conv2d's backward-data run forward. */
#include "nn/ops/conv_gemm.h"
#include "nn/backend.h"
#include "nn/ops/op_checks.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* A transposed conv from x [N,Cin,H,W] to y [N,Cout,OH,OW] is the adjoint of the conv from y to x
 * with the same weight [Cin,Cout/g,kh,kw] (read as a conv weight: Cin outputs, Cout/g inputs per
 * group). This is that conv's geometry for one group. */
static ConvGeom tconv_geom(const Tensor *x, const Tensor *w, ConvArgs a, int oph, int opw) {
    ConvGeom g = {.C = TC(w), .kh = TH(w), .kw = TW(w), .sh = a.stride_h, .sw = a.stride_w, .ph = a.pad_h,
                  .pw = a.pad_w, .dh = a.dil_h, .dw = a.dil_w, .OH = TH(x), .OW = TW(x)};
    g.H = (TH(x) - 1) * a.stride_h - 2 * a.pad_h + a.dil_h * (TH(w) - 1) + oph + 1;
    g.W = (TW(x) - 1) * a.stride_w - 2 * a.pad_w + a.dil_w * (TW(w) - 1) + opw + 1;
    return g;
}

static void check_args(const Tensor *x, const Tensor *w, const Tensor *b, ConvArgs a, int oph, int opw) {
    char xs[64], ws[64];
    tensor_shape_str(x, xs, sizeof xs), tensor_shape_str(w, ws, sizeof ws);
    if (a.groups < 1 || a.stride_h < 1 || a.stride_w < 1 || a.dil_h < 1 || a.dil_w < 1 || a.pad_h < 0 ||
        a.pad_w < 0 || oph < 0 || opw < 0)
        rn_die("conv_transpose2d: bad args stride %dx%d pad %dx%d dilation %dx%d groups %d output_padding %dx%d",
               a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dil_h, a.dil_w, a.groups, oph, opw);
    /* as PyTorch: output_padding must be smaller than stride or dilation */
    if ((oph >= a.stride_h && oph >= a.dil_h) || (opw >= a.stride_w && opw >= a.dil_w))
        rn_die("conv_transpose2d: output_padding %dx%d must be smaller than stride or dilation", oph, opw);
    if (TC(x) != TN(w) || TN(w) % a.groups)
        rn_die("conv_transpose2d: input %s does not fit weight %s with %d groups", xs, ws, a.groups);
    if (b && (int)tensor_numel(b) != TC(w) * a.groups)
        rn_die("conv_transpose2d: bias has %zu elements, weight %s with %d groups makes %d channels",
               tensor_numel(b), ws, a.groups, TC(w) * a.groups);
}

ConvGeom conv_transpose2d_checked_geom(const Tensor *x, const Tensor *w, const Tensor *b, ConvArgs a, int oph,
                                       int opw) {
    check_args(x, w, b, a, oph, opw);
    ConvGeom g = tconv_geom(x, w, a, oph, opw);
    if (g.H < 1 || g.W < 1) rn_die("conv_transpose2d: output size %dx%d is empty", g.H, g.W);
    /* output_padding >= stride (allowed when below dilation) adds rows the conv would map past x's
     * last row; they only ever meet zeros, so x's plane may be smaller than the conv's output */
    RN_CHECK(conv_out_size(g.H, g.kh, g.sh, g.ph, g.dh) >= g.OH && conv_out_size(g.W, g.kw, g.sw, g.pw, g.dw) >= g.OW,
             "conv_transpose2d geometry");
    return g;
}

static void conv_transpose2d_backward(Node *n) {
    Tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    ConvArgs a = {n->iarg[0], n->iarg[1], n->iarg[2], n->iarg[3], n->iarg[4], n->iarg[5], n->iarg[6]};
    ConvGeom g = tconv_geom(x, w, a, n->iarg[7] >> 16, n->iarg[7] & 0xffff);
    int N = TN(x), G = a.groups, M = TN(w) / G;
    const real_t *dy = y->grad; /* [N,Cout,OH,OW] */
    /* the adjoint of the adjoint is the conv itself: dx = conv(dy), dw as the conv's weight grad
     * with dy in the role of its input and x in the role of its output gradient */
    if (node_wants(n, 0)) conv_gemm_forward(dy, w->data, NULL, tensor_grad(x), &g, N, G, M, true); /* dx [N,Cin,H,W] */
    if (node_wants(n, 1)) conv_gemm_backward_weight(dy, x->data, tensor_grad(w), NULL, &g, N, G, M); /* dw [Cin,Cout/g,kh,kw] */
    if (b && node_wants(n, 2)) conv_bias_grad(dy, tensor_grad(b), N, TC(y), (size_t)TH(y) * TW(y)); /* db [Cout] */
}

Tensor *op_conv_transpose2d(Tensor *x, Tensor *w, Tensor *b, ConvArgs a, int out_pad_h, int out_pad_w) {
    OPS_DISPATCH(conv_transpose2d, ops_device(x, w), x, w, b, a, out_pad_h, out_pad_w);
    ConvGeom g = conv_transpose2d_checked_geom(x, w, b, a, out_pad_h, out_pad_w);
    int N = TN(x), G = a.groups, M = TN(w) / G;
    Tensor *y = tensor_new(N, g.C * G, g.H, g.W); /* [N,Cout,OH,OW] */
    conv_gemm_backward_data(x->data, w->data, y->data, &g, N, G, M, false);
    if (b) conv_bias_add(y->data, b->data, N, TC(y), (size_t)g.H * g.W);
    if (tape_wants(x, w, b, NULL)) {
        Node *n = tape_push(OP_CONV_TRANSPOSE2D, conv_transpose2d_backward, y, x, w, b, NULL);
        int args[8] = {a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dil_h, a.dil_w, a.groups,
                       out_pad_h << 16 | out_pad_w};
        for (int i = 0; i < 8; i++) n->iarg[i] = args[i];
    }
    return y;
}
