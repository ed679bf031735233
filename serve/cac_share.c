/* cac_share.c: the cac-share controller's pick — CAC's hysteresis choosing between the profile's share[] pair at the current target (flagged frames get about k times the target's bytes, the others pay for it). */
#include <math.h>

#include "serve/control.h"

/* a better entry among those of one mbps: higher p10, then higher mean (NaN loses) */
static bool better(const ProfileShare *a, const ProfileShare *b) {
    double ap = isfinite(a->p10) ? a->p10 : -INFINITY, bp = isfinite(b->p10) ? b->p10 : -INFINITY;
    if (ap != bp) return ap > bp;
    return (isfinite(a->mean) ? a->mean : -INFINITY) > (isfinite(b->mean) ? b->mean : -INFINITY);
}

int cac_share_entry(const ProfileDoc *d, int target) {
    if (target < 0 || target >= d->ntargets) return -1;
    double t = d->target[target].mbps * (1 + 1e-9);
    int best = -1;
    for (int i = 0; i < d->nshare; i++) {
        const ProfileShare *s = &d->share[i];
        if (!(s->mbps <= t) || s->flag_scale <= 0 || s->other_scale <= 0) continue;
        if (best < 0 || s->mbps > d->share[best].mbps || (s->mbps == d->share[best].mbps && better(s, &d->share[best])))
            best = i;
    }
    return best;
}

ServeKnobs cac_share_knobs(const ServePolicy *p, int target, bool flagged) {
    int i = cac_share_entry(p->doc, target);
    if (i < 0) return serve_pick_knobs(p, target, flagged);
    const ProfileShare *s = &p->doc->share[i];
    if (flagged) return (ServeKnobs){.scale = s->flag_scale, .quality = s->flag_quality, .flags = WIRE_CFG_TAIL};
    return (ServeKnobs){.scale = s->other_scale, .quality = s->other_quality};
}
