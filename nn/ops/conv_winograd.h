/* conv_winograd.h: stride-1 3x3 convolutions by Winograd F(4x4, 3x3) on AVX-512 (2.25 multiplies per output and input channel instead of 9). */
#pragma once
#include <stdbool.h>

#include "nn/ops/im2col.h"

/* The layouts of conv_direct_forward_fused (nn/ops/conv_direct.h): x [N, G*C, H, W], w [G*M, C, 3, 3],
 * y [N, G*M, OH, OW]. Each output channel's weights are scaled by wscale[channel] (NULL: 1), then
 * bias [M] (NULL: none) is added and max(., 0) taken when relu, as the outputs are stored; with
 * accumulate, y += conv (no bias, no relu). Float32 throughout: the rounding differs from the direct
 * kernel's (measured in tests/unit/test_ops_winograd.c), the precision does not.
 * Returns false, having touched nothing, where it does not apply: not a 3x3 kernel of stride 1 and
 * dilation 1, groups != 1, a float64 or non-AVX-512 build, switched off, or a shape measured not to
 * pay (see conv_winograd_pays in conv_winograd.c). Each output is summed in one fixed order, so
 * results do not depend on the thread count. */
bool conv_winograd_forward(const real_t *x, const real_t *w, const real_t *wscale, const real_t *bias, bool relu,
                           bool accumulate, real_t *y, const ConvGeom *g, int N, int G, int M);

/* conv_gemm_backward_data's contract (dx (=|+=) the conv's adjoint of dy, dy [N, G*M, OH, OW]) as the
 * forward conv of dy with the flipped, transposed kernel and padding 2 - p. False where it does not apply. */
bool conv_winograd_backward_data(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N, int G,
                                 int M, bool accumulate);

/* On by default where it applies; RUNE_WINOGRAD=0 in the environment, or this call, turns it off
 * (benchmarks time both paths in one process). Returns the previous setting. */
bool conv_winograd_set_enabled(bool on);
bool conv_winograd_enabled(void);
/* True when this build has the Winograd kernels (float32, compiled for AVX-512); elsewhere both calls
 * above return false and the direct or im2col path runs. */
bool conv_winograd_built(void);
