/* bootstrap.h: paired bootstrap over frames — confidence interval of the mIoU difference between two methods. */
#pragma once
#include <stdint.h>

/* Point estimate (all frames once) and the 95 % percentile interval of stat(a) - stat(b). */
typedef struct BootCI {
    double diff, lo, hi;
    int reps;
} BootCI;

/* a, b: per-frame confusion matrices of two methods over the SAME nframes frames, each k*k counts
 * (rows = truth), frame f at [f*k*k]. stat = mean IoU over classes cls[0..ncls) of the confusion
 * summed over the frames (as the overall mIoU is computed). Each of `reps` replicates draws
 * nframes frame indices with replacement (one draw shared by a and b: paired) from a generator
 * seeded with `seed`, so two calls with the same seed resample the same frames. Replicates whose
 * difference is undefined (NaN) are dropped; lo/hi are the 2.5th/97.5th percentiles of the rest
 * (NaN when none is left). */
void bootstrap_miou_diff(const long long *a, const long long *b, int nframes, int k, const int *cls, int ncls,
                         int reps, uint64_t seed, BootCI *out);

/* The same for a plain per-frame statistic: diff = mean of a[i] - b[i] over the n pairs (the
 * caller drops pairs with a NaN), each replicate the mean over n pairs drawn with replacement
 * (one draw per pair: paired). n = 0 gives NaN everywhere. */
void bootstrap_mean_diff(const double *a, const double *b, int n, int reps, uint64_t seed, BootCI *out);
