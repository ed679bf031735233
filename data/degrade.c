/* degrade.c: the edge's frame degradation — crop to a multiple of s, bicubic downscale, JPEG or PNG. */
#include "data/degrade.h"

#include <stdlib.h>
#include <string.h>

#include "data/resize.h"
#include "util/err.h"

int degrade_lr_size(int hr, int scale) {
    RN_CHECK(scale >= 1, "scale %d", scale);
    return hr / scale;
}

Image degrade_crop(const Image *hr, int scale) {
    int w = degrade_lr_size(hr->w, scale) * scale, h = degrade_lr_size(hr->h, scale) * scale;
    return image_crop(hr, 0, 0, w, h);
}

/* The downscaled frame before any coding: RGB (or gray), cropped, then resized by exactly 1/s. */
static Image downscale(const Image *hr, int scale) {
    Image src = hr->c == 4 ? image_convert(hr, 3) : degrade_crop(hr, scale);
    if (hr->c == 4) {
        Image crop = degrade_crop(&src, scale);
        image_free(&src);
        src = crop;
    }
    if (scale == 1) return src;
    Image lr = resize_bicubic(&src, src.w / scale, src.h / scale);
    image_free(&src);
    return lr;
}

int degrade_subsamp(const Image *hr, int scale, int quality, int subsamp, Degraded *out) {
    if (scale < 1) return rn_fail("scale %d: want an integer >= 1", scale);
    if (quality < 0 || quality > 100) return rn_fail("JPEG quality %d: want 1..100, or 0 for lossless", quality);
    if (degrade_lr_size(hr->w, scale) < 1 || degrade_lr_size(hr->h, scale) < 1)
        return rn_fail("a %dx%d frame is smaller than the scale x%d", hr->w, hr->h, scale);
    Degraded d = {.scale = scale, .quality = quality};
    Image lr = downscale(hr, scale);
    d.hr_w = lr.w * scale;
    d.hr_h = lr.h * scale;
    if (quality == 0) {
        if (png_encode(&lr, &d.bytes, &d.nbytes) < 0) {
            image_free(&lr);
            return -1;
        }
        d.lr = lr;
    } else {
        int rc = jpeg_encode(&lr, quality, subsamp, &d.bytes, &d.nbytes);
        image_free(&lr);
        TRY(rc);
        /* Decode what was sent: the cloud sees the JPEG's artefacts, not the clean LR. */
        if (jpeg_decode(d.bytes, d.nbytes, &d.lr, 0) < 0) {
            free(d.bytes);
            return -1;
        }
    }
    *out = d;
    return 0;
}

int degrade(const Image *hr, int scale, int quality, Degraded *out) {
    return degrade_subsamp(hr, scale, quality, 420, out);
}

void degraded_free(Degraded *d) {
    free(d->bytes);
    image_free(&d->lr);
    *d = (Degraded){0};
}

int degrade_lr(const Image *hr, int scale, Image *lr, void *quality) {
    Degraded d;
    TRY(degrade(hr, scale, *(const int *)quality, &d));
    *lr = d.lr;
    d.lr.px = NULL; /* handed to the caller */
    degraded_free(&d);
    return 0;
}
