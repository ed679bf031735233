/* op_table.c: the name of every OpId (one table; files and logs store these names, never indices). */
#include "nn/ops/op_id.h"

/* Designated initializers tie each name to its id whatever the enum order. */
const char *const op_names[OP_COUNT] = {
    [OP_ADD] = "add",
    [OP_MUL] = "mul",
    [OP_SCALE] = "scale",
    [OP_RELU] = "relu",
    [OP_LEAKY_RELU] = "leaky_relu",
    [OP_PRELU] = "prelu",
    [OP_SIGMOID] = "sigmoid",
    [OP_CLAMP] = "clamp",
    [OP_CONV2D] = "conv2d",
    [OP_CONV_TRANSPOSE2D] = "conv_transpose2d",
    [OP_BATCH_NORM] = "batch_norm",
    [OP_CONCAT] = "concat",
    [OP_SLICE_CHANNELS] = "slice_channels",
    [OP_PIXEL_SHUFFLE] = "pixel_shuffle",
    [OP_RESIZE_BILINEAR] = "resize_bilinear",
    [OP_UPSAMPLE_NEAREST] = "upsample_nearest",
    [OP_MAX_POOL2D] = "max_pool2d",
    [OP_DARKNET_MAXPOOL] = "darknet_maxpool",
    [OP_AVG_POOL2D] = "avg_pool2d",
    [OP_ADAPTIVE_AVG_POOL2D] = "adaptive_avg_pool2d",
    [OP_SUM] = "sum",
    [OP_MEAN] = "mean",
    [OP_CROSS_ENTROPY] = "cross_entropy",
    [OP_L1_LOSS] = "l1_loss",
    [OP_MSE_LOSS] = "mse_loss",
    [OP_BCE_WITH_LOGITS] = "bce_with_logits",
    [OP_FOCAL_LOSS] = "focal_loss",
    [OP_CONV2D_RELU] = "conv2d_relu",
    [OP_CONV2D_BN] = "conv2d_bn",
    [OP_ADD_RELU] = "add_relu",
    [OP_BATCH_NORM_RELU] = "batch_norm_relu",
    [OP_BATCH_NORM_PRELU] = "batch_norm_prelu",
};

const char *op_name(OpId id) { return (unsigned)id < OP_COUNT && op_names[id] ? op_names[id] : "?"; }
