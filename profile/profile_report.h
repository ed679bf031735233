/* profile_report.h: the human side of a profile — the summary table (STEM.md, echoed) and the figures (Pareto curves per group, Fig. 8). */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "profile/profile_json.h"
#include "profile/sweep.h"

/* Writes STEM.md (the answer first; also to echo when not NULL), STEM_pareto.{dat,gp} (costs by
 * d's byte model) and STEM_fig8.{dat,gp} (Fig. 8 from val when given, else from train: the
 * profile's signal per scale, the worst 5 % at the reference marked, each detector's threshold),
 * and runs gnuplot on them when figures (a missing gnuplot only warns). tail[] marks train's tail
 * frames. -1 with rn_errmsg(). */
int profile_report_write(const ProfileDoc *d, const Sweep *train, const bool *tail, const Sweep *val, const char *stem,
                         bool figures, FILE *echo);
