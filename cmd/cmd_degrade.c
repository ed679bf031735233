/* cmd_degrade.c: `rune degrade` — downscale + JPEG one frame as the edge would; prints bytes and PSNR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/commands.h"
#include "data/degrade.h"
#include "data/image.h"
#include "profile/sr_metrics.h"
#include "util/args.h"
#include "util/err.h"

static int ends_with(const char *s, const char *ext) {
    size_t n = strlen(s), m = strlen(ext);
    return n >= m && !strcasecmp(s + n - m, ext);
}

/* Degrades IN into OUT and prints what was sent and what it costs in PSNR. */
static int run(const char *in, const char *out, int scale, int quality, int subsamp) {
    Image hr;
    Degraded d = {0}; /* left zeroed when degrading fails: freeing it is then a no-op */
    TRY(image_read(in, &hr, 3));
    int rc = degrade_subsamp(&hr, scale, quality, subsamp, &d);
    if (rc == 0 && (rc = file_write_all(out, d.bytes, d.nbytes)) == 0) {
        double p = degrade_bilinear_psnr(&hr, &d);
        char how[64];
        if (quality == 0) snprintf(how, sizeof how, "lossless PNG");
        else snprintf(how, sizeof how, "JPEG q%d %d", quality, subsamp ? subsamp : 420);
        printf("%s: %dx%d -> %dx%d (x%d, %s)\n", out, hr.w, hr.h, d.lr.w, d.lr.h, scale, how);
        printf("bytes %zu\n", d.nbytes);
        printf("psnr %.2f dB (bilinear x%d upscale vs the %dx%d input crop, RGB)\n", p, scale, d.hr_w, d.hr_h);
    }
    degraded_free(&d);
    image_free(&hr);
    return rc;
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
    int rc = run(in, out, scale, quality, subsamp);
    if (rc < 0) fprintf(stderr, "rune degrade: %s\n", rn_errmsg());
    free(pos);
    return rc < 0 ? 1 : 0;
}
