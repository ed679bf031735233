/* pareto.c: group means, the budgeted choice and the frontier of a sweep. */
#include "profile/pareto.h"

#include <math.h>
#include <stdlib.h>

#include "util/err.h"

GroupMean pareto_group_mean(const Sweep *s, const bool *in, int c) {
    GroupMean g = {0};
    int na = 0;
    for (int f = 0; f < s->nframes; f++) {
        if (in && !in[f]) continue;
        size_t at = (size_t)f * s->nconfigs + c;
        g.bytes += s->bytes[at], g.ratio += s->ratio[at], g.n++;
        if (!isnan(s->acc[at])) g.acc += s->acc[at], na++;
    }
    g.bytes = g.n ? g.bytes / g.n : NAN, g.ratio = g.n ? g.ratio / g.n : NAN, g.acc = na ? g.acc / na : NAN;
    return g;
}

void pareto_costs(const Sweep *s, const bool *in, double *cost) {
    for (int c = 0; c < s->nconfigs; c++) cost[c] = pareto_group_mean(s, in, c).bytes;
}

/* The group's means with the cost of the byte model in place of the group's own bytes. */
static GroupMean costed(const Sweep *s, const bool *in, const double *cost, int c) {
    GroupMean g = pareto_group_mean(s, in, c);
    if (cost) g.bytes = cost[c];
    return g;
}

int pareto_pick(const Sweep *s, const bool *in, const double *cost, double bps, double fps) {
    int best = -1;
    GroupMean bm = {0};
    for (int c = 0; c < s->nconfigs; c++) {
        GroupMean g = costed(s, in, cost, c);
        if (g.n == 0 || isnan(g.acc) || !(8 * g.bytes * fps <= bps * (1 + 1e-9))) continue;
        if (best < 0 || g.acc > bm.acc || (g.acc == bm.acc && g.bytes < bm.bytes)) best = c, bm = g;
    }
    return best;
}

int pareto_frontier(const Sweep *s, const bool *in, const double *cost, int *out) {
    int n = 0;
    GroupMean *g = xmalloc((size_t)s->nconfigs * sizeof *g);
    for (int c = 0; c < s->nconfigs; c++) g[c] = costed(s, in, cost, c);
    for (int c = 0; c < s->nconfigs; c++) {
        if (g[c].n == 0 || isnan(g[c].acc)) continue;
        bool dominated = false;
        /* dominated: another costs no more and scores better, or costs less and scores as well, or
         * is an earlier exact twin (pareto_pick's tie rules: the pick never changes to c) */
        for (int d = 0; d < s->nconfigs && !dominated; d++) {
            if (d == c || !g[d].n || isnan(g[d].acc)) continue;
            bool le = g[d].bytes <= g[c].bytes, ge = g[d].acc >= g[c].acc;
            dominated = le && ge && (g[d].acc > g[c].acc || g[d].bytes < g[c].bytes || d < c);
        }
        if (!dominated) out[n++] = c;
    }
    for (int i = 1; i < n; i++) /* insertion sort by cost: a few dozen entries */
        for (int j = i; j > 0 && g[out[j]].bytes < g[out[j - 1]].bytes; j--) {
            int t = out[j];
            out[j] = out[j - 1], out[j - 1] = t;
        }
    free(g);
    return n;
}
