/* cuda_ops.h: the CUDA implementations of the ops of nn/ops/ops.h (same signatures; the table in backend_table.cu). */
#pragma once
#include "nn/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Each takes tensors on DEV_CUDA (dying, naming the op, when one is not), returns a new device
 * arena tensor and records a tape node whose backward runs on the device. cuda-dnn's files:
 * conv2d, conv_transpose2d, batch_norm (cuDNN); the rest are kernels under nn/cuda/. */
Tensor *cuda_op_add(Tensor *a, Tensor *b);
Tensor *cuda_op_mul(Tensor *a, Tensor *b);
Tensor *cuda_op_scale(Tensor *x, real_t alpha);
Tensor *cuda_op_relu(Tensor *x);
Tensor *cuda_op_leaky_relu(Tensor *x, real_t slope);
Tensor *cuda_op_prelu(Tensor *x, Tensor *w);
Tensor *cuda_op_sigmoid(Tensor *x);
Tensor *cuda_op_clamp(Tensor *x, real_t lo, real_t hi);
Tensor *cuda_op_conv2d(Tensor *x, Tensor *w, Tensor *b, ConvArgs a);
Tensor *cuda_op_conv_transpose2d(Tensor *x, Tensor *w, Tensor *b, ConvArgs a, int out_pad_h, int out_pad_w);
Tensor *cuda_op_batch_norm(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar, bool training,
                           real_t momentum, real_t eps);
Tensor *cuda_op_concat(Tensor **xs, int n);
Tensor *cuda_op_slice_channels(Tensor *x, int c0, int nc);
Tensor *cuda_op_pixel_shuffle(Tensor *x, int r);
Tensor *cuda_op_resize_bilinear(Tensor *x, int oh, int ow);
Tensor *cuda_op_upsample_nearest(Tensor *x, int factor);
Tensor *cuda_op_max_pool2d_at(Tensor *x, int k, int s, int off, int OH, int OW, OpId id);
Tensor *cuda_op_avg_pool2d(Tensor *x, int k, int s, int p);
Tensor *cuda_op_adaptive_avg_pool2d(Tensor *x, int oh, int ow);
Tensor *cuda_op_sum(Tensor *x);
Tensor *cuda_op_mean(Tensor *x);
Tensor *cuda_op_cross_entropy(Tensor *logits, const unsigned char *labels, int ignore, const real_t *weight);
Tensor *cuda_op_l1_loss(Tensor *a, Tensor *b);
Tensor *cuda_op_mse_loss(Tensor *a, Tensor *b);
Tensor *cuda_op_bce_with_logits(Tensor *x, Tensor *t, const real_t *weight);
Tensor *cuda_op_focal_loss(Tensor *x, Tensor *t, real_t alpha, real_t gamma);

/* Flat-buffer optimizer updates (nn/cuda/adam.cu), the memory functions of the table
 * (nn/cuda/memory.cu). */
void cuda_adam_step(real_t *p, const real_t *g, real_t *m, real_t *v, size_t n, AdamCoef c);
void cuda_sgd_step(real_t *p, const real_t *g, real_t *buf, size_t n, SgdCoef c);

void *cuda_arena_alloc(size_t bytes); /* also in cuda_check.h, for the .cu files */
void cuda_arena_reset(void);
ArenaMark cuda_arena_mark(void);
void cuda_arena_rewind(ArenaMark m);
void *cuda_block_alloc(size_t bytes); /* persistent, zeroed */
void cuda_block_free(void *p);
void cuda_memzero(void *p, size_t bytes);
void cuda_copy(void *dst, Device dst_dev, const void *src, Device src_dev, size_t bytes);
void cuda_fill(real_t *p, size_t n, real_t v);
void cuda_accumulate(real_t *dst, const real_t *src, size_t n);
void cuda_synchronize(void);

/* Dies naming `op` and the argument unless t is on DEV_CUDA (NULL passes: optional inputs). */
void cuda_need(const char *op, const char *arg, const Tensor *t);
/* A host array of `bytes` copied into the device arena for this step (labels, weights); NULL stays NULL. */
void *cuda_upload_arena(const void *host, size_t bytes);

#ifdef __cplusplus
}
#endif
