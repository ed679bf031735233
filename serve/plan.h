/* plan.h: `rune serve-cloud --plan` — what each controller would pick at given link rates, read off the profile alone (the Fig. 15 dry check that the arms can differ). */
#pragma once
#include <stdio.h>

#include "profile/profile_json.h"

#define PLAN_HEADER                                                                                             \
    "mbps,target,target_mbps,standard,tail,share_flag,share_other,share_k,signal,det_standard,det_tail,"        \
    "tail_differs,share_differs"

/* For each link rate of mbps_list ("0.97,0.48,..." in Mbps), as a CSV row (PLAN_HEADER) on out: the target
 * serve-cloud would use when it estimates that rate from an edge at edge_fps (headroom 0.9, as the
 * cloud), its standard and tail picks, cac-share's pair ("-" when none: cac-share falls back to CAC),
 * the detector of the standard and tail configurations ("thr/dir@SxQ", "-" none; thr_override as
 * --threshold) and whether the tail pick / the share pair differ from the standard pick (0/1).
 * -1 with rn_errmsg() for a bad list or signal. */
int serve_plan(const ProfileDoc *d, const char *mbps_list, double edge_fps, double thr_override, FILE *out);
