/* tensor.h: the engine's tensor (float32 NCHW shape, data, grad) and its global state (arena, grad mode). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "nn/arena.h"
#include "nn/device.h"
#include "nn/real.h"

/* A tensor is always 4-D in PyTorch's NCHW order: shape[0]=N, [1]=C, [2]=H, [3]=W. Lower-rank
 * values use trailing 1s (a scalar loss is 1x1x1x1, a bias [C] is Cx1x1x1). Memory is contiguous
 * row-major in that order, on `device` (data and grad both; the header itself is always host
 * memory). Activations live in the engine arena (a device arena for a device tensor) and die at
 * engine_step_reset(); parameters live in a ParamSet (nn/params.h). */
typedef struct Tensor {
    int shape[4];
    real_t *data;
    real_t *grad;       /* dL/d(this); NULL until a gradient reaches it (activations) */
    bool requires_grad; /* a gradient is wanted here or upstream of here */
    bool is_param;      /* grad buffer is owned by a ParamSet */
    const char *name;   /* parameter name or NULL */
    Device device;      /* where data and grad live; DEV_CPU (0) unless made on or moved to a device */
} Tensor;

static inline size_t tensor_numel(const Tensor *t) {
    return (size_t)t->shape[0] * t->shape[1] * t->shape[2] * t->shape[3];
}
#define TN(t) ((t)->shape[0])
#define TC(t) ((t)->shape[1])
#define TH(t) ((t)->shape[2])
#define TW(t) ((t)->shape[3])

/* Engine-global state: one arena for activations and tape nodes, the grad-mode switch. */
Arena *engine_arena(void);
void engine_step_reset(void); /* clears the tape and the arena: every activation becomes invalid */
/* A point in both arenas (host, and the device's when the build has one): inference loops that
 * rewind per tile or frame must free device activations too, or device memory grows per tile. */
typedef struct EngineMark {
    ArenaMark host, dev;
} EngineMark;
EngineMark engine_mark(void);
void engine_rewind(EngineMark m); /* no tape may refer to what was allocated after m */
bool engine_grad_enabled(void);
bool engine_set_grad(bool on); /* returns the previous mode */

/* New tensors in the arena (host). */
Tensor *tensor_new(int n, int c, int h, int w);      /* uninitialised data */
Tensor *tensor_zeros(int n, int c, int h, int w);
Tensor *tensor_like(const Tensor *t);                /* same shape and device, uninitialised */
Tensor *tensor_zeros_like(const Tensor *t);          /* same shape and device, zeroed */
Tensor *tensor_view(const Tensor *t, int n, int c, int h, int w); /* same data, new shape, no grad link */
Tensor *tensor_from(const real_t *src, int n, int c, int h, int w); /* copy of host memory src */

/* New tensor on device d (the device's arena; tensor_new for DEV_CPU), uninitialised. Dies when
 * the build has no backend for d. */
Tensor *tensor_new_on(Device d, int n, int c, int h, int w);
/* Explicit move: a new arena tensor on d holding a copy of t's data (no grad, no tape link). The
 * only way data crosses between host and device; a copy even when t is already on d. */
Tensor *tensor_to(const Tensor *t, Device d);
/* t itself when it is already on d, else tensor_to(t, d): for constants a model makes on the host
 * (normalisation factors, masks) that must meet an input wherever it lives. */
Tensor *tensor_on(Tensor *t, Device d);
/* t for reading on the host: t itself on DEV_CPU, else a host copy (for host-side post-processing
 * of outputs: argmax, box decoding, loss targets). */
const Tensor *tensor_host(const Tensor *t);
/* The value of a one-element tensor (a loss) on the host, wherever it lives. */
double tensor_item(const Tensor *t);

/* Gradient buffer of t, allocated zeroed in t's device arena on first use. */
real_t *tensor_grad(Tensor *t);
/* The same buffer for a backward that writes EVERY element of it: on first use it is left
 * uninitialised and *accumulate is false (store dL/dt, do not add), afterwards *accumulate is true
 * (add, as into tensor_grad). Saves zeroing a buffer only to add into it once: 4 % of a CARN-M
 * training step went to that. Off the host it is tensor_grad with *accumulate true. */
real_t *tensor_grad_write(Tensor *t, bool *accumulate);

bool tensor_same_shape(const Tensor *a, const Tensor *b);
/* "NxCxHxW" into buf (for messages). */
const char *tensor_shape_str(const Tensor *t, char *buf, size_t n);
void tensor_fill(Tensor *t, real_t v); /* on t's device */
