/* sr_metrics.h: PSNR and SSIM on the BT.601 Y channel of 8-bit images, as super-resolution papers report them. */
#pragma once
#include "data/degrade.h"
#include "data/image.h"
#include "nn/models/carn.h"

/* The SR literature's protocol (MATLAB evaluation scripts of SRCNN/VDSR/CARN and successors):
 *  - images are 8-bit; Y = 16 + (65.481 R + 128.553 G + 24.966 B) with R, G, B in [0,1], rounded to
 *    an integer as MATLAB's rgb2ycbcr does for uint8 images (a gray image counts as R = G = B);
 *  - `border` pixels (the scale, by convention) are cropped from every side before comparing;
 *  - PSNR = 10 log10(255^2 / MSE);
 *  - SSIM as Wang et al.'s ssim_index.m: 11x11 Gaussian window sigma 1.5, 'valid' filtering (no
 *    padding), K1 = 0.01, K2 = 0.03, L = 255, mean over the SSIM map.
 * Both images must have the same size and 1 or 3 channels; a mismatch is a caller bug (dies).
 * PSNR of identical images is +inf. */
double sr_psnr(const Image *a, const Image *b, int border);
double sr_ssim(const Image *a, const Image *b, int border);

/* PSNR over all samples of two same-size 8-bit images, peak 255 (not the SR literature's Y channel:
 * what a transmitted frame loses, channel for channel); +inf when identical. */
double psnr_rgb(const Image *a, const Image *b);
/* What the cloud shows without SR: the degraded frame's LR upscaled bilinearly (PyTorch
 * align_corners=False) to its HR crop, and psnr_rgb of that against the crop of hr. */
double degrade_bilinear_psnr(const Image *hr, const Degraded *d);

/* Y channel (as above, rounded) of im into y[h*w]. */
void sr_y_channel(const Image *im, double *y);

/* The SR image the metrics are computed on: CARN on an 8-bit image (gray is replicated to RGB),
 * tiled with `tile` LR pixels (0 = one tile; context as carn_upscale_tiled picks, so the result
 * equals untiled inference), output clamped to [0,1] and rounded to 8 bits. *out is allocated
 * (w*scale x h*scale x 3). */
void sr_upscale_image(Carn *m, const Image *lr, int scale, int tile, Image *out);
