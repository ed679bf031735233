/* conv2d.c: 2-D convolution (stride, padding, dilation, groups, optional bias) as im2col + GEMM. */
#include "nn/ops/conv_gemm.h"
#include "nn/ops/conv_fused.h"
#include "nn/backend.h"
#include "nn/ops/op_checks.h"
#include "nn/ops/ops.h"
#include "util/err.h"

ConvArgs conv_args(int s, int p, int d, int g) {
    return (ConvArgs){.stride_h = s, .stride_w = s, .pad_h = p, .pad_w = p, .dil_h = d, .dil_w = d, .groups = g};
}

/* One group's geometry of x [N,Cin,H,W] convolved with w [Cout,Cin/g,kh,kw]. */
static ConvGeom conv2d_geom(const Tensor *x, const Tensor *w, ConvArgs a) {
    ConvGeom g = {.C = TC(x) / a.groups, .H = TH(x), .W = TW(x), .kh = TH(w), .kw = TW(w),
                  .sh = a.stride_h, .sw = a.stride_w, .ph = a.pad_h, .pw = a.pad_w, .dh = a.dil_h, .dw = a.dil_w};
    g.OH = conv_out_size(g.H, g.kh, g.sh, g.ph, g.dh);
    g.OW = conv_out_size(g.W, g.kw, g.sw, g.pw, g.dw);
    return g;
}

static void check_args(const Tensor *x, const Tensor *w, const Tensor *b, ConvArgs a) {
    char xs[64], ws[64];
    tensor_shape_str(x, xs, sizeof xs), tensor_shape_str(w, ws, sizeof ws);
    if (a.groups < 1 || a.stride_h < 1 || a.stride_w < 1 || a.dil_h < 1 || a.dil_w < 1 || a.pad_h < 0 ||
        a.pad_w < 0)
        rn_die("conv2d: bad args stride %dx%d pad %dx%d dilation %dx%d groups %d", a.stride_h, a.stride_w,
               a.pad_h, a.pad_w, a.dil_h, a.dil_w, a.groups);
    if (TC(x) % a.groups || TN(w) % a.groups || TC(w) * a.groups != TC(x))
        rn_die("conv2d: input %s does not fit weight %s with %d groups", xs, ws, a.groups);
    if (b && (int)tensor_numel(b) != TN(w))
        rn_die("conv2d: bias has %zu elements, weight %s has %d output channels", tensor_numel(b), ws, TN(w));
}

ConvGeom conv2d_checked_geom(const Tensor *x, const Tensor *w, const Tensor *b, ConvArgs a) {
    check_args(x, w, b, a);
    ConvGeom g = conv2d_geom(x, w, a);
    if (g.OH < 1 || g.OW < 1)
        rn_die("conv2d: %dx%d kernel (dilation %d) does not fit a %dx%d input padded by %d", g.kh, g.kw, g.dh, g.H,
               g.W, g.ph);
    return g;
}

void conv2d_backward_from(const Node *n, const real_t *dy, const real_t *w) {
    Tensor *x = n->in[0], *wt = n->in[1], *b = n->in[2];
    ConvArgs a = conv2d_node_args(n);
    ConvGeom g = conv2d_geom(x, wt, a);
    int N = TN(x), G = a.groups, M = TN(wt) / G;
    if (node_wants(n, 0)) { /* dx [N,Cin,H,W] */
        bool acc;
        real_t *dx = tensor_grad_write(x, &acc);
        conv_gemm_backward_data(dy, w, dx, &g, N, G, M, acc);
    }
    real_t *db = b && node_wants(n, 2) ? tensor_grad(b) : NULL; /* db [Cout] */
    if (node_wants(n, 1)) conv_gemm_backward_weight(x->data, dy, tensor_grad(wt), db, &g, N, G, M); /* dw [Cout,Cin/g,kh,kw] */
    else if (db) conv_bias_grad(dy, db, N, TN(wt), (size_t)g.OH * g.OW);
}

static void conv2d_backward(Node *n) { conv2d_backward_from(n, n->out->grad, n->in[1]->data); }

void conv2d_node_set_args(Node *n, ConvArgs a) {
    int args[7] = {a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dil_h, a.dil_w, a.groups};
    for (int i = 0; i < 7; i++) n->iarg[i] = args[i];
}

ConvArgs conv2d_node_args(const Node *n) {
    return (ConvArgs){n->iarg[0], n->iarg[1], n->iarg[2], n->iarg[3], n->iarg[4], n->iarg[5], n->iarg[6]};
}

Tensor *op_conv2d(Tensor *x, Tensor *w, Tensor *b, ConvArgs a) {
    OPS_DISPATCH(conv2d, ops_device(x, w), x, w, b, a);
    ConvGeom g = conv2d_checked_geom(x, w, b, a);
    int N = TN(x), G = a.groups, M = TN(w) / G;
    Tensor *y = tensor_new(N, TN(w), g.OH, g.OW); /* [N,Cout,OH,OW] */
    conv_gemm_forward(x->data, w->data, b ? b->data : NULL, y->data, &g, N, G, M, false);
    if (tape_wants(x, w, b, NULL)) conv2d_node_set_args(tape_push(OP_CONV2D, conv2d_backward, y, x, w, b, NULL), a);
    return y;
}
