/* tail_threshold.h: CAC's tail-frame detector — tail frames by accuracy, the small-region-ratio threshold by linear regression, its recall and precision. */
#pragma once
#include <stdbool.h>

#include "profile/sweep.h"

/* Marks in tail[] the worst pct % of acc[0..n): ceil(n * pct / 100) frames (ties: earlier frame
 * first; NaN accuracies are never tail). Returns how many. */
int tail_mark(const double *acc, int n, double pct, bool *tail);

/* Least-squares line y = a + b x. r2: coefficient of determination (NaN when y is constant). */
typedef struct LinFit {
    double a, b, r2;
    int n;
} LinFit;
LinFit linfit(const double *x, const double *y, int n);

/* "ratio < thr => tail frame" against the true tail marks. */
typedef struct TailDetect {
    int n, ntail, npred, hits;  /* frames, true tail, predicted tail, predicted and true */
    double recall, precision;   /* hits / ntail, hits / npred (NaN when the divisor is 0) */
} TailDetect;
TailDetect tail_detect(const double *ratio, const bool *tail, int n, double thr);

/* The paper's threshold, fitted on a sweep: for each scale in scales[] at JPEG quality q, the
 * frames' points (small-region ratio, accuracy minus that scale's tail cut-off = the accuracy of
 * its best tail frame), pooled over the scales; a line is fitted through them and the threshold
 * is the ratio at which the line reaches the cut-off (a frame whose ratio is below it is expected
 * to be a tail frame). NaN when the line does not rise with the ratio; clamped at 0. */
double tail_threshold_fit(const Sweep *s, const int *scales, int nscales, int q, double pct, LinFit *fit);

/* For comparison: the smallest threshold that catches at least `recall` of the tail frames of
 * the same pooled points (a value just above the k-th smallest tail ratio). */
double tail_threshold_for_recall(const Sweep *s, const int *scales, int nscales, int q, double pct, double recall);

/* Per scale at quality q: the tail frames of that scale (worst pct %) against ratio < thr. */
TailDetect tail_detect_scale(const Sweep *s, int scale, int q, double pct, double thr, double *mean_ratio_ms);
