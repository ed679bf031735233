/* mul.c: out = a * b, with per-channel and scalar broadcasting of b (the rule of op_add). */
#include "nn/ops/broadcast.h"
#include "nn/backend.h"
#include "nn/ops/ops.h"

/* Index of the b element that multiplies plane nc (= n*C + c) of a, for a broadcast b. */
static inline size_t b_index(BroadcastKind k, int nc, int C) { return k == BC_CHANNEL ? (size_t)(nc % C) : 0; }

/* da = dout * b, b broadcast or not. */
static void mul_backward_a(Tensor *a, const Tensor *b, const real_t *dout, BroadcastKind k) {
    real_t *da = tensor_grad(a); /* [N,C,H,W] */
    size_t total = tensor_numel(a), plane = (size_t)TH(a) * TW(a);
    int NC = TN(a) * TC(a);
    if (k == BC_SAME) {
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) da[i] += dout[i] * b->data[i];
        return;
    }
#pragma omp parallel for schedule(static) if (total > 65536)
    for (int nc = 0; nc < NC; nc++) {
        real_t bv = b->data[b_index(k, nc, TC(a))];
        size_t off = (size_t)nc * plane;
        for (size_t i = 0; i < plane; i++) da[off + i] += dout[off + i] * bv;
    }
}

static void mul_backward(Node *n) {
    Tensor *a = n->in[0], *b = n->in[1], *out = n->out;
    const real_t *dout = out->grad; /* [N,C,H,W] */
    BroadcastKind k = (BroadcastKind)n->iarg[0];
    size_t total = tensor_numel(out);
    if (node_wants(n, 0)) mul_backward_a(a, b, dout, k);
    if (!node_wants(n, 1)) return;
    if (k != BC_SAME) {
        broadcast_channel_grad(a, dout, false, tensor_grad(b), k == BC_SCALAR); /* db: [C] or [1] */
        return;
    }
    real_t *db = tensor_grad(b); /* [N,C,H,W] */
    /* a separate pass from da's: with mul(x, x) both gradients land in the same buffer */
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) db[i] += dout[i] * a->data[i];
}

Tensor *op_mul(Tensor *a, Tensor *b) {
    OPS_DISPATCH(mul, ops_device(a, b), a, b);
    BroadcastKind k = broadcast_kind("mul", a, b);
    Tensor *out = tensor_like(a); /* [N,C,H,W] */
    size_t total = tensor_numel(out), plane = (size_t)TH(a) * TW(a);
    int NC = TN(a) * TC(a);
    if (k == BC_SAME) {
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) out->data[i] = a->data[i] * b->data[i];
    } else {
#pragma omp parallel for schedule(static) if (total > 65536)
        for (int nc = 0; nc < NC; nc++) {
            real_t bv = b->data[b_index(k, nc, TC(a))];
            size_t off = (size_t)nc * plane;
            for (size_t i = 0; i < plane; i++) out->data[off + i] = a->data[off + i] * bv;
        }
    }
    if (tape_wants(a, b, NULL, NULL)) {
        Node *n = tape_push(OP_MUL, mul_backward, out, a, b, NULL, NULL);
        n->iarg[0] = (int)k;
    }
    return out;
}
