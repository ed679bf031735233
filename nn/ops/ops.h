/* ops.h: every differentiable op of the CPU engine (one op a file under nn/ops/), and the op table.
 *
 * Conventions: inputs and outputs are NCHW tensors (nn/tensor.h); outputs are new arena tensors;
 * an op records itself on the tape (nn/tape.h) when an input requires a gradient. Bad shapes are
 * programming errors here (models check user input before calling): they die naming the op.
 *
 * Devices: every op runs where its tensor inputs live (nn/backend.h); all of them must be on the
 * same device, or the op dies naming the one that is not. Arguments that are host arrays (the
 * labels and weights of op_cross_entropy, the weights of op_bce_with_logits) stay host arrays on
 * every device: a device op copies them into its arena for the step, so callers never upload them. */
#pragma once
#include "nn/tape.h"

/* ---- elementwise ---------------------------------------------------------------------- */
/* a + b; b may have the same shape as a, or be [1,C,1,1] (per-channel) or [1,1,1,1] (scalar). */
Tensor *op_add(Tensor *a, Tensor *b);
/* a * b with the same broadcasting rules as op_add. */
Tensor *op_mul(Tensor *a, Tensor *b);
/* alpha * x (constant scale). */
Tensor *op_scale(Tensor *x, real_t alpha);
Tensor *op_relu(Tensor *x);
/* relu(a + b), a and b of one shape, in one pass (host; elsewhere the two ops). */
Tensor *op_add_relu(Tensor *a, Tensor *b);
Tensor *op_leaky_relu(Tensor *x, real_t slope);
/* PReLU with one slope per channel: w is [1,C,1,1] (or [1,1,1,1] for a shared slope). */
Tensor *op_prelu(Tensor *x, Tensor *w);
Tensor *op_sigmoid(Tensor *x);
/* min(max(x, lo), hi); gradient 1 strictly inside (lo, hi), 0 outside, as torch.clamp. */
Tensor *op_clamp(Tensor *x, real_t lo, real_t hi);

/* ---- convolution ------------------------------------------------------------------------- */
typedef struct ConvArgs {
    int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
} ConvArgs;
/* Square-kernel helper: ConvArgs with stride s, padding p, dilation d, groups g. */
ConvArgs conv_args(int s, int p, int d, int g);
/* x [N,Cin,H,W], w [Cout,Cin/g,kh,kw] (PyTorch layout), b [Cout,1,1,1] or NULL. */
Tensor *op_conv2d(Tensor *x, Tensor *w, Tensor *b, ConvArgs a);
/* relu(conv2d(x, w, b, a)): fused in one pass when nothing records gradients (inference). */
Tensor *op_conv2d_relu(Tensor *x, Tensor *w, Tensor *b, ConvArgs a);
/* batch_norm(conv2d(x, w, b, a)) with the running statistics (inference), then relu when asked:
 * folded into the conv in one pass when nothing records gradients, else the ops in turn. */
Tensor *op_conv2d_bn(Tensor *x, Tensor *w, Tensor *b, ConvArgs a, Tensor *gamma, Tensor *beta, Tensor *rmean,
                     Tensor *rvar, real_t eps, bool relu);
/* Transposed conv: w [Cin,Cout/g,kh,kw] (PyTorch layout); output_padding adds to H/W out. */
Tensor *op_conv_transpose2d(Tensor *x, Tensor *w, Tensor *b, ConvArgs a, int out_pad_h, int out_pad_w);

/* ---- normalisation ------------------------------------------------------------------------ */
/* Batch norm over N,H,W per channel. training: batch statistics, and running stats are updated
 * with `momentum` (PyTorch convention: r = (1-m) r + m * batch, unbiased variance); inference:
 * running stats. gamma/beta/rmean/rvar are [1,C,1,1] (or [C,1,1,1]); gamma/beta may be NULL. */
Tensor *op_batch_norm(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar,
                      bool training, real_t momentum, real_t eps);
/* relu(op_batch_norm(x, ..., training false, ...)) in one pass (inference statistics); under autograd
 * only x may want a gradient for the fused path, else the two ops. */
Tensor *op_batch_norm_relu(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar, real_t eps);
/* op_prelu(op_batch_norm(x, ..., training false, ...), slope) in one pass, as op_batch_norm_relu. */
Tensor *op_batch_norm_prelu(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar, real_t eps,
                            Tensor *slope);

/* ---- shape ------------------------------------------------------------------------------- */
/* Concatenate along channels. */
Tensor *op_concat(Tensor **xs, int n);
/* Channels [c0, c0+nc) of x. */
Tensor *op_slice_channels(Tensor *x, int c0, int nc);
/* [N, C*r*r, H, W] -> [N, C, H*r, W*r] as torch.nn.PixelShuffle. */
Tensor *op_pixel_shuffle(Tensor *x, int r);

/* ---- resampling and pooling -------------------------------------------------------------- */
/* Bilinear resize to (oh, ow), PyTorch align_corners=False semantics. */
Tensor *op_resize_bilinear(Tensor *x, int oh, int ow);
/* Nearest upsampling by an integer factor (darknet [upsample], torch mode='nearest'). */
Tensor *op_upsample_nearest(Tensor *x, int factor);
/* Max pooling, kernel k, stride s, padding p (padding counts as -inf, as in PyTorch). */
Tensor *op_max_pool2d(Tensor *x, int k, int s, int p);
/* The same pooling with window (oy, ox) starting at (oy*s - off, ox*s - off) and an OH x OW output
 * given by the caller (positions outside the input are skipped); `id` names its tape node
 * (OP_DARKNET_MAXPOOL for darknet). For layouts PyTorch's symmetric padding cannot express. */
Tensor *op_max_pool2d_at(Tensor *x, int k, int s, int off, int OH, int OW, OpId id);
/* Average pooling, kernel k, stride s, padding p; count_include_pad as PyTorch's default (true). */
Tensor *op_avg_pool2d(Tensor *x, int k, int s, int p);
/* Adaptive average pooling to (oh, ow) with PyTorch's bin edges. */
Tensor *op_adaptive_avg_pool2d(Tensor *x, int oh, int ow);

/* ---- reductions and losses (scalar outputs are 1x1x1x1) ----------------------------------- */
Tensor *op_sum(Tensor *x);
Tensor *op_mean(Tensor *x);
/* Softmax cross-entropy over channels of logits [N,K,H,W] against labels (uint8 class ids per
 * pixel, N*H*W of them; `ignore` never counts). weight: optional per-pixel weights [N*H*W] (NULL
 * = 1). Reduction: sum of weight*nll over counted pixels divided by the sum of their weights
 * (PyTorch's 'mean'); 0 when nothing counts. */
Tensor *op_cross_entropy(Tensor *logits, const unsigned char *labels, int ignore, const real_t *weight);
/* mean |a - b| and mean (a - b)^2 over all elements; b may be a constant target (no grad). */
Tensor *op_l1_loss(Tensor *a, Tensor *b);
Tensor *op_mse_loss(Tensor *a, Tensor *b);
/* mean of binary cross-entropy with logits x against targets t in [0,1] (t gets no gradient);
 * weight: optional per-element weights (NULL = 1). */
Tensor *op_bce_with_logits(Tensor *x, Tensor *t, const real_t *weight);
/* Sigmoid focal loss (Lin et al.): mean over elements of
 * -alpha_t (1 - p_t)^gamma log(p_t), p = sigmoid(x); alpha < 0 disables the alpha weighting. */
Tensor *op_focal_loss(Tensor *x, Tensor *t, real_t alpha, real_t gamma);
/* 0 when every element of the loss value is finite; otherwise -1 with rn_fail naming `what`
 * (a NaN/Inf loss must never pass silently into an optimizer step). */
int loss_check_finite(const Tensor *loss, const char *what);

/* ---- the op table: OpId and op_names[] in nn/ops/op_id.h (included by nn/tape.h) ---------- */
