/* conv_fused.h: the host pass shared by inference's fused convs (conv + BatchNorm + ReLU in one store). */
#pragma once
#include <stdbool.h>

#include "nn/ops/ops.h"

/* y = act(conv(x, w * wscale) + bias) with no tape: wscale [Cout] scales each output channel's
 * weights (NULL: 1), bias [Cout] or NULL, act max(., 0) when relu. The direct kernel applies it all
 * as it stores; elsewhere im2col + GEMM on the scaled weights, then one in-place ReLU pass. */
Tensor *conv2d_fused_forward(Tensor *x, Tensor *w, const real_t *wscale, const real_t *bias, ConvArgs a, bool relu);
