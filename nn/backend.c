/* backend.c: finding a device's op table; the weak "no CUDA in this build" default. */
#include "nn/backend.h"

#include "util/err.h"

/* Overridden by the strong definition in nn/cuda/backend_table.cu when built with CUDA=1. */
__attribute__((weak)) const OpsBackend *ops_backend_cuda(void) { return NULL; }

const char *device_name(Device d) { return d == DEV_CPU ? "cpu" : d == DEV_CUDA ? "cuda" : "?"; }

const OpsBackend *ops_backend(Device d, const char *what) {
    const OpsBackend *b = d == DEV_CUDA ? ops_backend_cuda() : NULL;
    if (!b) rn_die("%s: tensor on device %s, but this build has no %s backend (rebuild with make CUDA=1)", what,
                   device_name(d), device_name(d));
    return b;
}
