/* sr_val.h: held-out PSNR/SSIM of an SR model against bilinear, on degraded frames (training checkpoints, eval). */
#pragma once
#include "data/dataset.h"
#include "nn/models/carn.h"

typedef struct SrScore {
    double psnr_sr, ssim_sr, psnr_bilinear, ssim_bilinear; /* means over frames, Y channel, border = scale */
    int frames;
} SrScore;

/* Degrades frames [0, n) of ds by `scale` (and JPEG `quality`, 0 = none), super-resolves them with
 * m (tiled) and with bilinear upsampling, and scores both against the HR crop. */
int sr_validate(Carn *m, const Dataset *ds, int n, int scale, int quality, SrScore *out);
