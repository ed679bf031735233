/* cuda.h: the C face of the CUDA backend (built with `make CUDA=1`); all calls fail cleanly without a GPU. */
#pragma once
#include <stddef.h>

/* 1 when built with CUDA and a device is usable, else 0 (and rn_errmsg() says why). */
int cuda_available(void);
/* One line naming the device, driver/runtime and cuDNN/cuBLAS versions. */
int cuda_describe(char *buf, size_t n);
/* Device buffers (float32). */
float *cuda_alloc(size_t n);
void cuda_free(float *p);
int cuda_upload(float *dst, const float *src, size_t n);
int cuda_download(float *dst, const float *src, size_t n);

/* Which cuDNN API runs convolutions (default: RUNE_CUDNN_API=legacy|graph|auto, auto when unset):
 * the legacy algorithms, the backend graph API's autotuned plans (legacy where it has none), or
 * per shape and pass the faster of the two. Setting it re-decides shapes on their next call. */
typedef enum { CUDA_CONV_API_AUTO, CUDA_CONV_API_LEGACY, CUDA_CONV_API_GRAPH } CudaConvApi;
void cuda_conv_set_api(CudaConvApi api);
/* Convolution passes run since the last reset: through a graph plan, through the legacy API, and
 * (of the legacy ones) those the graph API was forced for but could not plan or run. */
typedef struct {
    long graph, legacy, graph_refused;
} CudaConvApiStats;
CudaConvApiStats cuda_conv_api_stats(int reset);
