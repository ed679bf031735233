/* cmd_degrade.c: `rune degrade` — downscale + JPEG one frame as the edge would; prints bytes and PSNR. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/commands.h"
#include "data/degrade.h"
#include "data/image.h"
#include "data/resize.h"
#include "util/args.h"
#include "util/err.h"

/* PSNR over all RGB samples, 8-bit peak 255 (not the SR literature's Y-channel PSNR: this is what
 * the transmitted frame loses, channel for channel). */
static double psnr_rgb(const Image *a, const Image *b) {
    double se = 0;
    size_t n = (size_t)a->w * a->h * a->c;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a->px[i] - b->px[i];
        se += d * d;
    }
    return se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 * (double)n / se);
}

/* What the cloud would show without SR: the received LR frame upscaled bilinearly to the HR crop. */
static double bilinear_psnr(const Image *hr, const Degraded *d) {
    Image crop = degrade_crop(hr, d->scale);
    Frame lr = frame_from_image(&d->lr);
    Frame up = resize_bilinear(&lr, d->hr_w, d->hr_h);
    Image up8 = image_from_frame(&up);
    double p = psnr_rgb(&crop, &up8);
    image_free(&crop), image_free(&up8);
    frame_free(&lr), frame_free(&up);
    return p;
}

static int ends_with(const char *s, const char *ext) {
    size_t n = strlen(s), m = strlen(ext);
    return n >= m && !strcasecmp(s + n - m, ext);
}

int cmd_degrade(int argc, char **argv) {
    int scale = 4, quality = 70, subsamp = 420;
    ArgSpec specs[] = {
        {"scale", ARG_INT, &scale, "N", "downscale factor: each side divided by N (2, 3, 4, 6, 8 or any integer >= 1)"},
        {"quality", ARG_INT, &quality, "Q", "JPEG quality 1..100; 0 = lossless (no JPEG step; needs OUT.png)"},
        {"subsamp", ARG_INT, &subsamp, "S", "JPEG chroma subsampling: 444, 422 or 420"},
        {0},
    };
    ArgCmd cmd = {"degrade", "[options] IN OUT",
                  "Degrades the frame IN as the edge does before sending it: crops it to a multiple of\n"
                  "the scale (top-left floor(W/N)*N x floor(H/N)*N), downscales by N with MATLAB-compatible\n"
                  "bicubic, and JPEG-encodes the result at quality Q. OUT.jpg gets exactly the bytes that\n"
                  "would be sent; OUT.png gets the downscaled frame losslessly (--quality is then ignored).\n"
                  "Prints the byte count and the PSNR (RGB, 8-bit peak 255) of the decoded frame upscaled\n"
                  "back bilinearly (PyTorch align_corners=False) against the cropped input.",
                  specs, 2, 2};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    const char *in = pos[0], *out = pos[1];
    int png_out = ends_with(out, ".png");
    if (!png_out && !ends_with(out, ".jpg") && !ends_with(out, ".jpeg"))
        args_usage_error(&cmd, "OUT must end in .jpg, .jpeg or .png: '%s'", out);
    if (scale < 1) args_usage_error(&cmd, "--scale wants an integer >= 1, got %d", scale);
    if (png_out) quality = 0;
    else if (quality < 1 || quality > 100) args_usage_error(&cmd, "--quality wants 1..100 for a JPEG OUT (0 needs OUT.png), got %d", quality);

    Image hr;
    Degraded d;
    if (image_read(in, &hr, 3) < 0 || degrade_subsamp(&hr, scale, quality, subsamp, &d) < 0 ||
        file_write_all(out, d.bytes, d.nbytes) < 0) {
        fprintf(stderr, "rune degrade: %s\n", rn_errmsg());
        free(pos);
        return 1;
    }
    double p = bilinear_psnr(&hr, &d);
    char how[64];
    if (png_out) snprintf(how, sizeof how, "lossless PNG");
    else snprintf(how, sizeof how, "JPEG q%d %d", quality, subsamp ? subsamp : 420);
    printf("%s: %dx%d -> %dx%d (x%d, %s)\n", out, hr.w, hr.h, d.lr.w, d.lr.h, scale, how);
    printf("bytes %zu\n", d.nbytes);
    printf("psnr %.2f dB (bilinear x%d upscale vs the %dx%d input crop, RGB)\n", p, scale, d.hr_w, d.hr_h);
    degraded_free(&d);
    image_free(&hr);
    free(pos);
    return 0;
}
