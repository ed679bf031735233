/* tail.h: the paper's tail measures — small regions (detail masks), tail classes, episode percentiles. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "profile/seg_metrics.h"

/* Detail mask (Eq. 3's dtl): mask[i] = 1 where pixel i belongs to a connected region (4-connected,
 * same label) whose area is below frac * w * h; ignore-labelled pixels are never in the mask.
 * Returns the number of masked pixels. */
size_t small_region_mask(const uint8_t *label, int w, int h, double frac, int ignore, uint8_t *mask);

/* The small regions of a label map in one flood fill: pixels in them, how many there are, and the
 * labelled (not ignore) pixels, so one pass gives both the ratio and the count. */
typedef struct SmallRegions {
    long long pixels, regions, labelled;
} SmallRegions;
SmallRegions small_regions(const uint8_t *label, int w, int h, double frac, int ignore);

/* Per-class region statistics over a label map: number of connected regions and their total area
 * (accumulated into count[k], area[k]; callers divide for mean region size). */
void region_stats(const uint8_t *label, int w, int h, int k, int ignore, long long *count, long long *area);

/* Fraction of the frame's labelled pixels that lie in small regions (the CAC's tail signal). */
double small_region_ratio(const uint8_t *label, int w, int h, double frac, int ignore);

/* Tail classes, the one rule for segmentation and detection: the classes c < k whose score[c] is a
 * number (NaN: no ground truth, not ranked) go into ranked[] (room for k) worst first, ties by class
 * id; returns how many of them are the tail, the worse half rounded down (ranked[0..return)). */
int tail_worse_half(const double *score, int k, int *ranked);
/* The same by IoU under `ref` over its classes 0..k-1 (k <= ref->k: a model's extra void output is
 * a column of wrong predictions, not a class to rank). */
int tail_classes(const Confusion *ref, int k, int *ranked);
/* Mean IoU of c over the given classes (NaN-skipping). */
double mean_iou_over(const Confusion *c, const int *cls, int n);

/* Percentile p (0..100) of v[0..n) with linear interpolation between order statistics (numpy's
 * default); v is sorted in place. */
double percentile(double *v, int n, double p);
