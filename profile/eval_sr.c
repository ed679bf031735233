/* eval_sr.c: PSNR/SSIM (Y, border = scale) of a CARN checkpoint over the pairs of an HR/LR folder. */
#include "profile/eval_sr.h"

#include <stdio.h>
#include <string.h>

#include "data/dataset.h"
#include "profile/sr_metrics.h"
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

static int eval_pairs(Carn *m, const Dataset *ds, int scale, int tile, FILE *csv) {
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

/* The pairs scored into the CSV (when given). */
static int run(Carn *m, const Dataset *ds, int scale, int tile, const char *csv_path) {
    FILE *csv = NULL;
    if (csv_path && !(csv = fopen(csv_path, "w"))) return rn_fail("cannot write %s", csv_path);
    int rc = eval_pairs(m, ds, scale, tile, csv);
    if (csv && fclose(csv) != 0 && rc == 0) rc = rn_fail("error writing %s", csv_path);
    return rc;
}

int eval_sr_run(const char *model, const char *data, int scale, int tile, const char *csv_path) {
    Carn *m = NULL;
    Dataset ds;
    TRY(carn_load(model, &m, NULL));
    int rc = carn_has_scale(m, scale) ? ds_srpairs(data, scale, &ds) : rn_fail("%s has no x%d head", model, scale);
    if (rc == 0) {
        rc = run(m, &ds, scale, tile, csv_path);
        dataset_free(&ds);
    }
    carn_free(m);
    return rc;
}
