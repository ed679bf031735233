// cuda_check.h: checked CUDA/cuDNN/cuBLAS calls, kernel launch checks and the device memory the CUDA ops share (.cu files only).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stddef.h>

extern "C" {
#include "util/err.h"
}

// A failed call is a broken invariant or an unusable device, never bad user input: rn_die names
// the call's text, the library's error string and file:line (through rn_die).
#define CHECK_CUDA(call)                                                                       \
    do {                                                                                       \
        cudaError_t e_ = (call);                                                               \
        if (e_ != cudaSuccess) rn_die("CUDA: %s failed: %s", #call, cudaGetErrorString(e_));   \
    } while (0)
#define CHECK_CUDNN(call)                                                                      \
    do {                                                                                       \
        cudnnStatus_t s_ = (call);                                                             \
        if (s_ != CUDNN_STATUS_SUCCESS) rn_die("cuDNN: %s failed: %s", #call, cudnnGetErrorString(s_)); \
    } while (0)
#define CHECK_CUBLAS(call)                                                                     \
    do {                                                                                       \
        cublasStatus_t s_ = (call);                                                            \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                       \
            rn_die("cuBLAS: %s failed: %s", #call, cublasGetStatusString(s_));                 \
    } while (0)
// After a kernel launch: a bad configuration shows at once, named by the kernel.
#define CHECK_LAUNCH(kernel)                                                                   \
    do {                                                                                       \
        cudaError_t e_ = cudaGetLastError();                                                   \
        if (e_ != cudaSuccess) rn_die("CUDA: launch of %s failed: %s", #kernel, cudaGetErrorString(e_)); \
    } while (0)

extern "C" {
// Device memory from the activation arena (nn/cuda/arena.cu): 64-byte aligned, valid until
// engine_step_reset; chunks are cudaMalloc'd on demand and kept, as the host arena does.
void *cuda_arena_alloc(size_t bytes);
// One shared scratch buffer of at least `bytes` (grows; contents undefined; cuda-dnn's).
void *cuda_workspace(size_t bytes);
}

// Threads per block of the one-thread-per-element kernels, and the grid that covers n elements.
enum { CUDA_THREADS = 256 };
static inline unsigned cuda_blocks(size_t n) { return (unsigned)((n + CUDA_THREADS - 1) / CUDA_THREADS); }

// Index arithmetic in 32 bits where the element count allows: a 64-bit integer division costs
// the GPU dozens of instructions, enough to make a memory-bound kernel that divides per element
// (channel of i, row of i) compute-bound at HBM3 bandwidth. Kernels so written take the index
// type I as a template parameter; CUDA_LAUNCH_IDX picks it from n and checks the launch.
static inline bool cuda_fits32(size_t n) { return n <= 0xffffffffu - CUDA_THREADS; }
#define CUDA_LAUNCH_IDX(kernel, n, ...)                                                        \
    do {                                                                                       \
        size_t n_ = (n);                                                                       \
        if (cuda_fits32(n_)) kernel<unsigned><<<cuda_blocks(n_), CUDA_THREADS>>>(__VA_ARGS__); \
        else kernel<size_t><<<cuda_blocks(n_), CUDA_THREADS>>>(__VA_ARGS__);                  \
        CHECK_LAUNCH(kernel);                                                                  \
    } while (0)
