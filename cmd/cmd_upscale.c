/* cmd_upscale.c: `rune upscale` — super-resolve one image with a CARN / CARN-M checkpoint, tile by tile. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "cmd/device_flag.h"
#include "data/image.h"
#include "nn/models/carn.h"
#include "profile/sr_metrics.h"
#include "util/args.h"
#include "util/err.h"
#include "util/progress.h"

/* Upscales IN into OUT and prints sizes and the time taken. */
static int run(const char *model, int scale, int tile, Device dev, const char *in, const char *out) {
    Carn *m;
    TRY(carn_load(model, &m, NULL));
    params_to_device(&m->ps, dev); /* tiles are cut on the host and cross per tile (carn_upscale_tiled) */
    Image lr = {0}, sr = {0};
    int rc = carn_has_scale(m, scale) ? image_read(in, &lr, 3) : rn_fail("%s has no x%d head", model, scale);
    if (rc == 0) {
        double t0 = now_seconds();
        sr_upscale_image(m, &lr, scale, tile, &sr);
        double dt = now_seconds() - t0;
        rc = image_write(out, &sr);
        if (rc == 0) printf("%s (%dx%d) -> %s (%dx%d), x%d, %.2f s\n", in, lr.w, lr.h, out, sr.w, sr.h, scale, dt);
    }
    image_free(&lr), image_free(&sr);
    carn_free(m);
    return rc;
}

int cmd_upscale(int argc, char **argv) {
    const char *model = NULL;
    /* 160: a 480x360 output (120x90 LR) is one tile with no overlap; larger images pay (1 + 2r/160)^2
     * for the r-pixel context of each tile (r ~ 22 for CARN-M: 1.6x, against 2.1x at 96), for ~170 MB
     * per 64-channel activation at x4 */
    int scale = 4, tile = 160;
    const char *device = "cpu";
    Device dev;
    ArgSpec specs[] = {
        {"model", ARG_STR, &model, "M.h5", "SR checkpoint (rune train-sr output, or rune import of carn_m.pth)"},
        {"scale", ARG_INT, &scale, "S", "upscaling factor; the model needs a head for it (published CARN-M: 2, 3, 4)"},
        DEVICE_ARG(device),
        {"tile", ARG_INT, &tile, "T", "LR tile side in pixels (0 = whole image at once); memory grows with T, not the image"},
        {0},
    };
    ArgCmd cmd = {"upscale", "--model M.h5 [options] IN OUT",
                  "Super-resolves IN (PNG or JPEG; gray is replicated to RGB) by --scale with a CARN or\n"
                  "CARN-M checkpoint and writes OUT (.png, or .jpg at quality 95). The image is processed in\n"
                  "T x T LR tiles, each with enough context around it (the network's receptive radius) that\n"
                  "the result equals whole-image inference: no seams. Outputs are clamped to [0,1] and\n"
                  "rounded to 8 bits.",
                  specs, 2, 2};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    if (!model) args_usage_error(&cmd, "--model is required");
    if (tile < 0) args_usage_error(&cmd, "--tile must be >= 0");
    if (device_flag(&cmd, device, &dev) < 0) return free(pos), 1;
    int rc = run(model, scale, tile, dev, pos[0], pos[1]);
    if (rc < 0) fprintf(stderr, "rune upscale: %s\n", rn_errmsg());
    free(pos);
    return rc < 0 ? 1 : 0;
}
