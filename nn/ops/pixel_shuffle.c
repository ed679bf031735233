/* pixel_shuffle.c: [N, C*r*r, H, W] -> [N, C, H*r, W*r] as torch.nn.PixelShuffle. */
#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* out[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]: a bijection, so backward is the same
 * index walk in the other direction, and (n, c) planes never share a write. `sub` is one group of
 * r*r input planes [r*r,H,W]; `big` the output plane [H*r,W*r] they make. */
static void shuffle_fwd(const real_t *sub, real_t *big, int r, int H, int W) {
    size_t plane = (size_t)H * W, OW = (size_t)W * r;
    for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++)
            for (int h = 0; h < H; h++) {
                const real_t *src = sub + (size_t)(i * r + j) * plane + (size_t)h * W; /* [W] */
                real_t *dst = big + (size_t)(h * r + i) * OW + j;                      /* [W] stride r */
                for (int w = 0; w < W; w++) dst[(size_t)w * r] = src[w];
            }
}

static void shuffle_bwd(const real_t *dbig, real_t *dsub, int r, int H, int W) {
    size_t plane = (size_t)H * W, OW = (size_t)W * r;
    for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++)
            for (int h = 0; h < H; h++) {
                real_t *dst = dsub + (size_t)(i * r + j) * plane + (size_t)h * W;   /* [W] */
                const real_t *src = dbig + (size_t)(h * r + i) * OW + j;            /* [W] stride r */
                for (int w = 0; w < W; w++) dst[w] += src[(size_t)w * r];
            }
}

static void pixel_shuffle_backward(Node *nd) {
    Tensor *x = nd->in[0], *out = nd->out;
    if (!node_wants(nd, 0)) return;
    real_t *dx = tensor_grad(x);    /* [N,C*r*r,H,W] */
    const real_t *dout = out->grad; /* [N,C,H*r,W*r] */
    int r = nd->iarg[0], NC = TN(out) * TC(out);
    size_t block = (size_t)r * r * TH(x) * TW(x);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < NC; p++) shuffle_bwd(dout + p * block, dx + p * block, r, TH(x), TW(x));
}

Tensor *op_pixel_shuffle(Tensor *x, int r) {
    OPS_DISPATCH(pixel_shuffle, x->device, x, r);
    char s[64];
    if (r < 1 || TC(x) % (r * r) != 0)
        rn_die("pixel_shuffle: %s has channels not divisible by r*r = %d", tensor_shape_str(x, s, sizeof s), r * r);
    int C = TC(x) / (r * r);
    Tensor *out = tensor_new(TN(x), C, TH(x) * r, TW(x) * r); /* [N,C,H*r,W*r] */
    int NC = TN(x) * C;
    size_t block = (size_t)r * r * TH(x) * TW(x);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < NC; p++) shuffle_fwd(x->data + p * block, out->data + p * block, r, TH(x), TW(x));
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_PIXEL_SHUFFLE, pixel_shuffle_backward, out, x, NULL, NULL, NULL);
        nd->iarg[0] = r;
    }
    return out;
}
