/* upsample_nearest.c: nearest-neighbour upsampling by an integer factor (torch mode='nearest'). */
#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "util/err.h"

static void upsample_backward(Node *n) {
    if (!node_wants(n, 0)) return;
    Tensor *x = n->in[0], *out = n->out;
    int f = n->iarg[0], H = TH(x), W = TW(x), OW = W * f, planes = TN(x) * TC(x);
    real_t *dx = tensor_grad(x); /* [N,C,H,W] */
    /* each input pixel gathers its f x f block, so writes never overlap */
#pragma omp parallel for schedule(static) if (planes > 1 && tensor_numel(out) > 16384)
    for (int p = 0; p < planes; p++) {
        const real_t *go = out->grad + (size_t)p * H * f * OW; /* [H*f,W*f] */
        real_t *gi = dx + (size_t)p * H * W;                   /* [H,W] */
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                double s = 0;
                for (int dy = 0; dy < f; dy++)
                    for (int dx_ = 0; dx_ < f; dx_++) s += go[(size_t)(y * f + dy) * OW + xx * f + dx_];
                gi[(size_t)y * W + xx] += (real_t)s;
            }
    }
}

Tensor *op_upsample_nearest(Tensor *x, int factor) {
    OPS_DISPATCH(upsample_nearest, x->device, x, factor);
    RN_CHECK(factor >= 1, "upsample_nearest: factor %d", factor);
    int H = TH(x), W = TW(x), OH = H * factor, OW = W * factor, planes = TN(x) * TC(x);
    Tensor *out = tensor_new(TN(x), TC(x), OH, OW); /* [N,C,H*f,W*f] */
#pragma omp parallel for schedule(static) if (planes > 1 && tensor_numel(out) > 16384)
    for (int p = 0; p < planes; p++) {
        const real_t *in = x->data + (size_t)p * H * W; /* [H,W] */
        real_t *o = out->data + (size_t)p * OH * OW;   /* [OH,OW] */
        for (int oy = 0; oy < OH; oy++) {
            const real_t *r = in + (size_t)(oy / factor) * W;
            for (int ox = 0; ox < OW; ox++) o[(size_t)oy * OW + ox] = r[ox / factor];
        }
    }
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_UPSAMPLE_NEAREST, upsample_backward, out, x, NULL, NULL, NULL);
        n->iarg[0] = factor;
    }
    return out;
}
