/* broadcast.h: the engine's one broadcasting rule for binary elementwise ops (same, per-channel, scalar). */
#pragma once
#include <stdbool.h>

#include "nn/tensor.h"

typedef enum { BC_SAME, BC_CHANNEL, BC_SCALAR } BroadcastKind;

/* Classifies b against a; dies naming `op` when the shapes do not fit. */
BroadcastKind broadcast_kind(const char *op, const Tensor *a, const Tensor *b);

/* Index into b for element i of a (plane = H*W, C = channels). */
static inline size_t broadcast_index(BroadcastKind k, size_t i, size_t plane, int C) {
    return k == BC_SAME ? i : k == BC_CHANNEL ? (i / plane) % (size_t)C : 0;
}

/* The gradient of a per-channel (or scalar) factor: adds to grad[c] the sum over n and the plane
 * of dout * a for channel c, counting only a <= 0 when nonpos_only (prelu's slope acts there), or,
 * scalar, the sum of all channels to grad[0]. One channel per thread and a fixed channel order, so
 * the sums are the same whatever the thread count. */
void broadcast_channel_grad(const Tensor *a, const real_t *dout, bool nonpos_only, real_t *grad, bool scalar);
