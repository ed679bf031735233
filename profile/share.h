/* share.h: cac-share offline — frames CAC flags get a costlier configuration, the others a cheaper one, the mean rate stays at the target; the pair and k that lift the 10th-percentile frame. */
#pragma once
#include <stdbool.h>

#include "profile/profile_json.h"
#include "profile/sweep.h"

/* The k profiled: flagged frames get a configuration costing about k times the target. */
#define SHARE_NK 4
extern const double SHARE_K[SHARE_NK]; /* 1.5, 2, 3, 4 */

/* Per-frame accuracy of the split when flag[f] frames get configuration a and the others b: its
 * 10th percentile (numpy's linear interpolation) and mean over the frames with a number (NaN when
 * none). a == b is one configuration for every frame. */
void share_eval(const Sweep *s, const bool *flag, int a, int b, double *p10, double *mean);

/* cac-share at target mbps on the split s: p = the share of frames flag[] marks; cost_flag[c] /
 * cost_other[c] = configuration c's bytes per frame on flagged / other frames under the byte model
 * (the same array twice for "all"). For each k in SHARE_K, the flag configuration A must cost
 * within (k_prev, k] x the target (k_prev = the previous k, 1 before 1.5: each A belongs to one k,
 * "near k x T"), and p cost(A) + (1-p) cost(B) <= the target; among those pairs the one with the
 * highest 10th percentile (ties: the mean, then the earlier A, B); then the k whose pair does best
 * by the same rule (ties: the smaller k). std_cfg = the standard pick's configuration (-1: none) for
 * p10_standard / mean_standard. No pair at any k: flag/other scale 0, k, p10 and mean NaN. */
void share_choose(const Sweep *s, const bool *flag, const double *cost_flag, const double *cost_other, double mbps,
                  double fps, int std_cfg, ProfileShare *out);
