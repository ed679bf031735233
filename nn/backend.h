/* backend.h: the table of op implementations a non-CPU device provides, and the dispatch line each CPU op begins with (and is timed by).
 *
 * The CPU implementation of an op is its file under nn/ops/; it begins with one OPS_DISPATCH line
 * that hands the call to the tensors' device backend when they are not on the CPU, so CPU code
 * never has an #ifdef and pays one branch per op. A backend is a table of function pointers with
 * the ops' own signatures (as ggml's backend interface: the caller never knows which one runs),
 * plus the memory functions tensor.c, params.c and optim.c need. The CUDA table is
 * ops_backend_cuda(): a weak definition in nn/backend.c returns NULL (CPU build), the strong one in
 * nn/cuda/backend_table.cu replaces it when the build has CUDA. */
#pragma once
#include <stddef.h>

#include "nn/device.h"
#include "nn/ops/ops.h"
#include "nn/profile.h"

/* Adam's per-step constants, computed once on the host in double as PyTorch does (nn/optim.c). */
typedef struct AdamCoef {
    real_t b1, b2, omb1, omb2, wd, step_size, bc2_sqrt, eps;
} AdamCoef;

/* SGD's: first is 1 on the first step (the momentum buffer starts as the gradient). */
typedef struct SgdCoef {
    real_t mom, wd, lr;
    int first;
} SgdCoef;

typedef struct OpsBackend {
    const char *name; /* "cuda" */
    int (*available)(void); /* 1 when a device is usable, else 0 with rn_fail saying why */

    /* ---- memory (bytes; p, dst, src on this device unless a Device says otherwise) ---- */
    void *(*arena_alloc)(size_t bytes);  /* activations: valid until engine_step_reset */
    void (*arena_reset)(void);
    ArenaMark (*arena_mark)(void);       /* as nn/arena.h's, on the device arena */
    void (*arena_rewind)(ArenaMark m);
    void *(*block_alloc)(size_t bytes);  /* persistent (parameters, moments), zeroed */
    void (*block_free)(void *p);
    void (*memzero)(void *p, size_t bytes);
    void (*copy)(void *dst, Device dst_dev, const void *src, Device src_dev, size_t bytes);
    void (*fill)(real_t *p, size_t n, real_t v);
    void (*accumulate)(real_t *dst, const real_t *src, size_t n); /* dst += src */
    void (*synchronize)(void); /* waits for all queued device work (the breakdown's clock) */

    /* ---- optimizers over flat buffers of n values ---- */
    void (*adam_step)(real_t *p, const real_t *g, real_t *m, real_t *v, size_t n, AdamCoef c);
    void (*sgd_step)(real_t *p, const real_t *g, real_t *buf, size_t n, SgdCoef c);

    /* ---- the ops of nn/ops/ops.h, same signatures ---- */
    Tensor *(*add)(Tensor *a, Tensor *b);
    Tensor *(*mul)(Tensor *a, Tensor *b);
    Tensor *(*scale)(Tensor *x, real_t alpha);
    Tensor *(*relu)(Tensor *x);
    Tensor *(*leaky_relu)(Tensor *x, real_t slope);
    Tensor *(*prelu)(Tensor *x, Tensor *w);
    Tensor *(*sigmoid)(Tensor *x);
    Tensor *(*clamp)(Tensor *x, real_t lo, real_t hi);
    Tensor *(*conv2d)(Tensor *x, Tensor *w, Tensor *b, ConvArgs a);
    Tensor *(*conv_transpose2d)(Tensor *x, Tensor *w, Tensor *b, ConvArgs a, int out_pad_h, int out_pad_w);
    Tensor *(*batch_norm)(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar, bool training,
                          real_t momentum, real_t eps);
    Tensor *(*concat)(Tensor **xs, int n);
    Tensor *(*slice_channels)(Tensor *x, int c0, int nc);
    Tensor *(*pixel_shuffle)(Tensor *x, int r);
    Tensor *(*resize_bilinear)(Tensor *x, int oh, int ow);
    Tensor *(*upsample_nearest)(Tensor *x, int factor);
    Tensor *(*max_pool2d)(Tensor *x, int k, int s, int p);
    Tensor *(*max_pool2d_at)(Tensor *x, int k, int s, int off, int OH, int OW, OpId id);
    Tensor *(*avg_pool2d)(Tensor *x, int k, int s, int p);
    Tensor *(*adaptive_avg_pool2d)(Tensor *x, int oh, int ow);
    Tensor *(*sum)(Tensor *x);
    Tensor *(*mean)(Tensor *x);
    Tensor *(*cross_entropy)(Tensor *logits, const unsigned char *labels, int ignore, const real_t *weight);
    Tensor *(*l1_loss)(Tensor *a, Tensor *b);
    Tensor *(*mse_loss)(Tensor *a, Tensor *b);
    Tensor *(*bce_with_logits)(Tensor *x, Tensor *t, const real_t *weight);
    Tensor *(*focal_loss)(Tensor *x, Tensor *t, real_t alpha, real_t gamma);
} OpsBackend;

/* The CUDA backend, or NULL when the build has none. */
const OpsBackend *ops_backend_cuda(void);

/* For a --device flag: "cpu" or "cuda" into *d, then 0 when that device can run here; else -1
 * with rn_fail saying why (unknown name, a build without CUDA, no usable GPU). */
int device_parse(const char *name, Device *d);
int device_ready(Device d);

/* The backend of device d (never DEV_CPU); dies naming `what` when this build has none. */
const OpsBackend *ops_backend(Device d, const char *what);

/* The device an op on a and b runs on: a's, or b's when a is on the host (b may be NULL). The
 * backend's op then checks that every tensor is on its device, so mixing dies with a message. */
static inline Device ops_device(const Tensor *a, const Tensor *b) {
    return a->device != DEV_CPU ? a->device : b ? b->device : DEV_CPU;
}

/* First line of every CPU op, inside the function op_<op>: run op on device `dev`'s backend when
 * that is not the host; while a breakdown is recorded (nn/profile.h), the call is timed under the
 * op's name: on a device around the backend's op, on the host by calling op_<op> once more, whose
 * own first line then runs the body (profile_cpu_reenter). Off, the host pays one branch. */
#define OPS_DISPATCH(op, dev, ...)                                                             \
    do {                                                                                       \
        Device d_ = (dev);                                                                     \
        if (d_ != DEV_CPU) {                                                                   \
            if (!g_profile_on) return ops_backend(d_, #op)->op(__VA_ARGS__);                   \
            double t_ = profile_begin();                                                       \
            Tensor *r_ = ops_backend(d_, #op)->op(__VA_ARGS__);                                \
            profile_end(PROF_FWD, #op, t_);                                                    \
            return r_;                                                                         \
        }                                                                                      \
        if (g_profile_on && profile_cpu_reenter(__func__, "op_" #op)) {                        \
            double t_ = profile_begin();                                                       \
            Tensor *r_ = op_##op(__VA_ARGS__);                                                 \
            profile_end(PROF_FWD, #op, t_);                                                    \
            return r_;                                                                         \
        }                                                                                      \
    } while (0)
