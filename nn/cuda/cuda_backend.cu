// cuda_backend.cu: device discovery, memory, cuBLAS GEMM, cuDNN conv and the ReLU kernels.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdio.h>

extern "C" {
#include "nn/cuda/cuda.h"
#include "util/err.h"
}

// Every CUDA/cuDNN/cuBLAS call is checked; failures become rune's recoverable errors with file:line.
#define CHECK_CUDA(x)                                                                          \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess)                                                                 \
            return rn_fail("CUDA: %s at %s:%d (%s)", cudaGetErrorString(e_), __FILE__, __LINE__, #x); \
    } while (0)
#define CHECK_CUDNN(x)                                                                         \
    do {                                                                                       \
        cudnnStatus_t s_ = (x);                                                                \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                        \
            return rn_fail("cuDNN: %s at %s:%d (%s)", cudnnGetErrorString(s_), __FILE__, __LINE__, #x); \
    } while (0)
#define CHECK_CUBLAS(x)                                                                        \
    do {                                                                                       \
        cublasStatus_t s_ = (x);                                                               \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                       \
            return rn_fail("cuBLAS: status %d at %s:%d (%s)", (int)s_, __FILE__, __LINE__, #x); \
    } while (0)

static cublasHandle_t g_blas;
static cudnnHandle_t g_dnn;

static int handles(void) {
    if (!g_blas) CHECK_CUBLAS(cublasCreate(&g_blas));
    if (!g_dnn) CHECK_CUDNN(cudnnCreate(&g_dnn));
    return 0;
}

extern "C" int cuda_available(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        rn_fail("no CUDA device (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "count 0");
        return 0;
    }
    return 1;
}

extern "C" int cuda_describe(char *buf, size_t n) {
    cudaDeviceProp p;
    int drv = 0, rt = 0;
    CHECK_CUDA(cudaGetDeviceProperties(&p, 0));
    CHECK_CUDA(cudaDriverGetVersion(&drv));
    CHECK_CUDA(cudaRuntimeGetVersion(&rt));
    snprintf(buf, n, "%s (sm_%d%d, %.0f GiB), driver %d, runtime %d, cuDNN %zu, cuBLAS %d", p.name,
             p.major, p.minor, p.totalGlobalMem / 1073741824.0, drv, rt, cudnnGetVersion(),
             CUBLAS_VERSION);
    return 0;
}

extern "C" float *cuda_alloc(size_t n) {
    void *p = NULL;
    if (cudaMalloc(&p, n * sizeof(float)) != cudaSuccess) rn_die("cudaMalloc of %zu floats failed", n);
    return (float *)p;
}

extern "C" void cuda_free(float *p) { cudaFree(p); }

extern "C" int cuda_upload(float *dst, const float *src, size_t n) {
    CHECK_CUDA(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyHostToDevice));
    return 0;
}

extern "C" int cuda_download(float *dst, const float *src, size_t n) {
    CHECK_CUDA(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyDeviceToHost));
    return 0;
}

extern "C" int cuda_gemm(int M, int N, int K, const float *A, const float *B, float *C) {
    if (handles() < 0) return -1;
    const float one = 1.f, zero = 0.f;
    // Row-major C = A B is column-major C^T = B^T A^T: swap the operands instead of transposing.
    CHECK_CUBLAS(cublasSgemm(g_blas, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, N, A, K, &zero, C, N));
    return 0;
}

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

extern "C" int cuda_conv2d_forward(const float *x, int n, int c, int h, int w, const float *wt, int cout,
                                   int kh, int kw, const float *bias, int stride, int pad, int dil,
                                   int groups, float *y, int *oh, int *ow) {
    if (handles() < 0) return -1;
    cudnnTensorDescriptor_t xd, yd, bd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    CHECK_CUDNN(cudnnCreateTensorDescriptor(&xd));
    CHECK_CUDNN(cudnnCreateTensorDescriptor(&yd));
    CHECK_CUDNN(cudnnCreateTensorDescriptor(&bd));
    CHECK_CUDNN(cudnnCreateFilterDescriptor(&wd));
    CHECK_CUDNN(cudnnCreateConvolutionDescriptor(&cd));
    CHECK_CUDNN(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
    CHECK_CUDNN(cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, cout, c / groups, kh, kw));
    CHECK_CUDNN(cudnnSetConvolution2dDescriptor(cd, pad, pad, stride, stride, dil, dil,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CHECK_CUDNN(cudnnSetConvolutionGroupCount(cd, groups));
    int yn, yc, yh, yw;
    CHECK_CUDNN(cudnnGetConvolution2dForwardOutputDim(cd, xd, wd, &yn, &yc, &yh, &yw));
    CHECK_CUDNN(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, yn, yc, yh, yw));
    cudnnConvolutionFwdAlgoPerf_t perf;
    int got = 0;
    CHECK_CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(g_dnn, xd, wd, cd, yd, 1, &got, &perf));
    size_t ws = 0;
    CHECK_CUDNN(cudnnGetConvolutionForwardWorkspaceSize(g_dnn, xd, wd, cd, yd, perf.algo, &ws));
    void *work = NULL;
    if (ws) CHECK_CUDA(cudaMalloc(&work, ws));
    const float one = 1.f, zero = 0.f;
    CHECK_CUDNN(cudnnConvolutionForward(g_dnn, &one, xd, x, wd, wt, cd, perf.algo, work, ws, &zero, yd, y));
    if (bias) {
        CHECK_CUDNN(cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, cout, 1, 1));
        CHECK_CUDNN(cudnnAddTensor(g_dnn, &one, bd, bias, &one, yd, y));
    }
    if (work) cudaFree(work);
    cudnnDestroyTensorDescriptor(xd);
    cudnnDestroyTensorDescriptor(yd);
    cudnnDestroyTensorDescriptor(bd);
    cudnnDestroyFilterDescriptor(wd);
    cudnnDestroyConvolutionDescriptor(cd);
    *oh = yh, *ow = yw;
    return 0;
}
