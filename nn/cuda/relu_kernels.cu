// relu_kernels.cu: ReLU forward and backward on raw device pointers (used by test_cuda's smoke test).
extern "C" {
#include "nn/cuda/cuda.h"
}
#include "nn/cuda/cuda_check.h"

__global__ void relu_fwd(const float *x, float *y, size_t n) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i] > 0.f ? x[i] : 0.f;
}

__global__ void relu_bwd(const float *y, const float *dy, float *dx, size_t n) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) dx[i] += y[i] > 0.f ? dy[i] : 0.f;
}

extern "C" int cuda_relu_forward(const float *x, float *y, size_t n) {
    relu_fwd<<<(unsigned)((n + 255) / 256), 256>>>(x, y, n);
    CHECK_CUDA(cudaGetLastError());
    return 0;
}

extern "C" int cuda_relu_backward(const float *y, const float *dy, float *dx, size_t n) {
    relu_bwd<<<(unsigned)((n + 255) / 256), 256>>>(y, dy, dx, n);
    CHECK_CUDA(cudaGetLastError());
    return 0;
}
