/* cmd_upscale.c: `rune upscale` — super-resolve one image with a CARN / CARN-M checkpoint, tile by tile. */
#include <stdio.h>
#include <time.h>

#include "cmd/commands.h"
#include "data/image.h"
#include "nn/models/carn.h"
#include "profile/sr_metrics.h"
#include "util/args.h"
#include "util/err.h"

int cmd_upscale(int argc, char **argv) {
    const char *model = NULL;
    int scale = 4, tile = 96;
    ArgSpec specs[] = {
        {"model", ARG_STR, &model, "M.h5", "SR checkpoint (rune train-sr output, or rune import of carn_m.pth)"},
        {"scale", ARG_INT, &scale, "S", "upscaling factor; the model needs a head for it (published CARN-M: 2, 3, 4)"},
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
    Carn *m;
    Image lr, sr;
    if (carn_load(model, &m, NULL) < 0) {
        fprintf(stderr, "rune upscale: %s\n", rn_errmsg());
        return 1;
    }
    if (!carn_has_scale(m, scale)) {
        fprintf(stderr, "rune upscale: %s has no x%d head\n", model, scale);
        carn_free(m);
        return 1;
    }
    if (image_read(pos[0], &lr, 3) < 0) {
        fprintf(stderr, "rune upscale: %s\n", rn_errmsg());
        carn_free(m);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sr_upscale_image(m, &lr, scale, tile, &sr);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int rc = image_write(pos[1], &sr);
    if (rc < 0) fprintf(stderr, "rune upscale: %s\n", rn_errmsg());
    else
        printf("%s (%dx%d) -> %s (%dx%d), x%d, %.2f s\n", pos[0], lr.w, lr.h, pos[1], sr.w, sr.h, scale,
               (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    image_free(&lr), image_free(&sr);
    carn_free(m);
    return rc < 0 ? 1 : 0;
}
