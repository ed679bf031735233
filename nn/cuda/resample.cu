// resample.cu: bilinear resize (align_corners=False) and nearest upsampling on the device; backward gathers.
#include <stdlib.h>
#include <string.h>

#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
#include "nn/ops/resize_taps.h"
}

// One axis of a resize on the device: forward taps, and their inverse for the backward gather
// (input i receives from the outputs cnt[start[i] .. start[i+1]) with weights cw[]).
struct AxisDev {
    const int *i0, *i1;
    const float *w0, *w1;  // [out]
    const int *start;      // [in+1]
    const int *co;         // [2*out] output index of each contribution
    const float *cw;       // [2*out] its weight
};

// Persistent device copies: an axis's tables depend on (in, out) alone and are kept for the
// process (axis_get), so a resize costs no host work and no synchronising copy after its first call.
template <typename T> static const T *up(const T *host, size_t n) {
    T *d = (T *)cuda_block_alloc(n * sizeof(T));
    cuda_copy(d, DEV_CUDA, host, DEV_CPU, n * sizeof(T));
    return d;
}

// The taps of the CPU op (resize_taps), inverted on the host: each output o gives w0[o] to i0[o]
// and w1[o] to i1[o]; contributions are listed per input in increasing o.
static AxisDev axis_make(int in, int out) {
    Taps t = resize_taps(in, out);
    int *start = (int *)xcalloc((size_t)in + 1, sizeof(int)), *co = (int *)xmalloc(2 * (size_t)out * sizeof(int));
    float *cw = (float *)xmalloc(2 * (size_t)out * sizeof(float));
    int *fillp = (int *)xmalloc(((size_t)in + 1) * sizeof(int));
    for (int o = 0; o < out; o++) start[t.i0[o] + 1]++, start[t.i1[o] + 1]++;
    for (int i = 0; i < in; i++) start[i + 1] += start[i];
    memcpy(fillp, start, ((size_t)in + 1) * sizeof(int));
    for (int o = 0; o < out; o++) {
        co[fillp[t.i0[o]]] = o, cw[fillp[t.i0[o]]++] = t.w0[o];
        co[fillp[t.i1[o]]] = o, cw[fillp[t.i1[o]]++] = t.w1[o];
    }
    AxisDev a = {up(t.i0, out), up(t.i1, out), up(t.w0, out), up(t.w1, out), up(start, (size_t)in + 1),
                 up(co, 2 * (size_t)out), up(cw, 2 * (size_t)out)};
    free(start), free(co), free(cw), free(fillp);
    return a;
}

// The axes made so far, by (in, out): a model resizes between a handful of sizes.
struct AxisEntry {
    int in, out;
    AxisDev a;
    AxisEntry *next;
};
static AxisEntry *g_axes;

static AxisDev axis_get(int in, int out) {
    for (AxisEntry *e = g_axes; e; e = e->next)
        if (e->in == in && e->out == out) return e->a;
    AxisEntry *e = (AxisEntry *)xmalloc(sizeof *e);
    e->in = in, e->out = out, e->a = axis_make(in, out), e->next = g_axes;
    g_axes = e;
    return e->a;
}

struct ResizeDev {
    AxisDev y, x;
};

template <typename I>
__global__ void resize_fwd(const float *x, float *y, ResizeDev s, int planes, int H, int W, int OH, int OW) {
    I i = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (i >= (I)planes * OH * OW) return;
    I row = i / (I)OW;
    int ox = (int)(i % (I)OW), oy = (int)(row % (I)OH);
    size_t p = row / (I)OH;
    const float *r0 = x + (p * H + s.y.i0[oy]) * W, *r1 = x + (p * H + s.y.i1[oy]) * W;
    int a = s.x.i0[ox], b = s.x.i1[ox];
    float wx0 = s.x.w0[ox], wx1 = s.x.w1[ox];
    y[i] = s.y.w0[oy] * (wx0 * r0[a] + wx1 * r0[b]) + s.y.w1[oy] * (wx0 * r1[a] + wx1 * r1[b]);
}

// One thread per input pixel: the sum, in double, of every output that read it, times its weights.
template <typename I>
__global__ void resize_bwd(const float *dy, float *dx, ResizeDev s, int planes, int H, int W, int OH, int OW) {
    I i = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (i >= (I)planes * H * W) return;
    I row = i / (I)W;
    int ix = (int)(i % (I)W), iy = (int)(row % (I)H);
    size_t p = row / (I)H;
    const float *go = dy + p * OH * OW;
    double acc = 0;
    for (int a = s.y.start[iy]; a < s.y.start[iy + 1]; a++) {
        double wy = s.y.cw[a];
        const float *row = go + (size_t)s.y.co[a] * OW;
        for (int b = s.x.start[ix]; b < s.x.start[ix + 1]; b++) acc += wy * ((double)row[s.x.co[b]] * s.x.cw[b]);
    }
    dx[i] += (float)acc;
}

static void resize_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0], *out = nd->out;
    const ResizeDev *s = (const ResizeDev *)nd->saved;
    size_t n = tensor_numel(x);
    CUDA_LAUNCH_IDX(resize_bwd, n, out->grad, tensor_grad(x), *s, TN(x) * TC(x), TH(x), TW(x), TH(out), TW(out));
}

extern "C" Tensor *cuda_op_resize_bilinear(Tensor *x, int oh, int ow) {
    cuda_need("resize_bilinear", "x", x);
    RN_CHECK(oh > 0 && ow > 0, "resize_bilinear: output size %dx%d", oh, ow);
    ResizeDev *s = (ResizeDev *)arena_alloc(engine_arena(), sizeof *s);
    s->y = axis_get(TH(x), oh), s->x = axis_get(TW(x), ow);
    Tensor *out = tensor_new_on(DEV_CUDA, TN(x), TC(x), oh, ow); // [N,C,oh,ow]
    size_t n = tensor_numel(out);
    CUDA_LAUNCH_IDX(resize_fwd, n, x->data, out->data, *s, TN(x) * TC(x), TH(x), TW(x), oh, ow);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_RESIZE_BILINEAR, resize_backward, out, x, NULL, NULL, NULL);
        nd->saved = s;
    }
    return out;
}

// ---- nearest upsampling by an integer factor f ----

__global__ void upsample_fwd(const float *x, float *y, int f, int planes, int H, int W) {
    int OH = H * f, OW = W * f;
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)planes * OH * OW) return;
    int ox = i % OW, oy = (i / OW) % OH;
    size_t p = i / ((size_t)OH * OW);
    y[i] = x[(p * H + oy / f) * W + ox / f];
}

// One thread per input pixel gathers its f x f block (in double, row by row as the CPU adds it).
__global__ void upsample_bwd(const float *dy, float *dx, int f, int planes, int H, int W) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)planes * H * W) return;
    int ix = i % W, iy = (i / W) % H, OW = W * f;
    size_t p = i / ((size_t)H * W);
    const float *go = dy + p * (size_t)H * f * OW;
    double s = 0;
    for (int a = 0; a < f; a++)
        for (int b = 0; b < f; b++) s += go[(size_t)(iy * f + a) * OW + ix * f + b];
    dx[i] += (float)s;
}

static void upsample_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0];
    size_t n = tensor_numel(x);
    upsample_bwd<<<cuda_blocks(n), CUDA_THREADS>>>(nd->out->grad, tensor_grad(x), nd->iarg[0], TN(x) * TC(x), TH(x),
                                                   TW(x));
    CHECK_LAUNCH(upsample_bwd);
}

extern "C" Tensor *cuda_op_upsample_nearest(Tensor *x, int factor) {
    cuda_need("upsample_nearest", "x", x);
    RN_CHECK(factor >= 1, "upsample_nearest: factor %d", factor);
    Tensor *out = tensor_new_on(DEV_CUDA, TN(x), TC(x), TH(x) * factor, TW(x) * factor); // [N,C,H*f,W*f]
    size_t n = tensor_numel(out);
    upsample_fwd<<<cuda_blocks(n), CUDA_THREADS>>>(x->data, out->data, factor, TN(x) * TC(x), TH(x), TW(x));
    CHECK_LAUNCH(upsample_fwd);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_UPSAMPLE_NEAREST, upsample_backward, out, x, NULL, NULL, NULL);
        nd->iarg[0] = factor;
    }
    return out;
}
