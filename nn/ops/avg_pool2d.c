/* avg_pool2d.c: average pooling (kernel k, stride s, padding p), count_include_pad=True. */
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/pool_backward.h"
#include "util/err.h"

/* PyTorch's window for output o on an axis of length L: the divisor counts padding positions but
 * not positions beyond the padded edge; [*lo, *hi) is the part inside the input. */
static int window(int o, int s, int p, int k, int L, int *lo, int *hi) {
    int a = o * s - p, b = a + k < L + p ? a + k : L + p, size = b - a;
    *lo = a > 0 ? a : 0, *hi = b < L ? b : L;
    return size;
}

static void avg_plane(const real_t *in, int H, int W, real_t *out, int OH, int OW, int k, int s, int p) {
    for (int oy = 0; oy < OH; oy++) {
        int y0, y1, ny = window(oy, s, p, k, H, &y0, &y1);
        for (int ox = 0; ox < OW; ox++) {
            int x0, x1, nx = window(ox, s, p, k, W, &x0, &x1);
            double sum = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) sum += in[y * W + x];
            out[oy * OW + ox] = (real_t)(sum / ((double)ny * nx));
        }
    }
}

static void avg_plane_backward(const real_t *go, int OH, int OW, double *acc, int H, int W, int k, int s, int p) {
    for (int oy = 0; oy < OH; oy++) {
        int y0, y1, ny = window(oy, s, p, k, H, &y0, &y1);
        for (int ox = 0; ox < OW; ox++) {
            int x0, x1, nx = window(ox, s, p, k, W, &x0, &x1);
            double g = go[oy * OW + ox] / ((double)ny * nx);
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) acc[y * W + x] += g;
        }
    }
}

static void avg_pool_plane_backward(const Node *n, int q, const real_t *go, double *acc) {
    (void)q;
    const Tensor *x = n->in[0], *out = n->out;
    avg_plane_backward(go, TH(out), TW(out), acc, TH(x), TW(x), n->iarg[0], n->iarg[1], n->iarg[2]);
}

static void avg_pool_backward(Node *n) { pool_backward(n, avg_pool_plane_backward); }

Tensor *op_avg_pool2d(Tensor *x, int k, int s, int p) {
    OPS_DISPATCH(avg_pool2d, x->device, x, k, s, p);
    RN_CHECK(k >= 1 && s >= 1 && p >= 0 && p <= k / 2, "avg_pool2d: kernel %d stride %d padding %d (padding at most k/2)", k, s, p);
    int H = TH(x), W = TW(x), OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
    RN_CHECK(H + 2 * p >= k && W + 2 * p >= k, "avg_pool2d: input %dx%d smaller than kernel %d", H, W, k);
    int planes = TN(x) * TC(x);
    Tensor *out = tensor_new(TN(x), TC(x), OH, OW); /* [N,C,OH,OW] */
#pragma omp parallel for schedule(static) if (planes > 1 && tensor_numel(x) > 16384)
    for (int q = 0; q < planes; q++)
        avg_plane(x->data + (size_t)q * H * W, H, W, out->data + (size_t)q * OH * OW, OH, OW, k, s, p);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_AVG_POOL2D, avg_pool_backward, out, x, NULL, NULL, NULL);
        n->iarg[0] = k, n->iarg[1] = s, n->iarg[2] = p;
    }
    return out;
}
