/* conv_direct.h: convolution read straight from the NCHW planes by an AVX-512 register-tile kernel (no im2col). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "nn/ops/im2col.h"

/* Same layouts and `accumulate` meaning as conv_gemm_forward (nn/ops/conv_gemm.h); `bias` [G*M] or
 * NULL is added in the same pass when not accumulating. Any row stride, column stride 1 or 2.
 * Returns false, having touched nothing, when the direct path does not apply (a column stride
 * above 2, a float64 or non-AVX-512 build, a kernel wider than 16, or the path switched off): the
 * caller then takes im2col + GEMM. Each output
 * element is summed over (c, i, j) in one fixed order, so results do not depend on threads. */
bool conv_direct_forward(const real_t *x, const real_t *w, const real_t *bias, real_t *y, const ConvGeom *g, int N,
                         int G, int M, bool accumulate);

/* The same, not accumulating, for inference's fused convs: each output channel's weights times
 * wscale[channel] (NULL: 1; a BatchNorm's scale folded in), then + bias, then max(., 0) when relu,
 * applied as the outputs are stored: no separate pass over the output. */
bool conv_direct_forward_fused(const real_t *x, const real_t *w, const real_t *wscale, const real_t *bias, bool relu,
                               real_t *y, const ConvGeom *g, int N, int G, int M);

/* conv_gemm_backward_data's contract (dx (=|+=) conv's adjoint of dy) for stride-1 convs, computed as
 * the forward conv of dy with the flipped, transposed kernel. False when it does not apply. */
bool conv_direct_backward_data(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N, int G,
                               int M, bool accumulate);

/* The same for stride-2 convs (dilation 1, padding 0..k-1, kernels up to 16 wide), as one stride-1
 * direct conv per parity class of dx's pixels, interleaved into dx (nn/ops/conv_direct_s2dx.c).
 * RUNE_S2DX=0 turns it off. False, touching nothing, when it does not apply or does not pay. */
bool conv_direct_backward_data_strided(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N,
                                       int G, int M, bool accumulate);

/* The direct path is on by default where it applies; RUNE_CONV=gemm in the environment, or this
 * call, turns it off (benchmarks time both paths in one process). Returns the previous setting.
 * A pointwise (1x1, stride 1, unpadded) conv's backward-data stays on GEMM, which is faster for it,
 * unless RUNE_CONV=direct or the batch alone fills the threads (then its planes are one long row:
 * see flatten_pointwise in conv_direct.c). Its weight gradient is direct (CARN-M's training step
 * ~1 % faster than on GEMM, measured A/B on two threads). */
bool conv_direct_set_enabled(bool on);
bool conv_direct_enabled(void);

/* conv_gemm_backward_weight's contract (dw += sum over images of dy * im2col(x)^T, and db += dy's
 * sums per channel when db is not NULL) for stride-1 convs whose output rows are as wide as the
 * input's, from the planes (nn/ops/conv_direct_wgrad.c). False, touching nothing, when it does not apply. */
bool conv_direct_backward_weight(const real_t *x, const real_t *dy, real_t *dw, real_t *db, const ConvGeom *g, int N,
                                 int G, int M);

/* For the weight gradient's flattened-plane tiles ("same" convs: OW == W, stride 1, where the input
 * under 16 consecutive output pixels is 16 consecutive floats for every tap): the lane mask of
 * every 16-pixel vector of the output plane per tap (i, j), masks[v * kh*kw + i*kw + j]; a lane is
 * set when its pixel is in the plane and its shifted input pixel neither leaves the plane nor wraps
 * into another row. */
void conv_direct_plane_masks(const ConvGeom *g, int nvec, uint16_t *masks);
