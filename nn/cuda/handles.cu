// handles.cu: device discovery, device buffers, the cuDNN / cuBLAS handles (TF32 off) and the shared workspace.
#include <stdio.h>

extern "C" {
#include "nn/cuda/cuda.h"
#include "nn/profile.h"
#include "util/progress.h"
}
#include "nn/cuda/dnn.h"
#include "nn/cuda/cuda_check.h"

static cudnnHandle_t g_dnn;
static cublasHandle_t g_blas;
static void *g_work;       // the shared workspace
static size_t g_work_size; // its bytes

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
    snprintf(buf, n, "%s (sm_%d%d, %.0f GiB), driver %d, runtime %d, cuDNN %zu, cuBLAS %d", p.name, p.major,
             p.minor, p.totalGlobalMem / 1073741824.0, drv, rt, cudnnGetVersion(), CUBLAS_VERSION);
    return 0;
}

extern "C" float *cuda_alloc(size_t n) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, n * sizeof(float));
    if (e != cudaSuccess) rn_die("cudaMalloc of %zu floats failed: %s", n, cudaGetErrorString(e));
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

extern "C" int cuda_dnn_handle(cudnnHandle_t *h) {
    if (!g_dnn) CHECK_CUDNN(cudnnCreate(&g_dnn));
    *h = g_dnn;
    return 0;
}

extern "C" int cuda_blas_handle(cublasHandle_t *h) {
    if (!g_blas) {
        cublasHandle_t b;
        CHECK_CUBLAS(cublasCreate(&b));
        // DEFAULT_MATH never converts float32 to TF32 (that takes CUBLAS_TF32_TENSOR_OP_MATH)
        cublasStatus_t s = cublasSetMathMode(b, CUBLAS_DEFAULT_MATH);
        if (s != CUBLAS_STATUS_SUCCESS) {
            cublasDestroy(b);
            CHECK_CUBLAS(s);
        }
        g_blas = b;
    }
    *h = g_blas;
    return 0;
}

extern "C" void *cuda_workspace(size_t bytes) {
    if (bytes <= g_work_size && g_work) return g_work;
    double t0 = now_seconds();
    // cudaFree waits for the kernels still reading the old buffer (all on the default stream)
    if (g_work) CHECK_CUDA(cudaFree(g_work));
    g_work = NULL, g_work_size = 0;
    size_t want = bytes < (1u << 20) ? (1u << 20) : bytes;
    cudaError_t e = cudaMalloc(&g_work, want);
    if (e != cudaSuccess) {
        g_work = NULL;
        rn_fail("CUDA: cannot grow the workspace to %zu bytes: %s", want, cudaGetErrorString(e));
        return NULL;
    }
    g_work_size = want;
    profile_add("workspace regrow (free+malloc)", now_seconds() - t0);
    return g_work;
}
