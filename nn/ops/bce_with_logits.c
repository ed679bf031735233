/* bce_with_logits.c: out = mean of w * BCE(sigmoid(x), t), in the overflow-free form. */
#include <math.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/reduce.h"

typedef struct {
    const real_t *x, *t, *w; /* w may be NULL (all ones) */
} BceCtx;

/* max(x,0) - x t + log(1 + exp(-|x|)) = -[t log p + (1-t) log(1-p)] without exp overflow. */
static inline double bce_term(double x, double t) { return fmax(x, 0) - x * t + log1p(exp(-fabs(x))); }

static inline double sigmoid_d(double x) {
    if (x >= 0) return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

static void bce_block(size_t lo, size_t hi, const void *ctx, double acc[2]) {
    const BceCtx *c = ctx;
    double s = 0;
    for (size_t i = lo; i < hi; i++) s += (c->w ? (double)c->w[i] : 1.0) * bce_term(c->x[i], c->t[i]);
    acc[0] = s;
}

static void bce_backward(Node *n) {
    Tensor *x = n->in[0], *t = n->in[1];
    if (!node_wants(n, 0)) return; /* the target never gets a gradient */
    const real_t *w = n->saved;    /* [numel(x)] or NULL */
    size_t total = tensor_numel(x);
    double g = n->out->grad[0] / (double)total;
    real_t *dx = tensor_grad(x); /* [numel(x)] */
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++)
        dx[i] += (real_t)(g * (w ? (double)w[i] : 1.0) * (sigmoid_d(x->data[i]) - (double)t->data[i]));
}

Tensor *op_bce_with_logits(Tensor *x, Tensor *t, const real_t *weight) {
    OPS_DISPATCH(bce_with_logits, ops_device(x, t), x, t, weight);
    char sx[64], st[64];
    if (!tensor_same_shape(x, t))
        rn_die("bce_with_logits: logits %s and targets %s differ in shape", tensor_shape_str(x, sx, sizeof sx),
               tensor_shape_str(t, st, sizeof st));
    size_t total = tensor_numel(x);
    BceCtx c = {x->data, t->data, weight};
    double s[2];
    reduce_blocks(total, bce_block, &c, s);
    Tensor *out = tensor_new(1, 1, 1, 1); /* [1,1,1,1] */
    out->data[0] = (real_t)(s[0] / (double)total);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_BCE_WITH_LOGITS, bce_backward, out, x, t, NULL, NULL);
        if (weight) { /* the caller's buffer may be gone by backward time: keep a copy */
            n->saved = arena_alloc(engine_arena(), total * sizeof(real_t));
            memcpy(n->saved, weight, total * sizeof(real_t));
        }
    }
    return out;
}
