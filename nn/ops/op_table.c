/* op_table.c: the names of all ops (the strings they pass to tape_push), NULL-terminated. */
#include "nn/ops/ops.h"

/* In ops.h order; each name is its function's name without the op_ prefix. */
const char *const op_names[] = {
    "add", "mul", "scale", "relu", "leaky_relu", "prelu", "sigmoid", "clamp",
    "conv2d", "conv_transpose2d",
    "batch_norm",
    "concat", "slice_channels", "pixel_shuffle",
    "resize_bilinear", "upsample_nearest", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "sum", "mean", "cross_entropy", "l1_loss", "mse_loss", "bce_with_logits", "focal_loss",
    NULL,
};
