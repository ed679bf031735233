/* prelu.c: out = x > 0 ? x : w[c] * x, one learned slope per channel (or one shared slope). */
#include "nn/ops/broadcast.h"
#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* w is [1,C,1,1] or [C,1,1,1] (PyTorch's [C]) per channel, or one element shared by all channels. */
static bool prelu_shared(const Tensor *x, const Tensor *w) {
    size_t nw = tensor_numel(w);
    int C = TC(x);
    if (nw == 1) return true;
    if (nw == (size_t)C && (TC(w) == C || TN(w) == C)) return false;
    char sx[64], sw[64];
    rn_die("prelu: slope %s does not fit input %s (want [1,%d,1,1] or [1,1,1,1])", tensor_shape_str(w, sw, 64),
           tensor_shape_str(x, sx, 64), C);
}

static void prelu_backward(Node *n) {
    Tensor *x = n->in[0], *w = n->in[1], *out = n->out;
    const real_t *dout = out->grad; /* [N,C,H,W] */
    bool shared = n->iarg[0];
    int C = TC(x);
    size_t plane = (size_t)TH(x) * TW(x);
    if (node_wants(n, 0)) {
        real_t *dx = tensor_grad(x); /* [N,C,H,W] */
#pragma omp parallel for schedule(static)
        for (int nc = 0; nc < TN(x) * C; nc++) {
            real_t a = w->data[shared ? 0 : nc % C];
            size_t off = (size_t)nc * plane;
            for (size_t i = 0; i < plane; i++) dx[off + i] += x->data[off + i] > 0 ? dout[off + i] : a * dout[off + i];
        }
    }
    if (node_wants(n, 1)) broadcast_channel_grad(x, dout, true, tensor_grad(w), shared); /* dw: [C] or [1] */
}

Tensor *op_prelu(Tensor *x, Tensor *w) {
    OPS_DISPATCH(prelu, ops_device(x, w), x, w);
    bool shared = prelu_shared(x, w);
    Tensor *out = tensor_like(x); /* [N,C,H,W] */
    int C = TC(x);
    size_t plane = (size_t)TH(x) * TW(x);
#pragma omp parallel for schedule(static)
    for (int nc = 0; nc < TN(x) * C; nc++) {
        real_t a = w->data[shared ? 0 : nc % C];
        size_t off = (size_t)nc * plane;
        for (size_t i = 0; i < plane; i++) out->data[off + i] = x->data[off + i] > 0 ? x->data[off + i] : a * x->data[off + i];
    }
    if (tape_wants(x, w, NULL, NULL)) {
        Node *n = tape_push(OP_PRELU, prelu_backward, out, x, w, NULL, NULL);
        n->iarg[0] = shared;
    }
    return out;
}
