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

/* What a configuration costs, bytes per frame, under a byte model: cost[c] = its mean bytes over
 * the frames with in[f] (NULL = every frame). The "all" model passes NULL for every group (the
 * paper's "same data size": a tail configuration is budgeted on the bytes it costs on any frame);
 * the "own" model passes the group itself. cost has room for s->nconfigs. */
void pareto_costs(const Sweep *s, const bool *in, double *cost);

/* The configuration of highest mean accuracy over the group whose cost (bytes per frame: cost[c],
 * or NULL = the group's own mean bytes) x 8 x fps fits within bps (a relative 1e-9 of slack, so a
 * target computed from a cost admits that cost); ties: fewer bytes, then the earlier configuration;
 * -1 when none fits or the group is empty. */
int pareto_pick(const Sweep *s, const bool *in, const double *cost, double bps, double fps);

/* The group's frontier: configurations no other one beats with a lower or equal cost (cost[c], or
 * NULL = the group's own mean bytes) and a higher mean accuracy, in increasing cost. These are
 * exactly the costs at which the group's pick changes. Returns the count written to out[] (room
 * for nconfigs). */
int pareto_frontier(const Sweep *s, const bool *in, const double *cost, int *out);
