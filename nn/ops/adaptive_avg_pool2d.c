/* adaptive_avg_pool2d.c: average pooling to a fixed output size with PyTorch's bin edges. */
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/pool_backward.h"
#include "util/err.h"

/* Bin i of n over an axis of length L: [floor(i*L/n), ceil((i+1)*L/n)); bins may overlap. */
static inline int bin_lo(int i, int L, int n) { return (int)(((long long)i * L) / n); }
static inline int bin_hi(int i, int L, int n) { return (int)((((long long)i + 1) * L + n - 1) / n); }

static void adaptive_plane(const real_t *in, int H, int W, real_t *out, int OH, int OW) {
    for (int oy = 0; oy < OH; oy++) {
        int y0 = bin_lo(oy, H, OH), y1 = bin_hi(oy, H, OH);
        for (int ox = 0; ox < OW; ox++) {
            int x0 = bin_lo(ox, W, OW), x1 = bin_hi(ox, W, OW);
            double sum = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) sum += in[y * W + x];
            out[oy * OW + ox] = (real_t)(sum / ((double)(y1 - y0) * (x1 - x0)));
        }
    }
}

static void adaptive_plane_backward(const real_t *go, int OH, int OW, double *acc, int H, int W) {
    for (int oy = 0; oy < OH; oy++) {
        int y0 = bin_lo(oy, H, OH), y1 = bin_hi(oy, H, OH);
        for (int ox = 0; ox < OW; ox++) {
            int x0 = bin_lo(ox, W, OW), x1 = bin_hi(ox, W, OW);
            double g = go[oy * OW + ox] / ((double)(y1 - y0) * (x1 - x0));
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) acc[y * W + x] += g;
        }
    }
}

static void adaptive_pool_plane_backward(const Node *n, int q, const real_t *go, double *acc) {
    (void)q;
    const Tensor *x = n->in[0], *out = n->out;
    adaptive_plane_backward(go, TH(out), TW(out), acc, TH(x), TW(x));
}

static void adaptive_backward(Node *n) { pool_backward(n, adaptive_pool_plane_backward); }

Tensor *op_adaptive_avg_pool2d(Tensor *x, int oh, int ow) {
    OPS_DISPATCH(adaptive_avg_pool2d, x->device, x, oh, ow);
    RN_CHECK(oh > 0 && ow > 0, "adaptive_avg_pool2d: output size %dx%d", oh, ow);
    int H = TH(x), W = TW(x), planes = TN(x) * TC(x);
    Tensor *out = tensor_new(TN(x), TC(x), oh, ow); /* [N,C,oh,ow] */
#pragma omp parallel for schedule(static) if (planes > 1 && tensor_numel(x) > 16384)
    for (int q = 0; q < planes; q++)
        adaptive_plane(x->data + (size_t)q * H * W, H, W, out->data + (size_t)q * oh * ow, oh, ow);
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(OP_ADAPTIVE_AVG_POOL2D, adaptive_backward, out, x, NULL, NULL, NULL);
    return out;
}
