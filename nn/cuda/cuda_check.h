/* cuda_check.h: CHECK_CUDA / CHECK_CUDNN / CHECK_CUBLAS — every call checked, failures named with file:line. */
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

extern "C" {
#include "util/err.h"
}

/* Each macro turns a failed call into rune's recoverable error (rn_fail, return -1) naming the
 * call, its status and where it was made; use them in functions that return int. */
#define CHECK_CUDA(x)                                                                                   \
    do {                                                                                                \
        cudaError_t e_ = (x);                                                                           \
        if (e_ != cudaSuccess)                                                                          \
            return rn_fail("CUDA: %s at %s:%d (%s)", cudaGetErrorString(e_), __FILE__, __LINE__, #x);  \
    } while (0)
#define CHECK_CUDNN(x)                                                                                  \
    do {                                                                                                \
        cudnnStatus_t s_ = (x);                                                                         \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                                 \
            return rn_fail("cuDNN: %s at %s:%d (%s)", cudnnGetErrorString(s_), __FILE__, __LINE__, #x); \
    } while (0)
#define CHECK_CUBLAS(x)                                                                                 \
    do {                                                                                                \
        cublasStatus_t s_ = (x);                                                                        \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                                \
            return rn_fail("cuBLAS: %s at %s:%d (%s)", cublasGetStatusString(s_), __FILE__, __LINE__, #x); \
    } while (0)
