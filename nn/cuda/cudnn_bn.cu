// batch_norm.cu: batch norm through cuDNN (spatial mode): training and inference forward, and both backwards.
#include <math.h>

#include "nn/cuda/dnn.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
}
#include "nn/cuda/dnn_desc.h"

// The per-channel descriptor cuDNN derives from x's ([1,c,1,1]), beside x's own.
struct BnDescs {
    TensorDesc x, ch;
    int make(int n, int c, int h, int w) {
        TRY(x.make(n, c, h, w));
        CHECK_CUDNN(cudnnCreateTensorDescriptor(&ch.d));
        CHECK_CUDNN(cudnnDeriveBNTensorDescriptor(ch.d, x.d, CUDNN_BATCHNORM_SPATIAL));
        return 0;
    }
};

static int check_eps(double eps) {
    if (eps < CUDNN_BN_MIN_EPSILON)
        return rn_fail("batch_norm on CUDA: eps %g is below cuDNN's minimum %g", eps, (double)CUDNN_BN_MIN_EPSILON);
    return 0;
}

// A device vector of c copies of v, kept for the process (cuDNN wants gamma/beta even when the
// layer has none: ones and zeros stand in).
static int constant(int c, float v, const float **out) {
    static float *ones, *zeros;
    static int ones_n, zeros_n;
    float **p = v == 1.f ? &ones : &zeros;
    int *n = v == 1.f ? &ones_n : &zeros_n;
    if (*n < c) {
        cuda_block_free(*p);
        *p = (float *)cuda_block_alloc((size_t)c * sizeof(float)), *n = c;
        cuda_fill(*p, (size_t)c, v);
    }
    *out = *p;
    return 0;
}

extern "C" int cuda_bn_forward_train(int n, int c, int h, int w, const float *x, float *y, const float *gamma,
                                     const float *beta, double momentum, double eps, float *rmean, float *rvar,
                                     float *save_mean, float *save_istd) {
    cudnnHandle_t hd;
    BnDescs d;
    const float one = 1.f, zero = 0.f;
    TRY(check_eps(eps));
    if (!rmean != !rvar) return rn_fail("batch_norm on CUDA: running mean and variance come together or not at all");
    TRY(cuda_dnn_handle(&hd));
    TRY(d.make(n, c, h, w));
    if (!gamma) TRY(constant(c, 1.f, &gamma));
    if (!beta) TRY(constant(c, 0.f, &beta));
    // cuDNN's running update is r = (1 - factor) r + factor * batch with the unbiased variance
    // (apache/mxnet#21111 measured it against its own biased one), which is PyTorch's convention
    // with factor = momentum: no correction needed. test_cuda_dnn's batch-norm cases check it.
    CHECK_CUDNN(cudnnBatchNormalizationForwardTraining(hd, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x.d, x, d.x.d, y,
                                                       d.ch.d, gamma, beta, momentum, rmean, rvar, eps, save_mean,
                                                       save_istd));
    return 0;
}

extern "C" int cuda_bn_forward_infer(int n, int c, int h, int w, const float *x, float *y, const float *gamma,
                                     const float *beta, const float *rmean, const float *rvar, double eps) {
    cudnnHandle_t hd;
    BnDescs d;
    const float one = 1.f, zero = 0.f;
    TRY(check_eps(eps));
    TRY(cuda_dnn_handle(&hd));
    TRY(d.make(n, c, h, w));
    if (!gamma) TRY(constant(c, 1.f, &gamma));
    if (!beta) TRY(constant(c, 0.f, &beta));
    CHECK_CUDNN(cudnnBatchNormalizationForwardInference(hd, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x.d, x, d.x.d, y,
                                                        d.ch.d, gamma, beta, rmean, rvar, eps));
    return 0;
}

// cuDNN's backward writes dx, dgamma and dbeta together: a gradient nobody wants goes to scratch
// (zeroed, as its scale factor is shared with a wanted one). scratch holds numel + 2c floats.
static int bn_backward(const BnDescs &d, size_t numel, int c, const float *x, const float *dy, const float *gamma,
                       const float *mean, const float *istd, double eps, float *dx, float *dgamma, float *dbeta,
                       float *scratch) {
    cudnnHandle_t hd;
    const float one = 1.f, zero = 0.f;
    TRY(cuda_dnn_handle(&hd));
    if (!gamma) TRY(constant(c, 1.f, &gamma));
    const float *beta_data = dx ? &one : &zero, *beta_param = dgamma || dbeta ? &one : &zero;
    if (!dx) dx = scratch;
    if (!dgamma) dgamma = scratch + numel;
    if (!dbeta) dbeta = scratch + numel + c;
    CHECK_CUDA(cudaMemsetAsync(scratch + numel, 0, 2 * (size_t)c * sizeof(float)));
    CHECK_CUDNN(cudnnBatchNormalizationBackward(hd, CUDNN_BATCHNORM_SPATIAL, &one, beta_data, &one, beta_param, d.x.d,
                                                x, d.x.d, dy, d.x.d, dx, d.ch.d, gamma, dgamma, dbeta, eps, mean,
                                                istd));
    return 0;
}

extern "C" int cuda_bn_backward_train(int n, int c, int h, int w, const float *x, const float *dy, const float *gamma,
                                      const float *save_mean, const float *save_istd, double eps, float *dx,
                                      float *dgamma, float *dbeta) {
    BnDescs d;
    size_t numel = (size_t)n * c * h * w;
    TRY(check_eps(eps));
    TRY(d.make(n, c, h, w));
    float *scratch = (float *)cuda_workspace((numel + 2 * (size_t)c) * sizeof(float));
    if (!scratch) return -1;
    return bn_backward(d, numel, c, x, dy, gamma, save_mean, save_istd, eps, dx, dgamma, dbeta, scratch);
}

// istd[c] = 1 / sqrt(rvar[c] + eps), in double as the CPU op does.
__global__ void inv_std_kernel(const float *rvar, float *istd, int c, double eps) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < c) istd[i] = (float)(1.0 / sqrt((double)rvar[i] + eps));
}

// dx[i] += dy[i] * gamma[ch] * istd[ch] over [n,c,plane]: the statistics are constants here.
template <typename I>
__global__ void scale_dy_kernel(const float *dy, const float *gamma, const float *istd, float *dx, size_t numel,
                                int c, size_t plane) {
    I i = blockIdx.x * (I)blockDim.x + threadIdx.x;
    if (i >= (I)numel) return;
    int ch = (int)((i / (I)plane) % (I)c);
    dx[i] += dy[i] * (gamma[ch] * istd[ch]);
}

extern "C" int cuda_bn_backward_infer(int n, int c, int h, int w, const float *x, const float *dy, const float *gamma,
                                      const float *rmean, const float *rvar, double eps, float *dx, float *dgamma,
                                      float *dbeta) {
    BnDescs d;
    size_t numel = (size_t)n * c * h * w, plane = (size_t)h * w;
    TRY(check_eps(eps));
    TRY(d.make(n, c, h, w));
    if (!gamma) TRY(constant(c, 1.f, &gamma));
    // scratch: istd [c], then what bn_backward needs when dgamma/dbeta are wanted
    bool params = dgamma || dbeta;
    float *istd = (float *)cuda_workspace(((params ? numel + 2 * (size_t)c : 0) + c) * sizeof(float));
    if (!istd) return -1;
    inv_std_kernel<<<(c + 255) / 256, 256>>>(rvar, istd, c, eps);
    CHECK_CUDA(cudaGetLastError());
    if (dx) {
        CUDA_LAUNCH_IDX(scale_dy_kernel, numel, dy, gamma, istd, dx, numel, c, plane);
    }
    // dgamma / dbeta do not involve the statistics' own gradients: cuDNN's training backward with
    // the running statistics in place of the batch's gives them; its dx (the training one) is discarded
    if (params) TRY(bn_backward(d, numel, c, x, dy, gamma, rmean, istd, eps, NULL, dgamma, dbeta, istd + c));
    return 0;
}
