// pool.cu: max pooling (with argmax), average and adaptive average pooling on the device; backward gathers.
#include <math.h>

#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
}

// Output range [lo, hi] on one axis whose windows (start o*s - off, length k) contain input i.
__device__ void windows_of(int i, int s, int off, int k, int O, int *lo, int *hi) {
    int a = i + off - k + 1; // smallest o*s with o*s - off + k > i
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = (i + off) / s;
    if (*hi > O - 1) *hi = O - 1;
}

// ---- max pooling: window (oy, ox) starts at (oy*s - off, ox*s - off); outside positions skipped ----

__global__ void maxpool_fwd(const float *x, float *y, int *arg, int planes, int H, int W, int OH, int OW, int k, int s,
                            int off) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)planes * OH * OW) return;
    int ox = i % OW, oy = (i / OW) % OH;
    const float *in = x + i / ((size_t)OH * OW) * H * W;
    int y0 = oy * s - off, y1 = min(y0 + k, H), x0 = ox * s - off, x1 = min(x0 + k, W);
    y0 = max(y0, 0), x0 = max(x0, 0);
    int best = y0 * W + x0;
    float m = -INFINITY;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) {
            float v = in[yy * W + xx];
            if (v > m || isnan(v)) m = v, best = yy * W + xx; // first maximum wins; NaN wins, as the CPU op
        }
    y[i] = m, arg[i] = best;
}

// One thread per input pixel: the outputs whose argmax it is, in increasing output order.
__global__ void maxpool_bwd(const float *dy, const int *arg, float *dx, int planes, int H, int W, int OH, int OW, int k,
                            int s, int off) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)planes * H * W) return;
    int ix = i % W, iy = (i / W) % H, q = ix + iy * W;
    size_t base = i / ((size_t)H * W) * OH * OW;
    int oy0, oy1, ox0, ox1;
    windows_of(iy, s, off, k, OH, &oy0, &oy1);
    windows_of(ix, s, off, k, OW, &ox0, &ox1);
    double acc = 0;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++)
            if (arg[base + oy * OW + ox] == q) acc += dy[base + oy * OW + ox];
    dx[i] += (float)acc;
}

static void maxpool_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0], *out = nd->out;
    size_t n = tensor_numel(x);
    maxpool_bwd<<<cuda_blocks(n), CUDA_THREADS>>>(out->grad, (const int *)nd->saved, tensor_grad(x), TN(x) * TC(x),
                                                  TH(x), TW(x), TH(out), TW(out), nd->iarg[0], nd->iarg[1],
                                                  nd->iarg[2]);
    CHECK_LAUNCH(maxpool_bwd);
}

extern "C" Tensor *cuda_op_max_pool2d_at(Tensor *x, int k, int s, int off, int OH, int OW, OpId id) {
    cuda_need(op_name(id), "x", x);
    Tensor *out = tensor_new_on(DEV_CUDA, TN(x), TC(x), OH, OW);          // [N,C,OH,OW]
    int *arg = (int *)cuda_arena_alloc(tensor_numel(out) * sizeof(int)); // [N,C,OH,OW] plane indices
    size_t n = tensor_numel(out);
    maxpool_fwd<<<cuda_blocks(n), CUDA_THREADS>>>(x->data, out->data, arg, TN(x) * TC(x), TH(x), TW(x), OH, OW, k, s,
                                                  off);
    CHECK_LAUNCH(maxpool_fwd);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(id, maxpool_backward, out, x, NULL, NULL, NULL);
        nd->saved = arg;
        nd->iarg[0] = k, nd->iarg[1] = s, nd->iarg[2] = off;
    }
    return out;
}

// ---- average pooling, count_include_pad (PyTorch's window: padding counts, beyond it not) ----

__device__ int avg_window(int o, int s, int p, int k, int L, int *lo, int *hi) {
    int a = o * s - p, b = min(a + k, L + p);
    *lo = max(a, 0), *hi = min(b, L);
    return b - a;
}

__global__ void avgpool_fwd(const float *x, float *y, int planes, int H, int W, int OH, int OW, int k, int s, int p) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)planes * OH * OW) return;
    int ox = i % OW, oy = (i / OW) % OH;
    const float *in = x + i / ((size_t)OH * OW) * H * W;
    int y0, y1, x0, x1, ny = avg_window(oy, s, p, k, H, &y0, &y1), nx = avg_window(ox, s, p, k, W, &x0, &x1);
    double sum = 0;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) sum += in[yy * W + xx];
    y[i] = (float)(sum / ((double)ny * nx));
}

__global__ void avgpool_bwd(const float *dy, float *dx, int planes, int H, int W, int OH, int OW, int k, int s, int p) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)planes * H * W) return;
    int ix = i % W, iy = (i / W) % H;
    const float *go = dy + i / ((size_t)H * W) * OH * OW;
    int oy0, oy1, ox0, ox1;
    windows_of(iy, s, p, k, OH, &oy0, &oy1);
    windows_of(ix, s, p, k, OW, &ox0, &ox1);
    double acc = 0;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            int a, b, ny = avg_window(oy, s, p, k, H, &a, &b), nx = avg_window(ox, s, p, k, W, &a, &b);
            acc += go[oy * OW + ox] / ((double)ny * nx);
        }
    dx[i] += (float)acc;
}

static void avgpool_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0], *out = nd->out;
    size_t n = tensor_numel(x);
    avgpool_bwd<<<cuda_blocks(n), CUDA_THREADS>>>(out->grad, tensor_grad(x), TN(x) * TC(x), TH(x), TW(x), TH(out),
                                                  TW(out), nd->iarg[0], nd->iarg[1], nd->iarg[2]);
    CHECK_LAUNCH(avgpool_bwd);
}

extern "C" Tensor *cuda_op_avg_pool2d(Tensor *x, int k, int s, int p) {
    cuda_need("avg_pool2d", "x", x);
    RN_CHECK(k >= 1 && s >= 1 && p >= 0 && p <= k / 2, "avg_pool2d: kernel %d stride %d padding %d (padding at most k/2)", k, s, p);
    int H = TH(x), W = TW(x), OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
    RN_CHECK(H + 2 * p >= k && W + 2 * p >= k, "avg_pool2d: input %dx%d smaller than kernel %d", H, W, k);
    Tensor *out = tensor_new_on(DEV_CUDA, TN(x), TC(x), OH, OW); // [N,C,OH,OW]
    size_t n = tensor_numel(out);
    avgpool_fwd<<<cuda_blocks(n), CUDA_THREADS>>>(x->data, out->data, TN(x) * TC(x), H, W, OH, OW, k, s, p);
    CHECK_LAUNCH(avgpool_fwd);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_AVG_POOL2D, avgpool_backward, out, x, NULL, NULL, NULL);
        nd->iarg[0] = k, nd->iarg[1] = s, nd->iarg[2] = p;
    }
    return out;
}

// ---- adaptive average pooling: bin i of n over L is [floor(i*L/n), ceil((i+1)*L/n)) ----

__device__ int bin_lo(int i, int L, int n) { return (int)(((long long)i * L) / n); }
__device__ int bin_hi(int i, int L, int n) { return (int)((((long long)i + 1) * L + n - 1) / n); }

__global__ void adaptive_fwd(const float *x, float *y, int planes, int H, int W, int OH, int OW) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)planes * OH * OW) return;
    int ox = i % OW, oy = (i / OW) % OH;
    const float *in = x + i / ((size_t)OH * OW) * H * W;
    int y0 = bin_lo(oy, H, OH), y1 = bin_hi(oy, H, OH), x0 = bin_lo(ox, W, OW), x1 = bin_hi(ox, W, OW);
    double sum = 0;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) sum += in[yy * W + xx];
    y[i] = (float)(sum / ((double)(y1 - y0) * (x1 - x0)));
}

// Bins may overlap and are few: each input pixel scans every output bin of its plane.
__global__ void adaptive_bwd(const float *dy, float *dx, int planes, int H, int W, int OH, int OW) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)planes * H * W) return;
    int ix = i % W, iy = (i / W) % H;
    const float *go = dy + i / ((size_t)H * W) * OH * OW;
    double acc = 0;
    for (int oy = 0; oy < OH; oy++) {
        int y0 = bin_lo(oy, H, OH), y1 = bin_hi(oy, H, OH);
        if (iy < y0 || iy >= y1) continue;
        for (int ox = 0; ox < OW; ox++) {
            int x0 = bin_lo(ox, W, OW), x1 = bin_hi(ox, W, OW);
            if (ix >= x0 && ix < x1) acc += go[oy * OW + ox] / ((double)(y1 - y0) * (x1 - x0));
        }
    }
    dx[i] += (float)acc;
}

static void adaptive_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0], *out = nd->out;
    size_t n = tensor_numel(x);
    adaptive_bwd<<<cuda_blocks(n), CUDA_THREADS>>>(out->grad, tensor_grad(x), TN(x) * TC(x), TH(x), TW(x), TH(out),
                                                   TW(out));
    CHECK_LAUNCH(adaptive_bwd);
}

extern "C" Tensor *cuda_op_adaptive_avg_pool2d(Tensor *x, int oh, int ow) {
    cuda_need("adaptive_avg_pool2d", "x", x);
    RN_CHECK(oh > 0 && ow > 0, "adaptive_avg_pool2d: output size %dx%d", oh, ow);
    Tensor *out = tensor_new_on(DEV_CUDA, TN(x), TC(x), oh, ow); // [N,C,oh,ow]
    size_t n = tensor_numel(out);
    adaptive_fwd<<<cuda_blocks(n), CUDA_THREADS>>>(x->data, out->data, TN(x) * TC(x), TH(x), TW(x), oh, ow);
    CHECK_LAUNCH(adaptive_fwd);
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(OP_ADAPTIVE_AVG_POOL2D, adaptive_backward, out, x, NULL, NULL, NULL);
    return out;
}
