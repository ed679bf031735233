/* tensor.c: arena-backed tensors and the engine's global state. */
#include "nn/tensor.h"

#include <stdio.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/tape.h"
#include "util/err.h"

static Arena g_arena;
static bool g_arena_ready;
static bool g_grad = true;

Arena *engine_arena(void) {
    if (!g_arena_ready) {
        arena_init(&g_arena, 64u << 20);
        g_arena_ready = true;
    }
    return &g_arena;
}

void engine_step_reset(void) {
    tape_clear();
    arena_reset(engine_arena());
    const OpsBackend *cuda = ops_backend_cuda(); /* NULL in a CPU build */
    if (cuda) cuda->arena_reset();
}

EngineMark engine_mark(void) {
    EngineMark m = {arena_mark(engine_arena()), {0}};
    const OpsBackend *cuda = ops_backend_cuda();
    if (cuda) m.dev = cuda->arena_mark();
    return m;
}

void engine_rewind(EngineMark m) {
    arena_rewind(engine_arena(), m.host);
    const OpsBackend *cuda = ops_backend_cuda();
    if (cuda) cuda->arena_rewind(m.dev);
}

bool engine_grad_enabled(void) { return g_grad; }

bool engine_set_grad(bool on) {
    bool old = g_grad;
    g_grad = on;
    return old;
}

static Tensor *tensor_header(int n, int c, int h, int w) {
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
        rn_die("bad tensor shape %dx%dx%dx%d", n, c, h, w);
    Tensor *t = arena_alloc(engine_arena(), sizeof *t);
    memset(t, 0, sizeof *t);
    t->shape[0] = n, t->shape[1] = c, t->shape[2] = h, t->shape[3] = w;
    return t;
}

Tensor *tensor_new(int n, int c, int h, int w) {
    Tensor *t = tensor_header(n, c, h, w);
    t->data = arena_alloc(engine_arena(), tensor_numel(t) * sizeof(real_t));
    return t;
}

Tensor *tensor_zeros(int n, int c, int h, int w) { /* host: memset, as always */
    Tensor *t = tensor_new(n, c, h, w);
    memset(t->data, 0, tensor_numel(t) * sizeof(real_t));
    return t;
}

Tensor *tensor_new_on(Device d, int n, int c, int h, int w) {
    if (d == DEV_CPU) return tensor_new(n, c, h, w);
    Tensor *t = tensor_header(n, c, h, w);
    t->device = d;
    t->data = ops_backend(d, "tensor_new_on")->arena_alloc(tensor_numel(t) * sizeof(real_t));
    return t;
}

Tensor *tensor_like(const Tensor *t) { return tensor_new_on(t->device, TN(t), TC(t), TH(t), TW(t)); }

Tensor *tensor_zeros_like(const Tensor *t) {
    Tensor *z = tensor_like(t);
    tensor_fill(z, 0);
    return z;
}

Tensor *tensor_to(const Tensor *t, Device d) {
    Tensor *o = tensor_new_on(d, TN(t), TC(t), TH(t), TW(t));
    size_t bytes = tensor_numel(t) * sizeof(real_t);
    if (d == DEV_CPU && t->device == DEV_CPU) memcpy(o->data, t->data, bytes);
    else ops_backend(d != DEV_CPU ? d : t->device, "tensor_to")->copy(o->data, d, t->data, t->device, bytes);
    return o;
}

Tensor *tensor_on(Tensor *t, Device d) { return t->device == d ? t : tensor_to(t, d); }

const Tensor *tensor_host(const Tensor *t) { return t->device == DEV_CPU ? t : tensor_to(t, DEV_CPU); }

double tensor_item(const Tensor *t) {
    if (t->device == DEV_CPU) return t->data[0];
    real_t v;
    ops_backend(t->device, "tensor_item")->copy(&v, DEV_CPU, t->data, t->device, sizeof v);
    return v;
}

Tensor *tensor_view(const Tensor *t, int n, int c, int h, int w) {
    Tensor *v = tensor_header(n, c, h, w);
    if (tensor_numel(v) != tensor_numel(t)) rn_die("view changes element count");
    v->data = t->data;
    v->device = t->device;
    return v;
}

Tensor *tensor_from(const real_t *src, int n, int c, int h, int w) {
    Tensor *t = tensor_new(n, c, h, w);
    memcpy(t->data, src, tensor_numel(t) * sizeof(real_t));
    return t;
}

real_t *tensor_grad(Tensor *t) {
    if (t->grad) return t->grad;
    size_t bytes = tensor_numel(t) * sizeof(real_t);
    if (t->device == DEV_CPU) {
        double t0 = profile_clock(); /* zeroing every gradient is memory traffic of its own */
        t->grad = arena_zalloc(engine_arena(), bytes);
        profile_add_since("tensor_grad: zeroed buffer", t0);
    } else {
        const OpsBackend *b = ops_backend(t->device, "tensor_grad");
        t->grad = b->arena_alloc(bytes);
        b->memzero(t->grad, bytes);
    }
    return t->grad;
}

real_t *tensor_grad_write(Tensor *t, bool *accumulate) {
    *accumulate = t->grad || t->device != DEV_CPU;
    if (*accumulate) return tensor_grad(t);
    t->grad = arena_alloc(engine_arena(), tensor_numel(t) * sizeof(real_t));
    return t->grad;
}

bool tensor_same_shape(const Tensor *a, const Tensor *b) {
    return memcmp(a->shape, b->shape, sizeof a->shape) == 0;
}

const char *tensor_shape_str(const Tensor *t, char *buf, size_t n) {
    snprintf(buf, n, "%dx%dx%dx%d", t->shape[0], t->shape[1], t->shape[2], t->shape[3]);
    return buf;
}

void tensor_fill(Tensor *t, real_t v) {
    size_t n = tensor_numel(t);
    if (t->device != DEV_CPU) {
        ops_backend(t->device, "tensor_fill")->fill(t->data, n, v);
        return;
    }
    for (size_t i = 0; i < n; i++) t->data[i] = v;
}
