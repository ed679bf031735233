/* pareto.h: bandwidth-accuracy choices over a sweep — per group of frames, the most accurate configuration within a bit budget. */
#pragma once
#include <stdbool.h>

#include "profile/sweep.h"

/* Means of configuration c over the frames f with in[f] (NULL = every frame); NaN accuracies skipped. */
typedef struct GroupMean {
    double bytes, acc, ratio;
    int n;
} GroupMean;
GroupMean pareto_group_mean(const Sweep *s, const bool *in, int c);

/* The configuration of highest mean accuracy over the group whose mean bits per frame x fps fits
 * within bps (ties: fewer bytes, then the earlier configuration); -1 when none fits or the group
 * is empty. */
int pareto_pick(const Sweep *s, const bool *in, double bps, double fps);

/* The group's frontier: configurations no other one beats with fewer or equal mean bytes and
 * higher mean accuracy, in increasing bytes. Returns the count written to out[] (room for nconfigs). */
int pareto_frontier(const Sweep *s, const bool *in, int *out);
