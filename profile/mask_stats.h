/* mask_stats.h: how much of each class Eq. 3's detail mask covers over a labelled split, at several --small thresholds. */
#pragma once
#include <stdio.h>

#include "data/dataset.h"

typedef struct MaskStats {
    double small;      /* the threshold: a fraction of the frame's area */
    int k;             /* classes (the dataset's) */
    long long *pixels; /* [k] labelled pixels of each class over the split */
    long long *masked; /* [k] of them inside the detail mask */
} MaskStats;

/* For each smalls[j] (in (0, 1)): over every frame of ds, the detail mask of the WHOLE frame's label
 * (profile/tail.h: small_region_mask, the mask finetune-asr trains on) counted per class. The
 * labels are checked first (dataset_check_labels) and decoded once. Fills out[nsmall] (free with
 * mask_stats_free). 0, or -1 with rn_errmsg() naming the file. */
int mask_stats(const Dataset *ds, const double *smalls, int nsmall, MaskStats *out);
void mask_stats_free(MaskStats *s, int n);

/* CSV "small,class_id,class,pixels,mask_pixels,share": per threshold one row per class, then
 * class_id -1 ("all") over every labelled pixel; share = mask_pixels / pixels (empty when a class
 * has no pixels). */
void mask_stats_csv(FILE *f, const Dataset *ds, const MaskStats *s, int n);
/* The shares as a Markdown table: classes down, thresholds across, in %. */
void mask_stats_table(FILE *f, const Dataset *ds, const MaskStats *s, int n);
