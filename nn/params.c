/* params.c: named parameter registry with contiguous data and grad buffers. */
#include "nn/params.h"

#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "util/err.h"

void params_init(ParamSet *ps) { memset(ps, 0, sizeof *ps); }

void params_free(ParamSet *ps) {
    for (int i = 0; i < ps->count; i++) {
        free((void *)ps->t[i]->name);
        free(ps->t[i]);
    }
    free(ps->t);
    free(ps->is_buffer);
    free(ps->offset);
    if (ps->device == DEV_CPU) {
        free(ps->data);
        free(ps->grad);
    } else {
        const OpsBackend *b = ops_backend(ps->device, "params_free");
        b->block_free(ps->data);
        b->block_free(ps->grad);
    }
    memset(ps, 0, sizeof *ps);
}

static Tensor *add_entry(ParamSet *ps, const char *name, int n, int c, int h, int w, bool buffer) {
    if (ps->finalized) rn_die("params_add(%s) after params_finalize", name);
    if (params_find(ps, name)) rn_die("duplicate parameter name %s", name);
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0) rn_die("bad shape for parameter %s", name);
    if (ps->count == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 64;
        ps->t = xrealloc(ps->t, (size_t)ps->cap * sizeof *ps->t);
        ps->is_buffer = xrealloc(ps->is_buffer, (size_t)ps->cap * sizeof *ps->is_buffer);
        ps->offset = xrealloc(ps->offset, (size_t)ps->cap * sizeof *ps->offset);
    }
    Tensor *t = xcalloc(1, sizeof *t);
    t->shape[0] = n, t->shape[1] = c, t->shape[2] = h, t->shape[3] = w;
    t->name = xstrdup(name);
    t->is_param = true;
    t->requires_grad = !buffer;
    ps->t[ps->count] = t;
    ps->is_buffer[ps->count] = buffer;
    ps->offset[ps->count] = ps->total;
    ps->total += tensor_numel(t);
    ps->count++;
    return t;
}

Tensor *params_add(ParamSet *ps, const char *name, int n, int c, int h, int w) {
    return add_entry(ps, name, n, c, h, w, false);
}

Tensor *params_add_buffer(ParamSet *ps, const char *name, int n, int c, int h, int w) {
    return add_entry(ps, name, n, c, h, w, true);
}

void params_finalize(ParamSet *ps) {
    ps->data = xcalloc(ps->total ? ps->total : 1, sizeof(real_t));
    ps->grad = xcalloc(ps->total ? ps->total : 1, sizeof(real_t));
    for (int i = 0; i < ps->count; i++) {
        ps->t[i]->data = ps->data + ps->offset[i];
        ps->t[i]->grad = ps->is_buffer[i] || !ps->t[i]->requires_grad ? NULL : ps->grad + ps->offset[i];
    }
    ps->finalized = true;
}

Tensor *params_find(const ParamSet *ps, const char *name) {
    for (int i = 0; i < ps->count; i++)
        if (strcmp(ps->t[i]->name, name) == 0) return ps->t[i];
    return NULL;
}

void params_zero_grad(ParamSet *ps) {
    if (ps->device == DEV_CPU) memset(ps->grad, 0, ps->total * sizeof(real_t));
    else ops_backend(ps->device, "params_zero_grad")->memzero(ps->grad, ps->total * sizeof(real_t));
}

/* See params.h. */
real_t *params_move_block(real_t *src, Device from, Device to, size_t n) {
    size_t bytes = (n ? n : 1) * sizeof(real_t);
    const OpsBackend *b = ops_backend(to != DEV_CPU ? to : from, "params_to_device");
    real_t *dst = to == DEV_CPU ? xcalloc(1, bytes) : b->block_alloc(bytes);
    b->copy(dst, to, src, from, bytes);
    if (from == DEV_CPU) free(src);
    else b->block_free(src);
    return dst;
}

void params_to_device(ParamSet *ps, Device d) {
    RN_CHECK(ps->finalized, "params_to_device before params_finalize");
    if (d == ps->device) return;
    ps->data = params_move_block(ps->data, ps->device, d, ps->total);
    ps->grad = params_move_block(ps->grad, ps->device, d, ps->total);
    ps->device = d;
    for (int i = 0; i < ps->count; i++) {
        Tensor *t = ps->t[i];
        t->data = ps->data + ps->offset[i];
        if (t->grad) t->grad = ps->grad + ps->offset[i];
        t->device = d;
    }
}

void params_set_trainable(ParamSet *ps, bool on) {
    for (int i = 0; i < ps->count; i++) {
        if (ps->is_buffer[i]) continue;
        ps->t[i]->requires_grad = on;
        ps->t[i]->grad = on && ps->finalized ? ps->grad + ps->offset[i] : NULL;
    }
}

size_t params_count_trainable(const ParamSet *ps) {
    size_t n = 0;
    for (int i = 0; i < ps->count; i++)
        if (!ps->is_buffer[i] && ps->t[i]->requires_grad) n += tensor_numel(ps->t[i]);
    return n;
}
