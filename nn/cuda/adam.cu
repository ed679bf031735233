// adam.cu: the Adam and SGD updates as one kernel each over a flat parameter range on the device.
#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
}

// The CPU loop of nn/optim.c (adam_range) element for element, with the same host-made constants.
__global__ void adam_kernel(float *p, const float *grad, float *m, float *v, size_t n, AdamCoef c) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = grad[i] + c.wd * p[i];
    m[i] = m[i] * c.b1 + g * c.omb1;
    v[i] = v[i] * c.b2 + c.omb2 * g * g;
    float denom = sqrtf(v[i]) / c.bc2_sqrt + c.eps;
    p[i] -= c.step_size * m[i] / denom;
}

__global__ void sgd_kernel(float *p, const float *grad, float *buf, size_t n, SgdCoef c) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = grad[i] + c.wd * p[i];
    buf[i] = c.first ? g : buf[i] * c.mom + g;
    p[i] -= c.lr * buf[i];
}

extern "C" void cuda_adam_step(real_t *p, const real_t *g, real_t *m, real_t *v, size_t n, AdamCoef c) {
    if (!n) return;
    adam_kernel<<<cuda_blocks(n), CUDA_THREADS>>>(p, g, m, v, n, c);
    CHECK_LAUNCH(adam_kernel);
}

extern "C" void cuda_sgd_step(real_t *p, const real_t *g, real_t *buf, size_t n, SgdCoef c) {
    if (!n) return;
    sgd_kernel<<<cuda_blocks(n), CUDA_THREADS>>>(p, g, buf, n, c);
    CHECK_LAUNCH(sgd_kernel);
}
