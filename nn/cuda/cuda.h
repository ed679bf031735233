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
