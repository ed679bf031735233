// reduce.cu: deterministic sums on the device (fixed block partials, one final block), op_sum and op_mean.
#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
#include "nn/cuda/reduce.h"
}

// The first pass uses a grid fixed by n alone (at most REDUCE_GRID blocks, each thread striding),
// so the order of additions, and the result, never depend on anything but n.
enum { REDUCE_GRID = 1024 };

// Tree sum of one block's values in shared memory; thread 0 gets the total.
__device__ double block_sum(double v) {
    __shared__ double sh[CUDA_THREADS];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = CUDA_THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    return sh[0];
}

template <typename T> __global__ void partial_sums(const T *x, size_t n, double *part) {
    double s = 0;
    for (size_t i = blockIdx.x * (size_t)CUDA_THREADS + threadIdx.x; i < n; i += (size_t)gridDim.x * CUDA_THREADS)
        s += (double)x[i];
    double t = block_sum(s);
    if (threadIdx.x == 0) part[blockIdx.x] = t;
}

__global__ void final_sum(const double *part, int np, double *out) {
    double s = 0;
    for (int i = threadIdx.x; i < np; i += CUDA_THREADS) s += part[i];
    double t = block_sum(s);
    if (threadIdx.x == 0) *out = t;
}

template <typename T> static void reduce_sum(const T *x, size_t n, double *out) {
    unsigned grid = cuda_blocks(n);
    if (grid > REDUCE_GRID) grid = REDUCE_GRID;
    if (grid == 0) grid = 1;
    double *part = (double *)cuda_arena_alloc(grid * sizeof(double)); // [grid]
    partial_sums<T><<<grid, CUDA_THREADS>>>(x, n, part);
    CHECK_LAUNCH(partial_sums);
    final_sum<<<1, CUDA_THREADS>>>(part, (int)grid, out);
    CHECK_LAUNCH(final_sum);
}

extern "C" void cuda_reduce_sum_f(const real_t *x, size_t n, double *out) { reduce_sum(x, n, out); }
extern "C" void cuda_reduce_sum_d(const double *x, size_t n, double *out) { reduce_sum(x, n, out); }

__global__ void ratio_kernel(float *out, const double *num, const double *den, double d) {
    double q = den ? *den : d;
    out[0] = q > 0 ? (float)(*num / q) : 0.f; // as the CPU ops: nothing counted gives 0
}

extern "C" void cuda_scalar_ratio(real_t *out, const double *num, const double *den, double d) {
    ratio_kernel<<<1, 1>>>(out, num, den, d);
    CHECK_LAUNCH(ratio_kernel);
}

// One block per channel: its threads stride over n and the plane, then a tree sum.
__global__ void channel_sums(ChannelSumKind kind, const float *a, const float *dout, int N, int C, size_t plane,
                             double *part) {
    int c = blockIdx.x;
    double s = 0;
    for (size_t j = threadIdx.x; j < (size_t)N * plane; j += CUDA_THREADS) {
        size_t i = ((size_t)(j / plane) * C + c) * plane + j % plane;
        double d = dout[i];
        if (kind == CS_DOUT) s += d;
        else if (kind == CS_DOUT_A) s += d * a[i];
        else s += a[i] > 0 ? 0.0 : d * a[i];
    }
    double t = block_sum(s);
    if (threadIdx.x == 0) part[c] = t;
}

__global__ void channel_grad_add(const double *part, int C, float *grad, bool scalar) {
    if (!scalar) {
        int c = blockIdx.x * CUDA_THREADS + threadIdx.x;
        if (c < C) grad[c] += (float)part[c];
        return;
    }
    if (blockIdx.x || threadIdx.x) return;
    double s = 0;
    for (int c = 0; c < C; c++) s += part[c]; // channel order, as the CPU adds them
    grad[0] += (float)s;
}

extern "C" void cuda_channel_grad(ChannelSumKind kind, const real_t *a, const real_t *dout, int N, int C, size_t plane,
                                  real_t *grad, bool scalar) {
    double *part = (double *)cuda_arena_alloc((size_t)C * sizeof(double)); // [C]
    channel_sums<<<C, CUDA_THREADS>>>(kind, a, dout, N, C, plane, part);
    CHECK_LAUNCH(channel_sums);
    channel_grad_add<<<cuda_blocks(C), CUDA_THREADS>>>(part, C, grad, scalar);
    CHECK_LAUNCH(channel_grad_add);
}

// ---- op_sum, op_mean: the scalar's backward spreads dout[0] (times 1/n for the mean) ----

__global__ void spread_kernel(float *dx, const float *dout, size_t n, double div) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    float g = div == 1 ? dout[0] : (float)(dout[0] / div); // the CPU's rounding of g
    if (i < n) dx[i] += g;
}

static void spread_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    Tensor *x = nd->in[0];
    size_t n = tensor_numel(x);
    spread_kernel<<<cuda_blocks(n), CUDA_THREADS>>>(tensor_grad(x), nd->out->grad, n,
                                                    nd->op == OP_MEAN ? (double)n : 1.0);
    CHECK_LAUNCH(spread_kernel);
}

static Tensor *total_op(OpId id, Tensor *x) {
    cuda_need(op_name(id), "x", x);
    size_t n = tensor_numel(x);
    double *s = (double *)cuda_arena_alloc(sizeof(double));
    cuda_reduce_sum_f(x->data, n, s);
    Tensor *out = tensor_new_on(DEV_CUDA, 1, 1, 1, 1); // [1,1,1,1]
    cuda_scalar_ratio(out->data, s, NULL, id == OP_MEAN ? (double)n : 1.0);
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(id, spread_backward, out, x, NULL, NULL, NULL);
    return out;
}

extern "C" Tensor *cuda_op_sum(Tensor *x) { return total_op(OP_SUM, x); }
extern "C" Tensor *cuda_op_mean(Tensor *x) { return total_op(OP_MEAN, x); }
