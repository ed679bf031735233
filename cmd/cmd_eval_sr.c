/* cmd_eval_sr.c: `rune eval-sr` — Y-channel PSNR/SSIM of a CARN checkpoint over an HR/LR pair folder. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "data/dataset.h"
#include "nn/models/carn.h"
#include "profile/sr_metrics.h"
#include "util/args.h"
#include "util/err.h"

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* SR of pair i and its metrics; -1 on a bad file. */
static int eval_pair(Carn *m, const Dataset *ds, int i, int scale, int tile, double *psnr, double *ssim) {
    Image hr, lr, sr;
    TRY(dataset_load_frame(ds, i, &hr));
    if (dataset_load_lr(ds, i, &hr, &lr) < 0) {
        image_free(&hr);
        return -1;
    }
    sr_upscale_image(m, &lr, scale, tile, &sr);
    *psnr = sr_psnr(&sr, &hr, scale);
    *ssim = sr_ssim(&sr, &hr, scale);
    image_free(&hr), image_free(&lr), image_free(&sr);
    return 0;
}

static int run(Carn *m, const Dataset *ds, int scale, int tile, FILE *csv) {
    double sp = 0, ss = 0;
    if (csv) fprintf(csv, "image,psnr_y,ssim_y\n");
    for (int i = 0; i < ds->n; i++) {
        double p, s;
        TRY(eval_pair(m, ds, i, scale, tile, &p, &s));
        printf("%-28s PSNR %7.3f dB  SSIM %.4f\n", base_name(ds->samples[i].frame), p, s);
        if (csv) fprintf(csv, "%s,%.6f,%.6f\n", base_name(ds->samples[i].frame), p, s);
        sp += p, ss += s;
        fflush(stdout);
    }
    printf("mean over %d images (x%d, Y channel, %d-pixel border): PSNR %.3f dB  SSIM %.4f\n", ds->n, scale, scale,
           sp / ds->n, ss / ds->n);
    if (csv) fprintf(csv, "mean,%.6f,%.6f\n", sp / ds->n, ss / ds->n);
    return 0;
}

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
    if (!model || !data) args_usage_error(&cmd, "--model and --data are required");
    Carn *m = NULL;
    Dataset ds;
    FILE *csv = NULL;
    int rc = 1;
    if (carn_load(model, &m, NULL) < 0) goto fail;
    if (!carn_has_scale(m, scale)) {
        rn_fail("%s has no x%d head", model, scale);
        goto fail;
    }
    if (ds_srpairs(data, scale, &ds) < 0) goto fail;
    if (csv_path && !(csv = fopen(csv_path, "w"))) rn_fail("cannot write %s", csv_path);
    else if (run(m, &ds, scale, tile, csv) == 0) rc = 0;
    if (csv && fclose(csv) != 0 && rc == 0) rc = 1, rn_fail("error writing %s", csv_path);
    dataset_free(&ds);
fail:
    if (rc) fprintf(stderr, "rune eval-sr: %s\n", rn_errmsg());
    carn_free(m);
    return rc;
}
