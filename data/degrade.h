/* degrade.h: what the edge does to a frame before sending it — downscale by s, then JPEG at quality q. */
#pragma once
#include <stddef.h>

#include "data/image.h"

/* One degraded frame: the bytes on the wire and the frame the cloud decodes from them.
 *
 * Size rule for HR frames not divisible by the scale: the HR frame is first cropped to its
 * top-left floor(W/s)*s x floor(H/s)*s pixels (at most s-1 columns/rows dropped on the right and
 * bottom), then downscaled by exactly s with MATLAB-compatible antialiased bicubic
 * (resize_bicubic), so the LR frame is floor(W/s) x floor(H/s) and s * LR is exactly the cropped
 * HR. Accuracy against HR (PSNR, IoU on labels) is measured on that same crop (hr_w x hr_h at
 * (0,0)); use degrade_crop() to get it. */
typedef struct Degraded {
    unsigned char *bytes; /* [nbytes] malloc'ed: the JPEG stream, or a PNG stream when lossless */
    size_t nbytes;
    Image lr;       /* the decoded low-resolution frame (RGB unless the input was gray) */
    int hr_w, hr_h; /* the HR crop the LR frame stands for: scale * lr size */
    int scale, quality;
} Degraded;

/* Downscales `hr` (c = 1 or 3; RGBA has its alpha dropped) by the integer scale >= 1 and
 * encodes it with JPEG at quality 1..100 (4:2:0 chroma subsampling, TurboJPEG's default for
 * video), or losslessly as PNG when quality is 0 (no JPEG step: lr is the downscaled frame
 * itself). Returns 0, or -1 with rn_errmsg() when the frame is smaller than the scale or the
 * quality is out of range. */
int degrade(const Image *hr, int scale, int quality, Degraded *out);
/* As degrade() with a chosen chroma subsampling (444, 422, 420; 0 = 420). */
int degrade_subsamp(const Image *hr, int scale, int quality, int subsamp, Degraded *out);
void degraded_free(Degraded *d);
/* degrade() keeping only the decoded LR frame, in the loader's DegradeFn form (data/loader.h):
 * quality points to the int JPEG quality (0 = lossless). */
int degrade_lr(const Image *hr, int scale, Image *lr, void *quality);

/* LR size for an HR size under the rule above (0 when the frame is smaller than the scale). */
int degrade_lr_size(int hr, int scale);
/* The HR pixels a degraded frame stands for: the top-left s*floor(W/s) x s*floor(H/s) crop. */
Image degrade_crop(const Image *hr, int scale);
