/* mask_stats.c: per-class coverage of the whole-frame detail mask over a split (rune mask-stats). */
#include "profile/mask_stats.h"

#include <stdlib.h>

#include "profile/tail.h"
#include "util/err.h"

/* One frame's label into every threshold's counts. */
static void count_frame(const Image *lab, const double *smalls, int nsmall, uint8_t *mask, MaskStats *out) {
    size_t n = (size_t)lab->w * lab->h;
    for (int j = 0; j < nsmall; j++) {
        small_region_mask(lab->px, lab->w, lab->h, smalls[j], DS_IGNORE, mask);
        for (size_t i = 0; i < n; i++) {
            int c = lab->px[i];
            if (c >= out[j].k) continue; /* ignore (255) and values beyond the classes */
            out[j].pixels[c]++;
            out[j].masked[c] += mask[i];
        }
    }
}

int mask_stats(const Dataset *ds, const double *smalls, int nsmall, MaskStats *out) {
    for (int j = 0; j < nsmall; j++)
        if (!(smalls[j] > 0 && smalls[j] < 1)) return rn_fail("threshold %g: a fraction of the frame in (0, 1)", smalls[j]);
    TRY(dataset_check_labels(ds));
    for (int j = 0; j < nsmall; j++)
        out[j] = (MaskStats){smalls[j], ds->nclasses, xcalloc((size_t)ds->nclasses + 1, sizeof(long long)),
                             xcalloc((size_t)ds->nclasses + 1, sizeof(long long))};
    int rc = 0;
    for (int i = 0; i < ds->n && rc == 0; i++) {
        Image lab;
        rc = dataset_load_label(ds, i, NULL, &lab);
        if (rc < 0) break;
        uint8_t *mask = xmalloc((size_t)lab.w * lab.h);
        count_frame(&lab, smalls, nsmall, mask, out);
        free(mask);
        image_free(&lab);
    }
    if (rc < 0) mask_stats_free(out, nsmall);
    return rc;
}

void mask_stats_free(MaskStats *s, int n) {
    for (int j = 0; j < n; j++) {
        free(s[j].pixels), free(s[j].masked);
        s[j].pixels = s[j].masked = NULL;
    }
}

static long long sum(const long long *v, int k) {
    long long t = 0;
    for (int c = 0; c < k; c++) t += v[c];
    return t;
}

static void csv_row(FILE *f, double small, int id, const char *name, long long pixels, long long masked) {
    fprintf(f, "%g,%d,%s,%lld,%lld,", small, id, name, pixels, masked);
    if (pixels) fprintf(f, "%.6f", (double)masked / (double)pixels);
    fputc('\n', f);
}

void mask_stats_csv(FILE *f, const Dataset *ds, const MaskStats *s, int n) {
    fprintf(f, "small,class_id,class,pixels,mask_pixels,share\n");
    for (int j = 0; j < n; j++) {
        for (int c = 0; c < s[j].k; c++) csv_row(f, s[j].small, c, ds->class_names[c], s[j].pixels[c], s[j].masked[c]);
        csv_row(f, s[j].small, -1, "all", sum(s[j].pixels, s[j].k), sum(s[j].masked, s[j].k));
    }
}

static void pct_cell(FILE *f, long long masked, long long pixels) {
    if (pixels) fprintf(f, " %.2f |", 100.0 * (double)masked / (double)pixels);
    else fprintf(f, " — |");
}

void mask_stats_table(FILE *f, const Dataset *ds, const MaskStats *s, int n) {
    fprintf(f, "| class |");
    for (int j = 0; j < n; j++) fprintf(f, " %g %% |", 100 * s[j].small);
    fprintf(f, "\n|---|");
    for (int j = 0; j < n; j++) fprintf(f, "---:|");
    fputc('\n', f);
    for (int c = 0; n && c < s[0].k; c++) {
        fprintf(f, "| %s |", ds->class_names[c]);
        for (int j = 0; j < n; j++) pct_cell(f, s[j].masked[c], s[j].pixels[c]);
        fputc('\n', f);
    }
    fprintf(f, "| all labelled pixels |");
    for (int j = 0; j < n; j++) pct_cell(f, sum(s[j].masked, s[j].k), sum(s[j].pixels, s[j].k));
    fputc('\n', f);
}
