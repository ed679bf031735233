/* report.h: the paper's segmentation tables (2-5), bootstrap differences, results.json and gnuplot figures from an eval run. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "profile/eval_seg.h"

typedef struct ReportOpts {
    int table2_scale;  /* scale of Table 2 and Fig. 9 (the paper: x4) */
    int episode;       /* frames per episode for Table 4 / Fig. 13 (the paper: 10) */
    int boot_reps;     /* bootstrap replicates for diffs.* (0 = no diffs) */
    uint64_t seed;     /* bootstrap seed */
    bool figures;      /* write fig*.gp + data and run gnuplot (a missing gnuplot only warns) */
    FILE *echo;        /* the Markdown tables are also written here (stdout), or NULL */
    const char *diffs; /* "a-b,c-d": method pairs for diffs.* (NULL: asr-sr, asr-bilinear,
                          asr-cloudseg, sr-bilinear); pairs absent from the run are skipped */
} ReportOpts;

/* Writes into outdir (created if absent):
 *   table2.{md,csv}  per-class IoU at table2_scale, raw and normalised to HR; mean region size
 *                    (% of the frame); tail classes = worse half by HR IoU; tail mean, "in total"
 *                    (tail mean / HR's tail mean), overall mIoU
 *   table3.{md,csv}  scale,method,tail_miou,miou (tail classes fixed from HR; hr has scale 1)
 *   table4.{md,csv}  10th/1st percentile ("90%"/"99%") and mean of episode mIoU
 *   table5.{md,csv}  mIoU, PSNR, SSIM (Y, border = scale), bytes per frame
 *   diffs.{md,csv}   paired-bootstrap 95 % intervals for the pairs in o->diffs (default below)
 *   results.json     all of the above plus per-class IoU and per-frame numbers per method
 *   fig9/fig13_xS/fig14 .gp + .dat (+ .png when gnuplot runs)
 * IoUs are in percent everywhere in these files. Returns 0, or -1 with rn_errmsg() naming the file
 * that could not be written (or the missing hr method). */
int report_write(const EvalResult *r, const char *outdir, const ReportOpts *o);

/* Runs gnuplot on dir/script from inside dir; a failure (no gnuplot) only warns, as "rune WHO: warning: ...". */
void report_gnuplot(const char *dir, const char *script, const char *who);
/* Creates dir and its parents (like mkdir -p). -1 with rn_errmsg(). */
int report_mkdirs(const char *dir);
