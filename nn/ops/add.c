/* add.c: out = a + b, with per-channel and scalar broadcasting of b. */
#include "nn/ops/broadcast.h"
#include "nn/backend.h"
#include "nn/ops/ops.h"

/* d (=|+=) dout over n elements: the gradient of a same-shape input (its first use stores). */
static void pass_through(Tensor *t, const real_t *dout, size_t n) {
    bool acc;
    real_t *d = tensor_grad_write(t, &acc); /* [n] */
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) d[i] = (acc ? d[i] : 0) + dout[i];
}

static void add_backward(Node *n) {
    Tensor *a = n->in[0], *b = n->in[1], *out = n->out;
    const real_t *dout = out->grad; /* [numel(out)] */
    size_t total = tensor_numel(out), plane = (size_t)TH(out) * TW(out);
    BroadcastKind k = (BroadcastKind)n->iarg[0];
    if (node_wants(n, 0)) pass_through(a, dout, total);
    if (!node_wants(n, 1)) return;
    if (k == BC_SAME) { /* same shape: stores or adds like a (b may be a itself: then it adds) */
        pass_through(b, dout, total);
        return;
    }
    real_t *db = tensor_grad(b); /* [numel(b)] */
    /* serial on purpose: broadcast targets are shared, and a fixed order keeps sums deterministic */
    for (size_t i = 0; i < total; i++) db[broadcast_index(k, i, plane, TC(out))] += dout[i];
}

Tensor *op_add(Tensor *a, Tensor *b) {
    OPS_DISPATCH(add, ops_device(a, b), a, b);
    BroadcastKind k = broadcast_kind("add", a, b);
    Tensor *out = tensor_like(a); /* [N,C,H,W] */
    size_t total = tensor_numel(out), plane = (size_t)TH(a) * TW(a);
    int C = TC(a);
    if (k == BC_SAME) {
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) out->data[i] = a->data[i] + b->data[i];
    } else {
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) out->data[i] = a->data[i] + b->data[broadcast_index(k, i, plane, C)];
    }
    if (tape_wants(a, b, NULL, NULL)) {
        Node *n = tape_push(OP_ADD, add_backward, out, a, b, NULL, NULL);
        n->iarg[0] = (int)k;
    }
    return out;
}
