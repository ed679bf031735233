/* seg_metrics.h: segmentation accuracy — confusion matrices, per-class IoU, mIoU, per-frame mIoU. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* K x K counts, rows = ground truth, columns = prediction; pixels whose label is `ignore` (or >= K)
 * are not counted. */
typedef struct Confusion {
    int k;
    long long *m; /* [k*k] */
} Confusion;

void confusion_init(Confusion *c, int k);
void confusion_free(Confusion *c);
void confusion_reset(Confusion *c);
void confusion_add(Confusion *c, const uint8_t *pred, const uint8_t *label, size_t n, int ignore);
void confusion_merge(Confusion *dst, const Confusion *src);
/* IoU of class i = TP / (TP + FP + FN); NaN when the class never occurs in prediction or label. */
double confusion_iou(const Confusion *c, int i);
/* Mean IoU over classes whose IoU is defined (not NaN); NaN when none is. */
double confusion_miou(const Confusion *c);
/* Pixel accuracy over counted pixels. */
double confusion_pixel_acc(const Confusion *c);

/* Argmax over channels of logits [K, H*W] (planar, one frame) into pred[H*W]. Ties go to the
 * lowest class index, as torch.argmax. */
void argmax_channels(const float *logits, int k, size_t hw, uint8_t *pred);
