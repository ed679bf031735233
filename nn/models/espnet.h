/* espnet.h: ESPNet (p, q; with its RUM decoder) exactly as sacmehta/ESPNet train/Model.py, for published weights. */
#pragma once
#include "nn/models/layers.h"

#define ESPNET_MAX_Q 16

/* The ESP block (DilatedParllelResidualBlockB) and the strided DownSamplerB share this shape:
 * reduce (c1), five dilated 3x3 branches d1..d16, hierarchical sums, concat, (residual), BN+PReLU. */
typedef struct EspBlock {
    Conv c1, d[5];
    BatchNorm bn;
    Tensor *act;
    bool residual;
} EspBlock;

typedef struct EspBR {
    BatchNorm bn;
    Tensor *act;
} EspBR;

typedef struct ESPNet {
    ParamSet ps;
    int classes, p, q;
    /* input normalisation of the upstream scripts, folded into the model: the engine feeds RGB in
     * [0,1]; ESPNet wants BGR, (255 x - mean) / std / 255 per channel (mean/std in BGR order). */
    double mean_bgr[3], std_bgr[3];
    Conv level1;
    EspBR level1_br, b1, b2, b3;
    EspBlock level2_0, level2[ESPNET_MAX_Q], level3_0, level3[ESPNET_MAX_Q];
    Conv enc_classifier, level3_C;
    BatchNorm br;
    Conv conv;
    EspBR conv_br;
    Conv up_l3;
    EspBR comb_br;
    EspBlock comb_block;
    Conv up_l2;
    EspBR up_l2_br;
    Conv classifier;
} ESPNet;

/* Builds the parameter set (names as the PyTorch state_dict: "encoder.level1.conv.weight", ...);
 * weights are default-initialised until loaded. */
void espnet_init(ESPNet *m, int classes, int p, int q);
void espnet_free(ESPNet *m);
/* Input normalisation: dataset "camvid" or "cityscapes" (upstream values) or explicit values. */
void espnet_set_norm(ESPNet *m, const double mean_bgr[3], const double std_bgr[3]);
int espnet_set_norm_named(ESPNet *m, const char *dataset);
/* x: [N,3,H,W] RGB in [0,1], H and W multiples of 8. Returns logits [N,classes,H,W]. */
Tensor *espnet_forward(ESPNet *m, Tensor *x, bool training);
