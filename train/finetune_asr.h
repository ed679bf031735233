/* finetune_asr.h: analytics-aware SR (Eq. 1/3): fine-tune an SR model through a frozen segmenter. */
#pragma once
#include <stdbool.h>

#include <stdint.h>

#include "data/image.h"
#include "nn/device.h"

typedef enum {
    ASR_LOSS_DETAIL, /* Eq. 3: cross-entropy on the small-region (detail) pixels only */
    ASR_LOSS_ALL,    /* control: cross-entropy on every labelled pixel (--mask all) */
    ASR_LOSS_CLOUDSEG, /* Eq. 2 (CloudSeg): MSE between task(SR(lr)) and task(hr) logits */
} AsrLoss;

typedef enum {
    ASR_TASK_SEG, /* frozen segmenter (ESPNet or SwiftNet), CamVid-style labelled frames: finetune_asr() */
    ASR_TASK_DET, /* frozen darknet detector, YOLO-labelled images: finetune_asr_det() */
} AsrTaskKind;

typedef struct AsrCfg {
    const char *sr;       /* SR checkpoint to start from (.h5, trained by train-sr; needs the x`scale` head) */
    const char *task;     /* frozen segmenter: any file segmenter_open() reads (ESPNet or SwiftNet, .h5 or .pth) */
    const char *norm;     /* segmenter input normalisation; NULL = the checkpoint's (segmenter_open) */
    int task_classes;     /* segmenter outputs expected (a check; 0 = whatever the checkpoint has) */
    const char *data;     /* CamVid root: frames + labels (train split) */
    const char *out;      /* checkpoint to write; logs beside it */
    int scale, quality;   /* the edge's degradation: downscale by scale, JPEG at quality (0 = none) */
    double alpha, beta;   /* loss = alpha * L1(SR(lr), hr) + beta * L_a */
    AsrLoss loss;
    double small;         /* detail mask: connected regions of the WHOLE frame's label (seg) or boxes
                             (det) whose area is below this fraction of the frame's, in (0, 1) */
    int crop;             /* HR crop side (multiple of 8 and of scale), 0 = whole frames */
    int batch;
    long long steps, ckpt_every;
    double lr;
    uint64_t seed;
    bool resume, quiet;
    Device device;        /* where SR, its Adam state, the frozen task model and batches live */
    /* detection (kind = ASR_TASK_DET; see train/finetune_asr_det.h) */
    AsrTaskKind kind;
    const char *weights;  /* darknet .weights when task is a .cfg (NULL for an imported .h5) */
    double focal;         /* focal gamma of the YOLO objectness/class terms (0 = plain BCE) */
} AsrCfg;

void asr_defaults(AsrCfg *c);

/* Eq. 3's dtl of one WHOLE frame: mask = 1 on the pixels of connected same-label regions smaller
 * than *(const double *)small of the frame (profile/tail.h: small_region_mask), 0 elsewhere and on
 * ignored pixels. The loader's LabelMaskFn: training crops are cut from this mask, so a large
 * region cut by a crop's edge stays large, as the paper measures regions "relative to the frame". */
int asr_frame_detail_mask(const Image *label, uint8_t *mask, void *small);

/* c->data: a CamVid-style root whose train split (data/dataset.h: dataset_open "frames") has a label
 * map of its frame's size for every frame, checked before any model loads. Items: random crops
 * (c->crop; 0 = whole frames) mirrored left-right with probability 1/2, their labels and detail
 * masks cut and mirrored with them. 0, or -1 with rn_errmsg(). */
int finetune_asr(const AsrCfg *c);
