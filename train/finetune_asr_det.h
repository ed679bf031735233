/* finetune_asr_det.h: detection ASR — fine-tune an SR model through a FROZEN darknet detector (YOLO loss on small boxes). */
#pragma once
#include "train/finetune_asr.h"

/* asr_defaults() with the detection settings: kind ASR_TASK_DET, alpha 0.9, beta 0.1, small 0.01,
 * focal gamma 2, batch 4. */
void asr_det_defaults(AsrCfg *c);

/* c->data is a YOLO-layout root (coco128); its "train" split (profile/eval_det_tables.h: the first
 * 96 images by name) is used. Each item: the whole image resized to the detector's square input
 * size S (the cfg's, or c->crop when > 0: the net is re-shaped to it; boxes keep their normalised
 * coordinates), flipped left-right with probability 1/2 (boxes
 * too), degraded by c->scale and c->quality; SR(lr) is S x S and goes into the frozen detector as is.
 * loss = alpha * L1(SR(lr), hr) + beta * L_a, with L_a:
 *   ASR_LOSS_DETAIL   YOLOv3 loss (box MSE + objectness/class BCE, focal with gamma c->focal) where
 *                     only boxes of area < c->small of the WHOLE image are positives (box and
 *                     image areas in the file's pixels: the resize to S x S keeps the ratio, and
 *                     nothing is cropped); larger boxes are
 *                     neither positive nor negative (yolo_loss's small_frac);
 *   ASR_LOSS_ALL      the same loss over every box (--mask all);
 *   ASR_LOSS_CLOUDSEG MSE between the detector's raw head outputs on SR(lr) and on hr (Eq. 2).
 * beta = 0 skips the detector (the L1-only control). Checkpoints, resume and the loss log as
 * finetune_asr() (train/asr_run.h). */
int finetune_asr_det(const AsrCfg *c);
