/* darknet.h: darknet YOLO detectors (cfg + .weights) — network, weights, forward, box decoding, NMS, YOLOv3 loss. */
#pragma once
#include <stdbool.h>

#include "nn/models/darknet_cfg.h"
#include "nn/models/layers.h"

/* Parameter names: "layers.<i>.conv.weight" [Cout, Cin/g, k, k]; with batch_normalize
 * "layers.<i>.bn.weight/bias/running_mean/running_var" [Cout], else "layers.<i>.conv.bias".
 * <i> is the darknet layer index (the one darknet prints, [net] excluded). */
typedef struct Darknet {
    DnCfg cfg;
    ParamSet ps;
    Conv *conv;    /* [cfg.n]; valid for conv layers */
    BatchNorm *bn; /* [cfg.n]; valid for conv layers with batch_normalize */
    int nheads;
    int head[DN_MAX_HEADS]; /* layer index of each [yolo] */
} Darknet;

/* BN epsilon: AlexeyAB/darknet (Yolo-Fastest's trainer) normalises with sqrt(var + .00001f) on the
 * CPU and passes 1e-5 to cuDNN; pjreddie's CPU path uses sqrt(var) + .000001f instead, a
 * difference below 1e-5 relative for any trained variance. */
#define DARKNET_BN_EPS 1e-5
#define DARKNET_LEAKY 0.1

/* Takes ownership of *cfg (zeroed on return). Parameters are default-initialised until loaded. */
void darknet_init(Darknet *net, DnCfg *cfg);
void darknet_free(Darknet *net);
/* Loads a darknet .weights file (layout: /work/shared/README.md). The file must hold exactly the
 * floats the cfg needs (checked from its size before reading): too few for a layer or any left
 * over is an error naming the layer; a NaN or infinite value is an error naming the tensor. */
int darknet_load_weights(Darknet *net, const char *path);
/* Model files: a .h5 made by darknet_import (cfg embedded) or CFG + WEIGHTS (the weights' length
 * is checked against the cfg before the model is allocated). */
int darknet_open(Darknet *net, const char *model, const char *weights);

/* x [N, channels, H, W] RGB in [0,1] (darknet's own input scaling), H/W = cfg height/width (see
 * dn_cfg_set_input). heads[k] = the raw (pre-sigmoid) output of head k, [N, nmask*(5+classes), h, w];
 * inference-mode batch norm (the detector is frozen). Returns the head count. */
int darknet_forward(Darknet *net, Tensor *x, Tensor **heads);

/* Max pooling with darknet's window placement (start at -pad/2, total padding pad, padding as
 * -inf); an odd pad pads only right/bottom. Differentiable (gradient to the max). */
Tensor *darknet_maxpool(Tensor *x, int size, int stride, int pad);

/* ---- input ------------------------------------------------------------------------------- */
/* darknet's resize_image: bilinear with corner-aligned sampling (scale (in-1)/(out-1)), no
 * antialiasing — what AlexeyAB's `detector map` feeds a net without letter_box (Yolo-Fastest).
 * src/dst planar float [c][h][w]. */
void darknet_resize(const float *src, int c, int h, int w, real_t *dst, int oh, int ow);
/* darknet's letterbox_image: resize keeping the aspect ratio, centred on 0.5 grey. */
void darknet_letterbox(const float *src, int c, int h, int w, real_t *dst, int oh, int ow);

/* ---- decoding ---------------------------------------------------------------------------- */
typedef struct DnDet {
    float x0, y0, x1, y1; /* normalised to the original image ([0,1] inside it; not clipped) */
    float score;          /* objectness * class probability */
    int cls;
} DnDet;

/* Boxes of sample b from all heads: for each anchor with objectness > thresh, every class whose
 * objectness*prob > thresh; per-class NMS with threshold nms (each head's nms_kind). letter:
 * the input was letterboxed from an img_w x img_h image (undo it); otherwise plain resize. The
 * result (malloc'ed, sorted by descending score) goes to *out; returns the count. */
int darknet_detect(const Darknet *net, Tensor **heads, int b, float thresh, float nms, bool letter, int img_w,
                   int img_h, DnDet **out);
/* Per-class NMS over dets (any order) in place; returns the kept count (sorted by score). */
int darknet_nms(DnDet *d, int n, float thresh, DnNmsKind kind, float beta);
float dn_box_iou(const DnDet *a, const DnDet *b);

/* One RGB image (planar float [3][h][w] in [0,1]; darknet loads 8-bit images as v / 255, divided,
 * not multiplied by a rounded 1/255: data/image.h's PIXEL_DIV) through the net, without gradients:
 * darknet's input scaling (resize, or letterbox when `letter`), forward, decode, NMS. Boxes are
 * normalised to the image; *out is malloc'ed; returns the count. Activations stay in the engine
 * arena: the caller resets it (engine_step_reset) between images. */
int darknet_detect_planar(Darknet *net, const float *planar, int w, int h, float thresh, float nms, bool letter,
                          DnDet **out);
/* Class names: a darknet .names file (one a line, blank lines skipped). Returns the count, or -1. */
int dn_names_load(const char *path, char ***names);
void dn_names_free(char **names, int n);

/* ---- YOLOv3 training loss (ASR's detection loss through the frozen detector) -------------- */
typedef struct YoloTruth {
    int cls;
    float x0, y0, x1, y1; /* normalised to the net input */
} YoloTruth;

typedef struct YoloLossOpts {
    double ignore_thresh; /* < 0: each head's cfg value */
    double focal_gamma;   /* 0: BCE on objectness and classes; > 0: sigmoid focal loss */
    double focal_alpha;   /* focal alpha; < 0: no alpha weighting */
    double small_frac;    /* > 0: only truths with area < small_frac (of the image) are positives */
    double w_box, w_obj, w_cls;
    bool extra_anchors;   /* AlexeyAB iou_thresh: every anchor with shape IoU > iou_thresh is positive */
} YoloLossOpts;

YoloLossOpts yolo_loss_defaults(void);
/* ASR's small box: area < small_frac of the image, both normalised to [0,1] (the image is resized
 * whole, never cropped, so this is the box's share of the frame); small_frac <= 0: every box. */
bool yolo_truth_small(const YoloTruth *t, double small_frac);
/* heads as darknet_forward returns them (N samples); truth[b][0..ntruth[b]). Returns the scalar
 * loss: (box MSE + objectness + class terms) summed over anchors, averaged over samples. See
 * yolo_loss.c for the exact terms. */
Tensor *yolo_loss(const DnCfg *cfg, Tensor **heads, const YoloTruth *const *truth, const int *ntruth,
                  const YoloLossOpts *o);

/* ---- import (rune import darknet) ------------------------------------------------------------ */
/* cfg + weights -> rune checkpoint (model "darknet", the cfg text embedded as a uint8 attribute). */
int darknet_import(const char *cfg, const char *weights, const char *out_h5);
/* Reads a checkpoint written by darknet_import: builds the net from the embedded cfg, loads it. */
int darknet_load_h5(Darknet *net, const char *path);
