// backend_table.cu: the CUDA OpsBackend (the strong ops_backend_cuda that replaces nn/backend.c's weak NULL one).
#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda.h"
#include "nn/cuda/cuda_ops.h"
}

// op_max_pool2d is device-neutral (checks, then op_max_pool2d_at, which dispatches): listed as is.
static OpsBackend make_table(void) {
    OpsBackend b;
    b.name = "cuda";
    b.available = cuda_available;
    b.arena_alloc = cuda_arena_alloc, b.arena_reset = cuda_arena_reset;
    b.arena_mark = cuda_arena_mark, b.arena_rewind = cuda_arena_rewind;
    b.block_alloc = cuda_block_alloc, b.block_free = cuda_block_free;
    b.memzero = cuda_memzero, b.copy = cuda_copy, b.fill = cuda_fill, b.accumulate = cuda_accumulate;
    b.synchronize = cuda_synchronize;
    b.adam_step = cuda_adam_step, b.sgd_step = cuda_sgd_step;
    b.add = cuda_op_add, b.mul = cuda_op_mul, b.scale = cuda_op_scale, b.relu = cuda_op_relu;
    b.leaky_relu = cuda_op_leaky_relu, b.prelu = cuda_op_prelu, b.sigmoid = cuda_op_sigmoid, b.clamp = cuda_op_clamp;
    b.conv2d = cuda_op_conv2d, b.conv_transpose2d = cuda_op_conv_transpose2d, b.batch_norm = cuda_op_batch_norm;
    b.concat = cuda_op_concat, b.slice_channels = cuda_op_slice_channels, b.pixel_shuffle = cuda_op_pixel_shuffle;
    b.resize_bilinear = cuda_op_resize_bilinear, b.upsample_nearest = cuda_op_upsample_nearest;
    b.max_pool2d = op_max_pool2d, b.max_pool2d_at = cuda_op_max_pool2d_at, b.avg_pool2d = cuda_op_avg_pool2d;
    b.adaptive_avg_pool2d = cuda_op_adaptive_avg_pool2d;
    b.sum = cuda_op_sum, b.mean = cuda_op_mean, b.cross_entropy = cuda_op_cross_entropy;
    b.l1_loss = cuda_op_l1_loss, b.mse_loss = cuda_op_mse_loss, b.bce_with_logits = cuda_op_bce_with_logits;
    b.focal_loss = cuda_op_focal_loss;
    return b;
}

static const OpsBackend g_table = make_table();

extern "C" const OpsBackend *ops_backend_cuda(void) { return &g_table; }
