/* mul.c: out = a * b, with per-channel and scalar broadcasting of b (the rule of op_add). */
#include "nn/ops/broadcast.h"
#include "nn/ops/ops.h"

/* Index of the b element that multiplies plane nc (= n*C + c) of a, for a broadcast b. */
static inline size_t b_index(BroadcastKind k, int nc, int C) { return k == BC_CHANNEL ? (size_t)(nc % C) : 0; }

/* part[c] = sum over n and the plane of dout * a, for channel c; one channel per thread, so the
 * order of every sum is fixed whatever the thread count (simd lanes are fixed by the build). */
static void channel_products(const Tensor *a, const real_t *dout, double *part) {
    int N = TN(a), C = TC(a);
    size_t plane = (size_t)TH(a) * TW(a);
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int n = 0; n < N; n++) {
            size_t off = ((size_t)n * C + c) * plane;
#pragma omp simd reduction(+ : s)
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
        mul_backward_broadcast(a, b, dout, k);
        return;
    }
    real_t *db = tensor_grad(b); /* [N,C,H,W] */
    /* a separate pass from da's: with mul(x, x) both gradients land in the same buffer */
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) db[i] += dout[i] * a->data[i];
}

Tensor *op_mul(Tensor *a, Tensor *b) {
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
        Node *n = tape_push("mul", mul_backward, out, a, b, NULL, NULL);
        n->iarg[0] = (int)k;
    }
    return out;
}
