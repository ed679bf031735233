/* darknet_maxpool.c: max pooling with darknet's window placement (odd padding pads right/bottom only); backward to the argmax. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/darknet.h"
#include "util/err.h"

/* The engine's op_max_pool2d pads symmetrically. darknet starts window (oy, ox) at
 * (oy*s - pad/2, ox*s - pad/2) and sizes the output (H + pad - size)/s + 1, so with an odd pad
 * (yolov3-tiny's size=2 stride=1: pad 1) the extra row/column lies on the right/bottom. As in
 * darknet, the first maximum in window order wins a tie. */
static void pool_plane(const real_t *in, int H, int W, real_t *out, int *arg, int OH, int OW, int k, int s, int off) {
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            int best = -1;
            real_t m = -INFINITY;
            for (int dy = 0; dy < k; dy++) {
                int y = oy * s - off + dy;
                if (y < 0 || y >= H) continue;
                for (int dx = 0; dx < k; dx++) {
                    int x = ox * s - off + dx;
                    if (x < 0 || x >= W) continue;
                    if (best < 0 || in[y * W + x] > m) m = in[y * W + x], best = y * W + x;
                }
            }
            out[oy * OW + ox] = m, arg[oy * OW + ox] = best;
        }
}

static void dn_pool_backward(Node *n) {
    if (!node_wants(n, 0)) return;
    Tensor *x = n->in[0], *out = n->out;
    const int *arg = n->saved; /* [N,C,OH,OW] plane indices */
    size_t hw = (size_t)TH(x) * TW(x), ohw = (size_t)TH(out) * TW(out);
    int planes = TN(x) * TC(x);
    real_t *dx = tensor_grad(x); /* [N,C,H,W] */
    /* planes are disjoint: one per iteration, summed in a fixed order */
#pragma omp parallel for schedule(static) if (planes > 1 && (size_t)planes * hw > 16384)
    for (int p = 0; p < planes; p++) {
        const real_t *go = out->grad + (size_t)p * ohw; /* [OH,OW] */
        const int *a = arg + (size_t)p * ohw;           /* [OH,OW] */
        real_t *gi = dx + (size_t)p * hw;               /* [H,W] */
        for (size_t o = 0; o < ohw; o++) gi[a[o]] += go[o];
    }
}

Tensor *darknet_maxpool(Tensor *x, int size, int stride, int pad) {
    RN_CHECK(size >= 1 && stride >= 1 && pad >= 0 && pad <= 2 * (size - 1), "darknet_maxpool: size %d stride %d pad %d",
             size, stride, pad);
    int H = TH(x), W = TW(x), OH = (H + pad - size) / stride + 1, OW = (W + pad - size) / stride + 1;
    RN_CHECK(H + pad >= size && W + pad >= size, "darknet_maxpool: input %dx%d smaller than window %d", H, W, size);
    int planes = TN(x) * TC(x);
    Tensor *out = tensor_new(TN(x), TC(x), OH, OW);                          /* [N,C,OH,OW] */
    int *arg = arena_alloc(engine_arena(), tensor_numel(out) * sizeof(int)); /* [N,C,OH,OW] */
#pragma omp parallel for schedule(static) if (planes > 1 && tensor_numel(x) > 16384)
    for (int q = 0; q < planes; q++)
        pool_plane(x->data + (size_t)q * H * W, H, W, out->data + (size_t)q * OH * OW, arg + (size_t)q * OH * OW, OH, OW,
                   size, stride, pad / 2);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push("darknet_maxpool", dn_pool_backward, out, x, NULL, NULL, NULL);
        n->saved = arg;
        n->iarg[0] = size, n->iarg[1] = stride, n->iarg[2] = pad;
    }
    return out;
}
