/* slice_channels.c: channels [c0, c0 + nc) of x. */
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "util/err.h"

static void slice_channels_backward(Node *nd) {
    Tensor *x = nd->in[0], *out = nd->out;
    if (!node_wants(nd, 0)) return;
    real_t *dx = tensor_grad(x);    /* [N,C,H,W] */
    const real_t *dout = out->grad; /* [N,nc,H,W] */
    int N = TN(x), C = TC(x), c0 = nd->iarg[0], nc = TC(out);
    size_t block = (size_t)nc * TH(x) * TW(x), plane = (size_t)TH(x) * TW(x);
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        real_t *dst = dx + ((size_t)n * C + c0) * plane;
        for (size_t j = 0; j < block; j++) dst[j] += dout[(size_t)n * block + j];
    }
}

Tensor *op_slice_channels(Tensor *x, int c0, int nc) {
    OPS_DISPATCH(slice_channels, x->device, x, c0, nc);
    char s[64];
    if (c0 < 0 || nc < 1 || c0 + nc > TC(x))
        rn_die("slice_channels: channels [%d, %d) outside input %s", c0, c0 + nc, tensor_shape_str(x, s, sizeof s));
    int N = TN(x), C = TC(x);
    Tensor *out = tensor_new(N, nc, TH(x), TW(x)); /* [N,nc,H,W] */
    size_t plane = (size_t)TH(x) * TW(x), block = (size_t)nc * plane;
    /* each sample's slice is one contiguous run */
#pragma omp parallel for schedule(static) if (block * N > 65536)
    for (int n = 0; n < N; n++)
        memcpy(out->data + (size_t)n * block, x->data + ((size_t)n * C + c0) * plane, block * sizeof(real_t));
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_SLICE_CHANNELS, slice_channels_backward, out, x, NULL, NULL, NULL);
        nd->iarg[0] = c0;
    }
    return out;
}
