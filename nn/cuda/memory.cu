// memory.cu: the device activation arena, persistent blocks, copies and the small fill/accumulate kernels.
#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/arena.h"
#include "nn/cuda/cuda_ops.h"
#include "nn/profile.h"
#include "util/progress.h"
}

// While a breakdown is recorded, the host calls that can stall a step (allocation, frees, copies,
// memsets: each may wait for the device) are timed and counted under their own names.
#define HOST_TIMED(name, call)                                                                 \
    do {                                                                                       \
        if (!g_profile_on) {                                                                   \
            call;                                                                              \
            break;                                                                             \
        }                                                                                      \
        double t_ = now_seconds();                                                             \
        call;                                                                                  \
        profile_add(name, now_seconds() - t_);                                                 \
    } while (0)

static void *dev_malloc(size_t bytes) {
    void *p = NULL;
    HOST_TIMED("cudaMalloc", CHECK_CUDA(cudaMalloc(&p, bytes)));
    return p;
}

static void dev_free(void *p) { HOST_TIMED("cudaFree", CHECK_CUDA(cudaFree(p))); }

extern "C" void cuda_synchronize(void) { CHECK_CUDA(cudaDeviceSynchronize()); }

// The host Arena's bookkeeping over cudaMalloc'd chunks: bump allocation, chunks kept on reset and
// regrown to the peak request, exactly as the CPU arena (nn/arena.c) does.
static Arena g_arena;
static bool g_ready;

extern "C" void *cuda_arena_alloc(size_t bytes) {
    if (!g_ready) {
        arena_init_with(&g_arena, 256u << 20, dev_malloc, dev_free);
        g_ready = true;
    }
    return arena_alloc(&g_arena, bytes ? bytes : 1);
}

// Called by engine_step_reset in every CUDA build, GPU or not: touches no device before first use.
extern "C" void cuda_arena_reset(void) {
    if (g_ready) arena_reset(&g_arena);
}

// Before first use the mark is empty and rewinding to it resets: nothing was allocated before it.
extern "C" ArenaMark cuda_arena_mark(void) {
    ArenaMark m = {NULL, 0, 0};
    return g_ready ? arena_mark(&g_arena) : m;
}

extern "C" void cuda_arena_rewind(ArenaMark m) {
    if (g_ready) arena_rewind(&g_arena, m);
}

extern "C" void *cuda_block_alloc(size_t bytes) {
    void *p = dev_malloc(bytes ? bytes : 1);
    CHECK_CUDA(cudaMemset(p, 0, bytes ? bytes : 1));
    return p;
}

extern "C" void cuda_block_free(void *p) {
    if (p) dev_free(p);
}

extern "C" void cuda_memzero(void *p, size_t bytes) {
    if (bytes) HOST_TIMED("cudaMemset (zero grads)", CHECK_CUDA(cudaMemsetAsync(p, 0, bytes)));
}

extern "C" void cuda_copy(void *dst, Device dd, const void *src, Device sd, size_t bytes) {
    cudaMemcpyKind k = dd == DEV_CPU ? (sd == DEV_CPU ? cudaMemcpyHostToHost : cudaMemcpyDeviceToHost)
                                     : (sd == DEV_CPU ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToDevice);
    static const char *const names[] = {"cudaMemcpy host->host", "cudaMemcpy host->device",
                                        "cudaMemcpy device->host", "cudaMemcpy device->device"};
    if (bytes) HOST_TIMED(names[k], CHECK_CUDA(cudaMemcpy(dst, src, bytes, k)));
}

extern "C" void *cuda_upload_arena(const void *host, size_t bytes) {
    if (!host) return NULL;
    void *d = cuda_arena_alloc(bytes);
    cuda_copy(d, DEV_CUDA, host, DEV_CPU, bytes);
    return d;
}

extern "C" void cuda_need(const char *op, const char *arg, const Tensor *t) {
    if (t && t->device != DEV_CUDA)
        rn_die("%s on cuda: %s is on %s (move it with tensor_to or params_to_device)", op, arg, device_name(t->device));
}

__global__ void fill_kernel(float *p, size_t n, float v) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) p[i] = v;
}

__global__ void accumulate_kernel(float *dst, const float *src, size_t n) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) dst[i] += src[i];
}

extern "C" void cuda_fill(real_t *p, size_t n, real_t v) {
    if (!n) return;
    fill_kernel<<<cuda_blocks(n), CUDA_THREADS>>>(p, n, v);
    CHECK_LAUNCH(fill_kernel);
}

extern "C" void cuda_accumulate(real_t *dst, const real_t *src, size_t n) {
    if (!n) return;
    accumulate_kernel<<<cuda_blocks(n), CUDA_THREADS>>>(dst, src, n);
    CHECK_LAUNCH(accumulate_kernel);
}
