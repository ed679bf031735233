// shape.cu: concat, slice_channels and pixel_shuffle on the device (index maps, one thread per element).
#include <string.h>

#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
}

// dst[n, d0 + j] (op) src[n, s0 + j] for j < block, over n < N: a channel window copied between two
// tensors of per-sample sizes dstride and sstride. add: += (backward), else = (forward).
template <typename I>
__global__ void copy_block(float *dst, size_t dstride, size_t d0, const float *src, size_t sstride, size_t s0,
                           size_t block_, int N, bool add) {
    I block = (I)block_, i = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (i >= (I)N * block) return;
    I n = i / block, j = i % block; // the sample and the offset in its window: 32-bit where they fit
    float v = src[n * sstride + s0 + j];
    float *d = dst + n * dstride + d0 + j;
    *d = add ? *d + v : v;
}

static void launch_copy(float *dst, size_t dstride, size_t d0, const float *src, size_t sstride, size_t s0,
                        size_t block, int N, bool add) {
    CUDA_LAUNCH_IDX(copy_block, (size_t)N * block, dst, dstride, d0, src, sstride, s0, block, N, add);
}

// ---- concat along channels ----

struct ConcatDev {
    int n;
    Tensor **xs; // [n]
};

// Inputs one after another, so a tensor listed twice accumulates both slices in turn.
static void concat_backward(Node *nd) {
    const ConcatDev *sv = (const ConcatDev *)nd->saved;
    Tensor *out = nd->out;
    size_t plane = (size_t)TH(out) * TW(out), ostride = (size_t)TC(out) * plane, c0 = 0;
    for (int i = 0; i < sv->n; i++) {
        Tensor *x = sv->xs[i];
        size_t block = (size_t)TC(x) * plane;
        if (x->requires_grad) launch_copy(tensor_grad(x), block, 0, out->grad, ostride, c0 * plane, block, TN(out), true);
        c0 += TC(x);
    }
}

extern "C" Tensor *cuda_op_concat(Tensor **xs, int n) {
    int Ctot = 0;
    bool wants = false;
    for (int i = 0; i < n; i++) {
        cuda_need("concat", "an input", xs[i]);
        if (TN(xs[i]) != TN(xs[0]) || TH(xs[i]) != TH(xs[0]) || TW(xs[i]) != TW(xs[0])) {
            char s0[64], si[64];
            rn_die("concat: input %d is %s, input 0 is %s (N, H, W must agree)", i, tensor_shape_str(xs[i], si, 64),
                   tensor_shape_str(xs[0], s0, 64));
        }
        Ctot += TC(xs[i]);
        wants |= xs[i]->requires_grad;
    }
    Tensor *out = tensor_new_on(DEV_CUDA, TN(xs[0]), Ctot, TH(xs[0]), TW(xs[0])); // [N,sum C_i,H,W]
    size_t plane = (size_t)TH(out) * TW(out), c0 = 0;
    for (int i = 0; i < n; i++) {
        size_t block = (size_t)TC(xs[i]) * plane;
        launch_copy(out->data, (size_t)Ctot * plane, c0 * plane, xs[i]->data, block, 0, block, TN(out), false);
        c0 += TC(xs[i]);
    }
    if (wants && engine_grad_enabled()) {
        ConcatDev *sv = (ConcatDev *)arena_alloc(engine_arena(), sizeof *sv);
        sv->n = n;
        sv->xs = (Tensor **)arena_alloc(engine_arena(), (size_t)n * sizeof *sv->xs);
        memcpy(sv->xs, xs, (size_t)n * sizeof *sv->xs);
        Node *nd = tape_push(OP_CONCAT, concat_backward, out, xs[0], n > 1 ? xs[1] : NULL, n > 2 ? xs[2] : NULL,
                             n > 3 ? xs[3] : NULL);
        nd->saved = sv;
    }
    return out;
}

// ---- channels [c0, c0 + nc) ----

static void slice_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0], *out = nd->out;
    size_t plane = (size_t)TH(x) * TW(x), block = (size_t)TC(out) * plane;
    launch_copy(tensor_grad(x), (size_t)TC(x) * plane, (size_t)nd->iarg[0] * plane, out->grad, block, 0, block, TN(x),
                true);
}

extern "C" Tensor *cuda_op_slice_channels(Tensor *x, int c0, int nc) {
    cuda_need("slice_channels", "x", x);
    char s[64];
    if (c0 < 0 || nc < 1 || c0 + nc > TC(x))
        rn_die("slice_channels: channels [%d, %d) outside input %s", c0, c0 + nc, tensor_shape_str(x, s, sizeof s));
    Tensor *out = tensor_new_on(DEV_CUDA, TN(x), nc, TH(x), TW(x)); // [N,nc,H,W]
    size_t plane = (size_t)TH(x) * TW(x), block = (size_t)nc * plane;
    launch_copy(out->data, block, 0, x->data, (size_t)TC(x) * plane, (size_t)c0 * plane, block, TN(x), false);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_SLICE_CHANNELS, slice_backward, out, x, NULL, NULL, NULL);
        nd->iarg[0] = c0;
    }
    return out;
}

// ---- pixel shuffle: out[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w], a bijection ----

// Index in x of output element o (both flat); back: dx[that] += dy[o], one writer per element.
template <typename I> __device__ I shuffle_src(I o, int r, int H, int W) {
    I OW = (I)W * r, OH = (I)H * r;
    I ox = o % OW, row = o / OW, oy = row % OH;
    I nc = row / OH; // n*C + c: the r*r input planes of block nc
    return ((nc * r * r + (oy % r) * r + ox % r) * H + oy / r) * W + ox / r;
}

template <typename I>
__global__ void shuffle_kernel(const float *src, float *dst, size_t n, int r, int H, int W, bool backward) {
    I o = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (o >= (I)n) return;
    I i = shuffle_src<I>(o, r, H, W);
    if (backward) dst[i] += src[o];
    else dst[o] = src[i];
}

static void shuffle_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0], *out = nd->out;
    size_t n = tensor_numel(out);
    CUDA_LAUNCH_IDX(shuffle_kernel, n, out->grad, tensor_grad(x), n, nd->iarg[0], TH(x), TW(x), true);
}

extern "C" Tensor *cuda_op_pixel_shuffle(Tensor *x, int r) {
    cuda_need("pixel_shuffle", "x", x);
    char s[64];
    if (r < 1 || TC(x) % (r * r) != 0)
        rn_die("pixel_shuffle: %s has channels not divisible by r*r = %d", tensor_shape_str(x, s, sizeof s), r * r);
    Tensor *out = tensor_new_on(DEV_CUDA, TN(x), TC(x) / (r * r), TH(x) * r, TW(x) * r); // [N,C,H*r,W*r]
    size_t n = tensor_numel(out);
    CUDA_LAUNCH_IDX(shuffle_kernel, n, x->data, out->data, n, r, TH(x), TW(x), false);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_PIXEL_SHUFFLE, shuffle_backward, out, x, NULL, NULL, NULL);
        nd->iarg[0] = r;
    }
    return out;
}
