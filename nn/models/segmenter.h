/* segmenter.h: one face for the frozen segmentation models (ESPNet, SwiftNet) — open by file, forward, predict. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "nn/models/espnet.h"
#include "nn/models/swiftnet.h"

typedef enum { SEG_ESPNET, SEG_SWIFTNET } SegArch;

/* Void channel: ESPNet was trained with the dataset's void/ignore label as one more class
 * (CamVid: 11 classes + void = 12 outputs; Cityscapes: 19 + ignore = 20). rune scores the real
 * classes only, so `classes` = outputs - 1 for those models and predictions are the argmax over
 * channels [0, classes): a pixel is never predicted void, just as a pixel labelled void (255) is
 * never scored. The void channel still takes part in training losses of such a model.
 * Measured on CamVid test (233 frames, published ESPNet-CamVid): 57.26 % mIoU this way; ESPNet's
 * own scoring (argmax over all 12, void-labelled pixels kept as class 11, mean over the 11 real
 * classes; `rune eval-seg --void-class`) gives 55.65 %, the published 55.64 %. */
typedef struct Segmenter {
    SegArch arch;
    const char *arch_name;          /* "espnet", "swiftnet" */
    int outputs;                    /* channels of the logits */
    int classes;                    /* classes predicted and scored: channels [0, classes) */
    const char *const *class_names; /* [classes]; CamVid or Cityscapes names, else NULL */
    const char *dataset;            /* "camvid", "cityscapes" or "" (decides names and palette) */
    ESPNet *espnet;
    SwiftNet *swiftnet;
    ParamSet *ps;                   /* the model's parameters (frozen by segmenter_open) */
} Segmenter;

/* Opens weights at `path`: a PyTorch .pth/.pt state_dict (published ESPNet or upstream SwiftNet,
 * "module." stripped) or a rune .h5 checkpoint (its "model" attribute names the architecture).
 * arch: "espnet", "swiftnet" or NULL to tell from the file. classes: the number of real classes
 * (0 = from the file: outputs, minus the void channel for ESPNet with 12 or 20 outputs).
 * norm: input normalisation name ("camvid", "cityscapes"; SwiftNet also "swiftnet", "imagenet");
 * NULL = ESPNet's from its class count, SwiftNet's stored in the checkpoint.
 * The parameters come back frozen (no gradient; gradients still reach the input).
 * NULL with rn_errmsg() naming the file on any failure. */
Segmenter *segmenter_open(const char *path, const char *arch, int classes, const char *norm);
/* A fresh, randomly initialised model (training from scratch, benchmarks); width for SwiftNet. */
Segmenter *segmenter_new(const char *arch, int classes, double width);
void segmenter_close(Segmenter *s);

/* x [N,3,H,W] RGB in [0,1] -> logits [N,outputs,H,W]. ESPNet needs sides divisible by 8: other
 * sizes are resized bilinearly to the next multiple of 8 and the logits resized back. */
Tensor *segmenter_forward(Segmenter *s, Tensor *x, bool training);
/* Argmax over channels [0, classes) of logits sample n into pred[H*W] (ties: lowest index). */
void segmenter_predict(const Segmenter *s, const Tensor *logits, int n, uint8_t *pred);
