/* share.c: the cac-share pair per target — every (flag, other) pair within the budget, scored by the 10th-percentile frame. */
#include "profile/share.h"

#include <math.h>
#include <stdlib.h>

#include "profile/tail.h"
#include "util/err.h"

const double SHARE_K[SHARE_NK] = {1.5, 2, 3, 4};

void share_eval(const Sweep *s, const bool *flag, int a, int b, double *p10, double *mean) {
    double *v = xmalloc((size_t)(s->nframes ? s->nframes : 1) * sizeof *v), sum = 0;
    int m = 0;
    for (int f = 0; f < s->nframes; f++) {
        double x = s->acc[(size_t)f * s->nconfigs + (flag[f] ? a : b)];
        if (!isnan(x)) v[m++] = x, sum += x;
    }
    *mean = m ? sum / m : NAN;
    *p10 = percentile(v, m, 10); /* NaN when m == 0 */
    free(v);
}

/* "x beats y": a higher 10th percentile, then a higher mean; NaN never beats. */
static bool beats(double p10, double mean, double bp10, double bmean) {
    if (isnan(p10)) return false;
    if (isnan(bp10) || p10 > bp10) return true;
    return p10 == bp10 && mean > bmean;
}

/* The best pair for one k band (lo, hi] in Mbps; false when no pair fits. */
static bool best_pair(const Sweep *s, const bool *flag, double p, const double *cf, const double *co, double mbps, double fps,
                      double lo, double hi, int *ba, int *bb, double *bp10, double *bmean) {
    double slack = 1 + 1e-9, toM = 8 * fps / 1e6; /* bytes per frame -> Mbps */
    bool found = false;
    *bp10 = *bmean = NAN;
    for (int a = 0; a < s->nconfigs; a++) {
        double ca = cf[a] * toM;
        if (!(ca > lo * slack && ca <= hi * slack)) continue;
        for (int b = 0; b < s->nconfigs; b++) {
            if (!(p * ca + (1 - p) * co[b] * toM <= mbps * slack)) continue;
            double p10, mean;
            share_eval(s, flag, a, b, &p10, &mean);
            if (!found || beats(p10, mean, *bp10, *bmean)) *ba = a, *bb = b, *bp10 = p10, *bmean = mean, found = true;
        }
    }
    return found;
}

void share_choose(const Sweep *s, const bool *flag, const double *cost_flag, const double *cost_other, double mbps,
                  double fps, int std_cfg, ProfileShare *out) {
    *out = (ProfileShare){.mbps = mbps, .k = NAN, .p10 = NAN, .mean = NAN, .p10_standard = NAN, .mean_standard = NAN};
    int nflag = 0;
    for (int f = 0; f < s->nframes; f++) nflag += flag[f];
    double p = s->nframes ? (double)nflag / s->nframes : 0;
    out->flagged = p;
    if (std_cfg >= 0) share_eval(s, flag, std_cfg, std_cfg, &out->p10_standard, &out->mean_standard);
    double prev = 1;
    for (int i = 0; i < SHARE_NK; i++) {
        int a, b;
        double p10, mean;
        bool ok = best_pair(s, flag, p, cost_flag, cost_other, mbps, fps, prev * mbps, SHARE_K[i] * mbps, &a, &b, &p10, &mean);
        prev = SHARE_K[i];
        if (!ok || !(isnan(out->k) || beats(p10, mean, out->p10, out->mean))) continue;
        out->k = SHARE_K[i], out->p10 = p10, out->mean = mean;
        out->flag_scale = s->cfg[a].scale, out->flag_quality = s->cfg[a].quality;
        out->other_scale = s->cfg[b].scale, out->other_quality = s->cfg[b].quality;
    }
}
