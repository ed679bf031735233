/* awstream.c: the AWStream baseline (Zhang et al., SIGCOMM'18) as DESIGN.md §7 describes it, over the same profile.
 *
 *   - congestion: the edge's shaper queue held the frame longer than par.aw_queue_ms, or the edge
 *     dropped frames since the previous one -> degrade at once to the target for the bandwidth
 *     measured at the receiver (never upward on congestion);
 *   - after par.aw_quiet seconds without congestion or change -> probe one target up;
 *   - every par.aw_period seconds -> ask the edge for one extra full-quality frame (HR, q90, flagged
 *     WIRE_CFG_PROBE, sent through the same shaper so it costs bandwidth); the cloud degrades it to
 *     the current target's standard and tail picks, measures both against its HR prediction and
 *     calls ctl_profiled: the more accurate one is the policy until the next round. So AWStream
 *     reaches the tail configuration only at a profiling round (its ~10 s reaction in the paper),
 *     where CAC reacts on the next frame. */
#include <math.h>

#include "serve/control.h"

static int next_up(const Ctl *c) {
    const ProfileDoc *d = c->pol->doc;
    double cur = c->target >= 0 ? d->target[c->target].mbps : 0;
    int best = -1;
    for (int i = 0; i < d->ntargets; i++)
        if (d->target[i].standard.scale > 0 && d->target[i].mbps > cur && (best < 0 || d->target[i].mbps < d->target[best].mbps))
            best = i;
    return best;
}

void awstream_step(Ctl *c, const CtlObs *o) {
    double t = o->t;
    if (isnan(c->last_change)) { /* first frame: start from the measured bandwidth */
        if (isfinite(o->est_bps)) c->target = serve_target_for(c->pol, o->est_bps);
        c->last_change = c->last_congest = t;
        c->last_profile = t;
        return;
    }
    bool congested = (isfinite(o->queue_ms) && o->queue_ms > c->par.aw_queue_ms) || o->dropped_before;
    if (congested) {
        c->last_congest = t;
        int nt = isfinite(o->est_bps) ? serve_target_for(c->pol, o->est_bps) : c->target;
        if (nt >= 0 && c->target >= 0 && c->pol->doc->target[nt].mbps < c->pol->doc->target[c->target].mbps)
            c->target = nt, c->last_change = t;
    } else if (t - fmax(c->last_congest, c->last_change) >= c->par.aw_quiet) {
        int up = next_up(c);
        if (up >= 0) c->target = up;
        c->last_change = t;
    }
    if (t - c->last_profile >= c->par.aw_period) c->want_probe = true, c->last_profile = t;
}
