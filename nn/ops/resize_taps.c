/* resize_taps.c: the source taps of a bilinear resize axis, shared by the CPU op and the CUDA one. */
#include "nn/ops/resize_taps.h"

/* PyTorch's source index (dst + 0.5) * in/out - 0.5, clamped at 0; the upper neighbour is clamped
 * to the last input. The scale is in/out from the sizes, as F.interpolate(size=...) uses. */
Taps resize_taps(int in, int out) {
    Arena *ar = engine_arena();
    Taps t = {arena_alloc(ar, out * sizeof(int)), arena_alloc(ar, out * sizeof(int)),
              arena_alloc(ar, out * sizeof(real_t)), arena_alloc(ar, out * sizeof(real_t))};
    double scale = (double)in / out;
    for (int o = 0; o < out; o++) {
        double src = (o + 0.5) * scale - 0.5;
        if (src < 0) src = 0;
        int i = (int)src;
        if (i > in - 1) i = in - 1;
        double l = src - i;
        t.i0[o] = i, t.i1[o] = i < in - 1 ? i + 1 : i;
        t.w0[o] = (real_t)(1 - l), t.w1[o] = (real_t)l;
    }
    return t;
}
