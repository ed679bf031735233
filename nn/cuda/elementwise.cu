// elementwise.cu: scale, relu, leaky_relu, sigmoid, clamp, add, mul and prelu on the device (one thread per element).
#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
#include "nn/cuda/reduce.h"
#include "nn/ops/broadcast.h"
}

// ---- unary ops: one forward and one backward kernel, switched on the op id; p0, p1 are the
// op's constants (alpha; slope; lo, hi). Backward reads x or y as the CPU op does. ----

__device__ float unary_fwd1(OpId op, float x, float p0, float p1) {
    switch (op) {
    case OP_SCALE: return p0 * x;
    case OP_RELU: return x > 0 ? x : 0.f;
    case OP_LEAKY_RELU: return x > 0 ? x : p0 * x;
    case OP_SIGMOID: return 1.f / (1.f + expf(-x));
    default: return x < p0 ? p0 : x > p1 ? p1 : x; // OP_CLAMP
    }
}

__device__ float unary_bwd1(OpId op, float x, float y, float dy, float p0, float p1) {
    switch (op) {
    case OP_SCALE: return p0 * dy;
    case OP_RELU: return y > 0 ? dy : 0.f;
    case OP_LEAKY_RELU: return x > 0 ? dy : p0 * dy;
    case OP_SIGMOID: return dy * y * (1.f - y);
    default: return x > p0 && x < p1 ? dy : 0.f; // OP_CLAMP
    }
}

__global__ void unary_fwd(OpId op, const float *x, float *y, size_t n, float p0, float p1) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) y[i] = unary_fwd1(op, x[i], p0, p1);
}

__global__ void unary_bwd(OpId op, const float *x, const float *y, const float *dy, float *dx, size_t n, float p0,
                          float p1) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) dx[i] += unary_bwd1(op, x[i], y[i], dy[i], p0, p1);
}

static void unary_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0], *y = nd->out;
    size_t n = tensor_numel(x);
    unary_bwd<<<cuda_blocks(n), CUDA_THREADS>>>(nd->op, x->data, y->data, y->grad, tensor_grad(x), n,
                                                (float)nd->farg[0], (float)nd->farg[1]);
    CHECK_LAUNCH(unary_bwd);
}

static Tensor *unary(OpId op, Tensor *x, real_t p0, real_t p1) {
    cuda_need(op_name(op), "x", x);
    Tensor *out = tensor_like(x); // [N,C,H,W]
    size_t n = tensor_numel(x);
    unary_fwd<<<cuda_blocks(n), CUDA_THREADS>>>(op, x->data, out->data, n, p0, p1);
    CHECK_LAUNCH(unary_fwd);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *nd = tape_push(op, unary_backward, out, x, NULL, NULL, NULL);
        nd->farg[0] = p0, nd->farg[1] = p1;
    }
    return out;
}

extern "C" Tensor *cuda_op_scale(Tensor *x, real_t alpha) { return unary(OP_SCALE, x, alpha, 0); }
extern "C" Tensor *cuda_op_relu(Tensor *x) { return unary(OP_RELU, x, 0, 0); }
extern "C" Tensor *cuda_op_leaky_relu(Tensor *x, real_t slope) { return unary(OP_LEAKY_RELU, x, slope, 0); }
extern "C" Tensor *cuda_op_sigmoid(Tensor *x) { return unary(OP_SIGMOID, x, 0, 0); }
extern "C" Tensor *cuda_op_clamp(Tensor *x, real_t lo, real_t hi) { return unary(OP_CLAMP, x, lo, hi); }

// ---- add, mul: b is the same shape, per-channel or a scalar (nn/ops/broadcast.h) ----

template <typename I> __device__ I bindex(BroadcastKind k, I i, I plane, I C) {
    return k == BC_SAME ? i : k == BC_CHANNEL ? (i / plane) % C : 0;
}

template <typename I>
__global__ void binary_fwd(bool mul, BroadcastKind k, const float *a, const float *b, float *y, size_t n_, size_t plane_,
                           int C) {
    I n = (I)n_, plane = (I)plane_, i = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float bv = b[bindex<I>(k, i, plane, (I)C)];
    y[i] = mul ? a[i] * bv : a[i] + bv;
}

// dst[i] += dout[i] (times f[i] when f is given, times f's broadcast element for fk != BC_SAME)
template <typename I>
__global__ void grad_times(float *dst, const float *dout, const float *f, BroadcastKind fk, size_t n_, size_t plane_,
                           int C) {
    I n = (I)n_, plane = (I)plane_, i = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (i < n) dst[i] += f ? dout[i] * f[bindex<I>(fk, i, plane, (I)C)] : dout[i];
}

static void launch_grad_times(float *dst, const float *dout, const float *f, BroadcastKind fk, const Tensor *out) {
    size_t n = tensor_numel(out), plane = (size_t)TH(out) * TW(out);
    CUDA_LAUNCH_IDX(grad_times, n, dst, dout, f, fk, n, plane, TC(out));
}

// da = dout (add) or dout * b (mul); db = dout or dout * a, summed per channel when b broadcasts.
static void binary_backward(Node *nd) {
    Tensor *a = nd->in[0], *b = nd->in[1], *out = nd->out;
    bool mul = nd->op == OP_MUL;
    BroadcastKind k = (BroadcastKind)nd->iarg[0];
    if (node_wants(nd, 0)) launch_grad_times(tensor_grad(a), out->grad, mul ? b->data : NULL, k, out);
    if (!node_wants(nd, 1)) return;
    if (k == BC_SAME) {
        launch_grad_times(tensor_grad(b), out->grad, mul ? a->data : NULL, BC_SAME, out);
        return;
    }
    cuda_channel_grad(mul ? CS_DOUT_A : CS_DOUT, a->data, out->grad, TN(out), TC(out), (size_t)TH(out) * TW(out),
                      tensor_grad(b), k == BC_SCALAR);
}

static Tensor *binary(OpId op, Tensor *a, Tensor *b) {
    cuda_need(op_name(op), "a", a), cuda_need(op_name(op), "b", b);
    BroadcastKind k = broadcast_kind(op_name(op), a, b);
    Tensor *out = tensor_like(a); // [N,C,H,W]
    size_t n = tensor_numel(a), plane = (size_t)TH(a) * TW(a);
    CUDA_LAUNCH_IDX(binary_fwd, n, op == OP_MUL, k, a->data, b->data, out->data, n, plane, TC(a));
    if (tape_wants(a, b, NULL, NULL)) {
        Node *nd = tape_push(op, binary_backward, out, a, b, NULL, NULL);
        nd->iarg[0] = (int)k;
    }
    return out;
}

extern "C" Tensor *cuda_op_add(Tensor *a, Tensor *b) { return binary(OP_ADD, a, b); }
extern "C" Tensor *cuda_op_mul(Tensor *a, Tensor *b) { return binary(OP_MUL, a, b); }

// ---- prelu: out = x > 0 ? x : w[c] x, w per channel or shared ----

template <typename I>
__global__ void prelu_fwd(const float *x, const float *w, float *y, size_t n_, size_t plane_, int C, bool shared) {
    I n = (I)n_, plane = (I)plane_, i = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float a = w[shared ? 0 : (i / plane) % (I)C];
    y[i] = x[i] > 0 ? x[i] : a * x[i];
}

template <typename I>
__global__ void prelu_bwd_x(const float *x, const float *w, const float *dy, float *dx, size_t n_, size_t plane_, int C,
                            bool shared) {
    I n = (I)n_, plane = (I)plane_, i = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float a = w[shared ? 0 : (i / plane) % (I)C];
    dx[i] += x[i] > 0 ? dy[i] : a * dy[i];
}

static void prelu_backward(Node *nd) {
    Tensor *x = nd->in[0], *w = nd->in[1], *out = nd->out;
    bool shared = nd->iarg[0];
    size_t n = tensor_numel(x), plane = (size_t)TH(x) * TW(x);
    if (node_wants(nd, 0)) {
        CUDA_LAUNCH_IDX(prelu_bwd_x, n, x->data, w->data, out->grad, tensor_grad(x), n, plane, TC(x), shared);
    }
    if (node_wants(nd, 1))
        cuda_channel_grad(CS_DOUT_A_NONPOS, x->data, out->grad, TN(x), TC(x), plane, tensor_grad(w), shared);
}

extern "C" Tensor *cuda_op_prelu(Tensor *x, Tensor *w) {
    cuda_need("prelu", "x", x), cuda_need("prelu", "w", w);
    size_t nw = tensor_numel(w);
    int C = TC(x);
    bool shared = nw == 1;
    if (!shared && !(nw == (size_t)C && (TC(w) == C || TN(w) == C))) {
        char sx[64], sw[64];
        rn_die("prelu: slope %s does not fit input %s (want [1,%d,1,1] or [1,1,1,1])", tensor_shape_str(w, sw, 64),
               tensor_shape_str(x, sx, 64), C);
    }
    Tensor *out = tensor_like(x); // [N,C,H,W]
    size_t n = tensor_numel(x), plane = (size_t)TH(x) * TW(x);
    CUDA_LAUNCH_IDX(prelu_fwd, n, x->data, w->data, out->data, n, plane, C, shared);
    if (tape_wants(x, w, NULL, NULL)) {
        Node *nd = tape_push(OP_PRELU, prelu_backward, out, x, w, NULL, NULL);
        nd->iarg[0] = shared;
    }
    return out;
}
