/* sr_val.c: SR vs bilinear on held-out degraded frames. */
#include "train/sr_val.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/degrade.h"
#include "data/resize.h"
#include "profile/sr_metrics.h"
#include "util/err.h"

/* Planar float [3,h,w] in [0,1] (unclamped) -> 8-bit RGB, rounding and clamping. */
static Image planar_to_image(const float *p, int w, int h) {
    Frame f = {w, h, 3, (float *)p};
    return image_from_frame(&f);
}

static int score_frame(Carn *m, const Image *hr, int scale, int quality, SrScore *acc) {
    Degraded d;
    TRY(degrade(hr, scale, quality, &d));
    Image crop = degrade_crop(hr, scale);
    Frame lr = frame_from_image(&d.lr);
    float *sr = xmalloc((size_t)3 * crop.w * crop.h * sizeof(float));
    carn_upscale_tiled_buf(m, lr.px, lr.h, lr.w, scale, 64, -1, sr);
    Image sri = planar_to_image(sr, crop.w, crop.h);
    Frame bil = resize_bilinear(&lr, crop.w, crop.h);
    Image bili = image_from_frame(&bil);
    acc->psnr_sr += sr_psnr(&sri, &crop, scale);
    acc->ssim_sr += sr_ssim(&sri, &crop, scale);
    acc->psnr_bilinear += sr_psnr(&bili, &crop, scale);
    acc->ssim_bilinear += sr_ssim(&bili, &crop, scale);
    acc->frames++;
    image_free(&sri), image_free(&bili), frame_free(&bil), frame_free(&lr), image_free(&crop);
    free(sr);
    degraded_free(&d);
    return 0;
}

int sr_validate(Carn *m, const Dataset *ds, int n, int scale, int quality, SrScore *out) {
    memset(out, 0, sizeof *out);
    if (n > ds->n) n = ds->n;
    for (int i = 0; i < n; i++) {
        Image hr;
        TRY(dataset_load_frame(ds, i, &hr));
        int rc = score_frame(m, &hr, scale, quality, out);
        image_free(&hr);
        TRY(rc);
    }
    if (out->frames) {
        out->psnr_sr /= out->frames, out->ssim_sr /= out->frames;
        out->psnr_bilinear /= out->frames, out->ssim_bilinear /= out->frames;
    }
    return 0;
}
