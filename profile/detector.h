/* detector.h: a tail-frame detector on one signal at one configuration — AUC with ties, the Mann-Whitney direction test, the threshold at a recall target, recall and precision. */
#pragma once
#include <stdbool.h>

/* Two-sided 5 % critical value of the standard normal: |z| above it decides the direction. */
#define DETECTOR_Z05 1.959963984540054

/* AUC of the LOW direction over the frames with a finite value: P(a tail frame's value < a
 * standard frame's value) + half P(equal) (midranks). > 0.5: low values go with tail frames.
 * NaN when either group has no finite value. */
double detector_auc(const double *v, const bool *tail, int n);

/* The Mann-Whitney statistic of the same comparison as a z score, normal approximation with the
 * tie correction of the variance and a 0.5 continuity correction (as scipy's mannwhitneyu with
 * use_continuity): z > 0 when low values go with tail frames. 0 when the variance is 0 (every
 * value equal), NaN when a group is empty. */
double detector_mw_z(const double *v, const bool *tail, int n);

/* The direction the data decide (+1: a low value means tail, -1: a high value) when |z| exceeds
 * DETECTOR_Z05 (*from_data true); otherwise def (*from_data false). */
int detector_direction(double z, int def, bool *from_data);

/* The threshold that flags (signal_flags: low direction value < thr, high value > thr) at least
 * ceil(recall * ntail) of the tail frames while flagging as few frames as it can: just past the
 * k-th tail value in the direction, at the midpoint to the next distinct value of any frame
 * (the next representable number when there is none). NaN values are never flagged (when they
 * leave fewer than k tail values, all the finite ones are taken); NaN when no tail frame has a
 * value. */
double detector_threshold(const double *v, const bool *tail, int n, int direction, double recall);

/* How a detector does against the true tail marks. */
typedef struct DetScore {
    int n, ntail, npred, hits;   /* frames, true tail, flagged, flagged and true */
    double recall, precision;    /* hits / ntail, hits / npred (NaN when the divisor is 0) */
} DetScore;
DetScore detector_score(const double *v, const bool *tail, int n, int direction, double thr);

/* A detector fitted on one split: the direction by detector_direction (def where the data do not
 * decide), the threshold at the recall target, and the same threshold for the other direction. */
typedef struct DetFit {
    int direction;
    bool from_data;
    double auc_low, z;           /* detector_auc, detector_mw_z */
    double threshold, threshold_other;
    DetScore score;              /* on the split it was fitted on, in the chosen direction */
} DetFit;
void detector_fit(const double *v, const bool *tail, int n, int def, double recall, DetFit *out);
