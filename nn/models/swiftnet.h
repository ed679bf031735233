/* swiftnet.h: SwiftNet, single-scale ResNet-18 (orsic/swiftnet), with upstream state_dict names and a width option. */
#pragma once
#include "nn/models/layers.h"

/* _BNReluConv: BN -> ReLU -> conv (k x k, padding k/2). */
typedef struct SwBRC {
    BatchNorm bn;
    Conv conv;
} SwBRC;

/* ResNet BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, plus the (1x1 conv + BN) downsample when the
 * shape changes, then ReLU. */
typedef struct SwBlock {
    Conv conv1, conv2, down;
    BatchNorm bn1, bn2, down_bn;
    bool has_down;
} SwBlock;

/* _Upsample: skip -> bottleneck (BN-ReLU-1x1), x bilinear to the skip's size, add, blend (BN-ReLU-3x3). */
typedef struct SwUp {
    SwBRC bottleneck, blend;
} SwUp;

#define SWIFTNET_LEVELS 3

typedef struct SwiftNet {
    ParamSet ps;
    int classes;
    int base;     /* layer1 width (upstream 64); the stages are base, 2, 4, 8 x base */
    int features; /* num_features of the decoder and SPP (upstream 128); SPP levels get features/3 */
    /* buffers "backbone.img_mean"/"backbone.img_std" [1,3,1,1]: RGB statistics on 0..255 pixels,
     * as upstream stores them in the checkpoint; the engine feeds RGB in [0,1] */
    Tensor *img_mean, *img_std;
    Conv conv1;
    BatchNorm bn1;
    SwBlock layer[4][2];
    SwBRC spp_bn, spp[SWIFTNET_LEVELS], spp_fuse;
    SwUp up[3]; /* upsample.0 takes layer3's skip, .1 layer2's, .2 layer1's */
    SwBRC logits;
} SwiftNet;

/* Upstream's rn18_single_scale: base 64, features 128. width scales both (0.25 -> 16, 32);
 * the result is rounded to at least 3 features so every SPP level has a channel. */
void swiftnet_init(SwiftNet *m, int classes, int base, int features);
void swiftnet_init_width(SwiftNet *m, int classes, double width);
void swiftnet_free(SwiftNet *m);
/* Input statistics (RGB, 0..255 scale) into the img_mean/img_std buffers. Named sets:
 * "swiftnet" (rn18_single_scale config, the default), "cityscapes" (ResNet's own defaults),
 * "camvid" (CamVid train, as scripts/camvid_stats.py measures it), "imagenet". */
void swiftnet_set_norm(SwiftNet *m, const double mean_rgb[3], const double std_rgb[3]);
int swiftnet_set_norm_named(SwiftNet *m, const char *name);
/* Weights by upstream's scheme for training from scratch: kaiming-normal (fan_out, ReLU) convs,
 * BN gamma 1 / beta 0, conv biases PyTorch's default; deterministic in seed. Keeps img_mean/std. */
void swiftnet_init_weights(SwiftNet *m, unsigned seed);

/* x: [N,3,H,W] RGB in [0,1], any H, W >= 32. Returns logits [N,classes,H,W] (computed at 1/4 and
 * upsampled bilinearly). training: BN batch statistics (and running-stat updates). */
Tensor *swiftnet_forward(SwiftNet *m, Tensor *x, bool training);

/* The SPP pooling grid for level size g on an h x w map: (g, max(1, round_half_even(w/h * g))),
 * exactly as Python's round() in upstream. */
void swiftnet_spp_grid(int h, int w, int g, int *gh, int *gw);
