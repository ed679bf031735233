/* sigmoid.c: out = 1 / (1 + exp(-x)). */
#include <math.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"

/* expf in the float build: double exp would cost twice as much for no visible precision. */
#ifdef RUNE_DOUBLE
#define EXP exp
#else
#define EXP expf
#endif

/* For very negative x, exp(-x) overflows to inf and 1/(1+inf) = 0 exactly, as it should. */
static inline real_t sigmoid1(real_t x) { return (real_t)1 / ((real_t)1 + EXP(-x)); }

static void sigmoid_backward(Node *n) {
    Tensor *x = n->in[0], *out = n->out;
    if (!node_wants(n, 0)) return;
    real_t *dx = tensor_grad(x); /* [numel(x)] */
    const real_t *dout = out->grad, *y = out->data;
    size_t total = tensor_numel(out);
    /* dy/dx = y (1 - y): the output alone suffices */
#pragma omp parallel for schedule(static) if (total > 65536)
    for (size_t i = 0; i < total; i++) dx[i] += dout[i] * y[i] * ((real_t)1 - y[i]);
}

Tensor *op_sigmoid(Tensor *x) {
    OPS_DISPATCH(sigmoid, x->device, x);
    Tensor *out = tensor_like(x); /* [N,C,H,W] */
    size_t total = tensor_numel(x);
#pragma omp parallel for schedule(static) if (total > 16384)
    for (size_t i = 0; i < total; i++) out->data[i] = sigmoid1(x->data[i]);
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(OP_SIGMOID, sigmoid_backward, out, x, NULL, NULL, NULL);
    return out;
}
