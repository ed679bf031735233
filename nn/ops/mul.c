/* mul.c: out = a * b, with per-channel and scalar broadcasting of b (the rule of op_add). */
#include "nn/ops/broadcast.h"
#include "nn/ops/ops.h"

/* part[c] = sum over n and the plane of dout * a, for channel c; one channel per thread, so the
 * order of every sum is fixed whatever the thread count. */
static void channel_products(const Tensor *a, const real_t *dout, double *part) {
    int N = TN(a), C = TC(a);
    size_t plane = (size_t)TH(a) * TW(a);
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int n = 0; n < N; n++) {
            size_t off = ((size_t)n * C + c) * plane;
            for (size_t i = 0; i < plane; i++) s += (double)dout[off + i] * a->data[off + i];
        }
        part[c] = s;
    }
}

/* db for a broadcast b: per-channel sums of dout * a, then folded to one value for a scalar b. */
static void mul_backward_broadcast(const Tensor *a, Tensor *b, const real_t *dout, BroadcastKind k) {
    int C = TC(a);
    double *part = arena_alloc(engine_arena(), (size_t)C * sizeof(double)); /* [C] */
    channel_products(a, dout, part);
    real_t *db = tensor_grad(b); /* [C] or [1] */
    if (k == BC_CHANNEL) {
        for (int c = 0; c < C; c++) db[c] += (real_t)part[c];
        return;
    }
    double s = 0;
    for (int c = 0; c < C; c++) s += part[c];
    db[0] += (real_t)s;
}

static void mul_backward(Node *n) {
    Tensor *a = n->in[0], *b = n->in[1], *out = n->out;
    const real_t *dout = out->grad; /* [numel(out)] */
    BroadcastKind k = (BroadcastKind)n->iarg[0];
    size_t total = tensor_numel(out), plane = (size_t)TH(out) * TW(out);
    int C = TC(out);
    if (node_wants(n, 0)) {
        real_t *da = tensor_grad(a); /* [numel(a)] */
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) da[i] += dout[i] * b->data[broadcast_index(k, i, plane, C)];
    }
    if (!node_wants(n, 1)) return;
    if (k != BC_SAME) {
        mul_backward_broadcast(a, b, dout, k);
        return;
    }
    real_t *db = tensor_grad(b); /* [numel(b)] */
    /* a separate pass from da's: with mul(x, x) both gradients land in the same buffer */
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) db[i] += dout[i] * a->data[i];
}

Tensor *op_mul(Tensor *a, Tensor *b) {
    BroadcastKind k = broadcast_kind("mul", a, b);
    Tensor *out = tensor_like(a); /* [N,C,H,W] */
    size_t total = tensor_numel(out), plane = (size_t)TH(a) * TW(a);
    int C = TC(a);
    if (k == BC_SAME) {
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) out->data[i] = a->data[i] * b->data[i];
    } else {
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) out->data[i] = a->data[i] * b->data[broadcast_index(k, i, plane, C)];
    }
    if (tape_wants(a, b, NULL, NULL)) {
        Node *n = tape_push("mul", mul_backward, out, a, b, NULL, NULL);
        n->iarg[0] = (int)k;
    }
    return out;
}
