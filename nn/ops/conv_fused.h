/* conv_fused.h: the host pass shared by inference's fused convs (conv + BatchNorm + ReLU in one store). */
#pragma once
#include <stdbool.h>

#include "nn/ops/ops.h"

/* y = act(conv(x, w * wscale) + bias) with no tape: wscale [Cout] scales each output channel's
 * weights (NULL: 1), bias [Cout] or NULL, act max(., 0) when relu. The direct kernel applies it all
 * as it stores; elsewhere im2col + GEMM on the scaled weights, then one in-place ReLU pass. */
Tensor *conv2d_fused_forward(Tensor *x, Tensor *w, const real_t *wscale, const real_t *bias, ConvArgs a, bool relu);

/* w [Cout, K] with each row times wscale[row], in the arena (w->data itself when wscale is NULL). */
const real_t *conv_scaled_weights(const Tensor *w, const real_t *wscale);

/* The conv's node arguments (stride, pad, dilation, groups in iarg[0..6]), shared by conv2d's node
 * and the fused ops' nodes, whose inputs are (x, w, b) like conv2d's. */
void conv2d_node_set_args(Node *n, ConvArgs a);
ConvArgs conv2d_node_args(const Node *n);

/* conv2d's backward for such a node with dL/d(conv output) = dy and the weights w as used in the
 * forward (the node's own, or a copy with a norm folded in): dx, dw and db as each input wants. */
void conv2d_backward_from(const Node *n, const real_t *dy, const real_t *w);

/* dz = dy where y > 0, else 0 (a ReLU's backward through its output), into the arena. */
real_t *relu_mask_grad(const real_t *dy, const real_t *y, size_t n);
