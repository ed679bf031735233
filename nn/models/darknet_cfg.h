/* darknet_cfg.h: darknet .cfg files (the YOLOv3 family) parsed into a layer list with shapes and BFLOPs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Semantics follow AlexeyAB/darknet (the fork Yolo-Fastest was trained with), which agrees with
 * pjreddie/darknet on everything the YOLOv3 cfgs use:
 *  - lines lose ALL whitespace ("mask = 3,4,5" is "mask=3,4,5"); '#' / ';' lines are comments;
 *  - [convolutional] pad=1 means padding size/2, else padding=P (default 0); output
 *    (h + 2P - dilation*(size-1) - 1)/stride + 1; activation leaky (slope 0.1), linear, relu,
 *    logistic (darknet's default when the key is absent); anything else is an error;
 *  - [maxpool] padding defaults to size-1 and the window starts at -padding/2, so an odd padding
 *    pads only the right/bottom (yolov3-tiny's size=2 stride=1 keeps 13x13); output
 *    (h + padding - size)/stride + 1;
 *  - [route] layers=a,b (negative = relative to the route itself); groups=G group_id=k takes the
 *    k-th of G channel slices of EACH input, then concatenates;
 *  - [shortcut] from=-k adds layer i-k to layer i-1 (same shape required here);
 *  - [yolo] anchors are in pixels of the net input; mask picks this head's anchors (default all).
 * Unknown sections or keys are errors naming the file and line: a key darknet would silently
 * ignore (a typo) changes nothing there but would here go unnoticed too. */

#define DN_MAX_FROM 8
#define DN_MAX_ANCHORS 16
#define DN_MAX_HEADS 8

/* Sane limits, checked before anything is allocated: a cfg beyond them is an error naming the cfg
 * and line, not an allocation of hundreds of GiB. The YOLOv3 family stays far below each (input
 * 608x608, 1024 filters, 7x7 kernels, 80 classes, 62M weights, 5.5M values in its largest map). */
#define DN_MAX_SIDE 8192                /* [net] width and height, and any input size set later */
#define DN_MAX_CHANNELS 64              /* [net] channels */
#define DN_MAX_FILTERS 16384            /* conv filters (output channels) */
#define DN_MAX_KERNEL 64                /* conv/maxpool size, stride, dilation, padding; upsample stride; route groups */
#define DN_MAX_CLASSES 10000            /* [yolo] classes */
#define DN_MAX_LAYER_VALUES (1ll << 28) /* values in one layer's output map, and weights of one conv (1 GiB as float) */

typedef enum { DN_CONV, DN_SHORTCUT, DN_ROUTE, DN_UPSAMPLE, DN_MAXPOOL, DN_DROPOUT, DN_YOLO } DnType;
typedef enum { DN_LINEAR, DN_LEAKY, DN_RELU, DN_LOGISTIC } DnAct;
typedef enum { DN_NMS_IOU, DN_NMS_GREEDY_DIOU, DN_NMS_DIOU } DnNmsKind;

typedef struct DnYolo {
    int classes, num, nmask;
    int mask[DN_MAX_ANCHORS];         /* indices into anchors, this head's anchors */
    float anchors[2 * DN_MAX_ANCHORS]; /* num (w, h) pairs in net-input pixels */
    float ignore_thresh, truth_thresh, iou_thresh, scale_x_y, jitter;
    float cls_normalizer, iou_normalizer, obj_normalizer, beta_nms, max_delta, label_smooth_eps;
    int random, focal_loss, resize;
    char iou_loss[16];
    DnNmsKind nms_kind; /* "default" IoU NMS; greedynms: DIoU criterion; diounms: DIoU with beta_nms */
} DnYolo;

typedef struct DnLayer {
    DnType type;
    int line;                      /* line of the section header in the cfg */
    /* conv: filters, size, stride, pad (pixels), groups, dilation; maxpool: size, stride, pad
     * (darknet's total "padding"); upsample: stride */
    int filters, size, stride, pad, groups, dilation;
    bool bn;
    DnAct act;                     /* conv and shortcut */
    int nfrom, from[DN_MAX_FROM];  /* route/shortcut inputs as absolute layer indices */
    int route_groups, group_id;
    float probability;             /* dropout (identity at inference) */
    DnYolo yolo;
    int c, h, w;                   /* input shape (the previous layer's output; net input for 0) */
    int out_c, out_h, out_w;
    double bflops;                 /* as AlexeyAB counts: conv 2*K*K*Cin/g*Cout*H*W, maxpool, shortcut */
} DnLayer;

typedef struct DnOpt {
    char *key, *val;
    int line;
} DnOpt;

typedef struct DnCfg {
    char *name;                    /* file name for messages */
    char *text;                    /* the file as read (kept for checkpoints) */
    int width, height, channels;
    bool letter_box;               /* [net] letter_box=1: letterbox input, else plain resize */
    int nopt;
    DnOpt *opt;                    /* every [net] key as written (training keys are kept, unused) */
    int n;
    DnLayer *l;
} DnCfg;

/* Parse cfg text; NAME is used in messages ("NAME:LINE: ..."). Computes shapes for the [net]
 * width/height. Returns 0, or -1 with rn_errmsg(). *out is overwritten (free with dn_cfg_free). */
int dn_cfg_parse(const char *text, size_t len, const char *name, DnCfg *out);
int dn_cfg_load(const char *path, DnCfg *out);
void dn_cfg_free(DnCfg *c);
/* Re-infer every layer's shape for another input size (the weights do not depend on it). */
int dn_cfg_set_input(DnCfg *c, int width, int height);
/* Sum of the layers' BFLOPs (AlexeyAB's "Total BFLOPS"); conv_only: pjreddie's conv-only sum. */
double dn_cfg_bflops(const DnCfg *c, bool conv_only);
/* The layer table: index, type, filters, size/stride, input -> output, BFLOPs, and the total. */
void dn_cfg_print(const DnCfg *c, FILE *f);
/* Indices of the [yolo] layers in order; returns their count. */
int dn_cfg_heads(const DnCfg *c, int idx[DN_MAX_HEADS]);
const char *dn_type_name(DnType t);
