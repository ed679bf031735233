/* op_id.h: the ids of all differentiable ops and their one name table (files and logs store names). */
#pragma once

/* In ops.h order. A tape node records its OpId; op_names[id] is the function's name without the
 * op_ prefix, except OP_DARKNET_MAXPOOL: op_max_pool2d_at called by darknet's [maxpool] layer. The
 * fused ops (conv2d_relu, conv2d_bn, add_relu, batch_norm_relu,
 * batch_norm_prelu) record nodes of their own on the host only. */
typedef enum OpId {
    OP_ADD,
    OP_MUL,
    OP_SCALE,
    OP_RELU,
    OP_LEAKY_RELU,
    OP_PRELU,
    OP_SIGMOID,
    OP_CLAMP,
    OP_CONV2D,
    OP_CONV_TRANSPOSE2D,
    OP_BATCH_NORM,
    OP_CONCAT,
    OP_SLICE_CHANNELS,
    OP_PIXEL_SHUFFLE,
    OP_RESIZE_BILINEAR,
    OP_UPSAMPLE_NEAREST,
    OP_MAX_POOL2D,
    OP_DARKNET_MAXPOOL,
    OP_AVG_POOL2D,
    OP_ADAPTIVE_AVG_POOL2D,
    OP_SUM,
    OP_MEAN,
    OP_CROSS_ENTROPY,
    OP_L1_LOSS,
    OP_MSE_LOSS,
    OP_BCE_WITH_LOGITS,
    OP_FOCAL_LOSS,
    OP_CONV2D_RELU,
    OP_CONV2D_BN,
    OP_ADD_RELU,
    OP_BATCH_NORM_RELU,
    OP_BATCH_NORM_PRELU,
    OP_COUNT
} OpId;

extern const char *const op_names[OP_COUNT];

/* The name of an op id ("?" for an id out of range, so a corrupt node still prints). */
const char *op_name(OpId id);
