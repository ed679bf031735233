/* backend.c: finding a device's op table; the weak "no CUDA in this build" default. */
#include "nn/backend.h"

#include <stdio.h>
#include <string.h>

#include "util/err.h"

/* Overridden by the strong definition in nn/cuda/backend_table.cu when built with CUDA=1. */
__attribute__((weak)) const OpsBackend *ops_backend_cuda(void) { return NULL; }

const char *device_name(Device d) { return d == DEV_CPU ? "cpu" : d == DEV_CUDA ? "cuda" : "?"; }

int device_parse(const char *name, Device *d) {
    if (!strcmp(name, "cpu")) *d = DEV_CPU;
    else if (!strcmp(name, "cuda")) *d = DEV_CUDA;
    else return rn_fail("unknown device '%s' (cpu or cuda)", name);
    return 0;
}

int device_ready(Device d) {
    if (d == DEV_CPU) return 0;
    const OpsBackend *b = d == DEV_CUDA ? ops_backend_cuda() : NULL;
    if (!b) return rn_fail("device %s: this build has no %s backend (rebuild with make CUDA=1)", device_name(d), device_name(d));
    if (!b->available()) {
        char why[256]; /* rn_fail formats into the buffer rn_errmsg() reads: copy it first */
        snprintf(why, sizeof why, "%s", rn_errmsg());
        return rn_fail("device %s: %s", device_name(d), why);
    }
    return 0;
}

const OpsBackend *ops_backend(Device d, const char *what) {
    const OpsBackend *b = d == DEV_CUDA ? ops_backend_cuda() : NULL;
    if (!b) rn_die("%s: tensor on device %s, but this build has no %s backend (rebuild with make CUDA=1)", what,
                   device_name(d), device_name(d));
    return b;
}
