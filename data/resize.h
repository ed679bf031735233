/* resize.h: image resampling — MATLAB-compatible bicubic (antialiased) and PyTorch-compatible bilinear. */
#pragma once
#include "data/image.h"

/* MATLAB imresize(src, [out_h out_w], 'bicubic') on 8-bit images, bit for bit in intent:
 * cubic kernel a = -0.5; when shrinking, the kernel is stretched by 1/scale (antialiasing);
 * out-of-range source indices are clamped to the edge (replicate, as MATLAB's contributions()
 * does); the two
 * dimensions are resized separately, the one shrinking most first (rows first on a tie), each
 * pass accumulated in double and rounded half away from zero to uint8 with saturation, as
 * MATLAB's imresizemex does for uint8 input. scale = out/in per dimension. Works for any
 * channel count and for upscaling too (no antialiasing then). */
Image resize_bicubic(const Image *src, int out_w, int out_h);

/* torch.nn.functional.interpolate(x, size=(out_h, out_w), mode='bilinear', align_corners=False)
 * on a float planar frame: source coordinate (dst + 0.5) * in/out - 0.5 clamped at 0, no
 * antialiasing when shrinking (as F.interpolate's default). */
Frame resize_bilinear(const Frame *src, int out_w, int out_h);
