/* resize_taps.h: per-axis source indices and weights of a bilinear resize (align_corners=False). */
#pragma once
#include "nn/tensor.h"

/* For one axis: output index o reads inputs i0[o] and i1[o] with weights w0[o] and w1[o]. */
typedef struct {
    int *i0, *i1;    /* [out] */
    real_t *w0, *w1; /* [out] */
} Taps;

/* PyTorch's taps for an axis of `in` inputs resized to `out` (host arrays in the engine arena). */
Taps resize_taps(int in, int out);
