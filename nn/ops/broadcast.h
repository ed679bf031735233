/* broadcast.h: the engine's one broadcasting rule for binary elementwise ops (same, per-channel, scalar). */
#pragma once
#include "nn/tensor.h"

typedef enum { BC_SAME, BC_CHANNEL, BC_SCALAR } BroadcastKind;

/* Classifies b against a; dies naming `op` when the shapes do not fit. */
BroadcastKind broadcast_kind(const char *op, const Tensor *a, const Tensor *b);

/* Index into b for element i of a (plane = H*W, C = channels). */
static inline size_t broadcast_index(BroadcastKind k, size_t i, size_t plane, int C) {
    return k == BC_SAME ? i : k == BC_CHANNEL ? (i / plane) % (size_t)C : 0;
}
