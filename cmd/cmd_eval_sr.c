/* cmd_eval_sr.c: `rune eval-sr` — Y-channel PSNR/SSIM of a CARN checkpoint over an HR/LR pair folder. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "profile/eval_sr.h"
#include "util/args.h"
#include "util/err.h"

int cmd_eval_sr(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *csv_path = NULL;
    int scale = 4, tile = 96;
    ArgSpec specs[] = {
        {"model", ARG_STR, &model, "M.h5", "SR checkpoint (rune train-sr output, or rune import of carn_m.pth)"},
        {"scale", ARG_INT, &scale, "S", "scale of the pairs and of the model head"},
        {"data", ARG_STR, &data, "DIR", "pair folder: DIR/image_SRF_S/NAME_{HR,LR}.png (SelfExSR layout), DIR/HR + DIR/LR, or NAME_{HR,LR}.png in DIR"},
        {"csv", ARG_STR, &csv_path, "FILE", "also write per-image rows and the mean as CSV"},
        {"tile", ARG_INT, &tile, "T", "LR tile side for inference (0 = whole image); results do not depend on it"},
        {0},
    };
    ArgCmd cmd = {"eval-sr", "--model M.h5 --data DIR [options]",
                  "Super-resolves every LR image of an HR/LR pair folder (e.g. ../shared/data/sr-bench/Set5)\n"
                  "and prints PSNR and SSIM as the SR literature reports them: Y channel of ITU-R BT.601 on\n"
                  "8-bit outputs, S pixels of border cropped, SSIM with an 11x11 Gaussian window (sigma 1.5).",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!model || !data) args_usage_error(&cmd, "--model and --data are required");
    if (eval_sr_run(model, data, scale, tile, csv_path) < 0) {
        fprintf(stderr, "rune eval-sr: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
