/* control.c: target choice from the profile, the fixed and standard controllers, and the dispatch to CAC / cac-share / cac-oracle / AWStream. */
#include "serve/control.h"

#include <math.h>
#include <string.h>

#include "util/err.h"

static const char *const kind_names[CTL_NKINDS] = {"fixed", "standard", "cac", "awstream", "cac-share", "cac-oracle"};

const char *ctl_kind_name(CtlKind k) { return k >= CTL_FIXED && k < CTL_NKINDS ? kind_names[k] : "unknown"; }

int ctl_kind_parse(const char *s, CtlKind *k) {
    for (int i = 0; i < CTL_NKINDS; i++)
        if (s && !strcmp(s, kind_names[i])) return *k = (CtlKind)i, 0;
    return rn_fail("controller %s: want fixed, standard, cac, cac-share, cac-oracle or awstream", s ? s : "(none)");
}

bool ctl_kind_flags(CtlKind k) { return k == CTL_CAC || k == CTL_CAC_SHARE || k == CTL_CAC_ORACLE; }

void ctl_params_default(CtlParams *p) {
    *p = (CtlParams){.cac_hold = 2, .cac_margin = 0.25, .aw_period = 10, .aw_quiet = 5, .aw_queue_ms = 200,
                     .aw_probe = {.scale = 1, .quality = 90, .flags = WIRE_CFG_PROBE}, .fixed = {0}, .start_bps = NAN};
}

bool ctl_same(const ServeKnobs *a, const ServeKnobs *b) {
    return a->scale == b->scale && a->quality == b->quality && a->skip == b->skip && a->flags == b->flags;
}

int serve_target_for(const ServePolicy *p, double est_bps) {
    const ProfileDoc *d = p->doc;
    double fps = d->fps > 0 ? d->fps : 30, efps = p->edge_fps > 0 ? p->edge_fps : fps;
    double head = p->headroom > 0 ? p->headroom : 1;
    double budget = isfinite(est_bps) && est_bps > 0 ? head * est_bps / efps : -1; /* bits per frame */
    int best = -1, first = -1;
    double best_need = 0, first_need = 0;
    for (int i = 0; i < d->ntargets; i++) {
        if (d->target[i].standard.scale <= 0) continue;
        double need = d->target[i].mbps * 1e6 / fps;
        if (first < 0 || need < first_need) first = i, first_need = need;
        if (budget >= 0 && need <= budget && (best < 0 || need > best_need)) best = i, best_need = need;
    }
    return best >= 0 ? best : first;
}

ServeKnobs serve_pick_knobs(const ServePolicy *p, int target, bool tail) {
    ServeKnobs k = {.scale = 1, .quality = 90};
    if (target < 0 || target >= p->doc->ntargets) return k;
    const ProfileTarget *t = &p->doc->target[target];
    const ProfilePick *pk = tail && t->tail.scale > 0 ? &t->tail : &t->standard;
    k.scale = pk->scale, k.quality = pk->quality;
    if (tail) k.flags = WIRE_CFG_TAIL;
    return k;
}

void ctl_init(Ctl *c, CtlKind kind, const ServePolicy *pol, const CtlParams *par) {
    memset(c, 0, sizeof *c);
    c->kind = kind, c->pol = pol, c->par = *par;
    c->target = serve_target_for(pol, par->start_bps);
    c->knobs = kind == CTL_CAC_SHARE ? cac_share_knobs(pol, c->target, false) : serve_pick_knobs(pol, c->target, false);
    if (kind == CTL_FIXED && par->fixed.scale > 0) c->knobs = par->fixed;
    c->last_profile = c->last_congest = c->last_change = NAN;
}

/* Which reason explains the move from `was` (target wt) to the current decision. */
static int reason_of(const Ctl *c, const ServeKnobs *was, int wt, int congestion) {
    if (ctl_same(was, &c->knobs)) return WIRE_REASON_NONE;
    bool tail_was = was->flags & WIRE_CFG_TAIL, tail_now = c->knobs.flags & WIRE_CFG_TAIL;
    if (tail_was != tail_now && ctl_kind_flags(c->kind)) return tail_now ? WIRE_REASON_TAIL : WIRE_REASON_STANDARD;
    if (c->target != wt) return congestion ? WIRE_REASON_CONGESTION : WIRE_REASON_BANDWIDTH;
    return c->kind == CTL_AWSTREAM ? WIRE_REASON_POLICY : WIRE_REASON_BANDWIDTH;
}

int ctl_observe(Ctl *c, const CtlObs *o) {
    if (o->probe || c->kind == CTL_FIXED) return WIRE_REASON_NONE;
    ServeKnobs was = c->knobs;
    int wt = c->target, congestion = 0;
    switch (c->kind) {
    case CTL_STANDARD:
        if (isfinite(o->est_bps)) c->target = serve_target_for(c->pol, o->est_bps);
        c->knobs = serve_pick_knobs(c->pol, c->target, false);
        break;
    case CTL_CAC:
    case CTL_CAC_ORACLE: /* the same loop; the cloud fills the oracle's flag into o (oracle_observe) */
    case CTL_CAC_SHARE:
        if (isfinite(o->est_bps)) c->target = serve_target_for(c->pol, o->est_bps);
        cac_step(c, o->value, o->direction, o->threshold);
        c->knobs = c->kind == CTL_CAC_SHARE ? cac_share_knobs(c->pol, c->target, c->tail)
                                            : serve_pick_knobs(c->pol, c->target, c->tail);
        break;
    case CTL_AWSTREAM: {
        int before = c->target;
        awstream_step(c, o);
        congestion = c->target < before;
        c->knobs = serve_pick_knobs(c->pol, c->target, c->prefer_tail);
        break;
    }
    default: break;
    }
    if (!ctl_same(&was, &c->knobs)) c->switches++;
    return reason_of(c, &was, wt, congestion);
}

int ctl_profiled(Ctl *c, double t, double acc_standard, double acc_tail) {
    if (c->kind != CTL_AWSTREAM) return WIRE_REASON_NONE;
    ServeKnobs was = c->knobs;
    c->last_profile = t;
    /* the tail pick wins the round only when it measured better (NaN: no evidence, keep standard) */
    c->prefer_tail = isfinite(acc_tail) && isfinite(acc_standard) && acc_tail > acc_standard;
    c->knobs = serve_pick_knobs(c->pol, c->target, c->prefer_tail);
    if (ctl_same(&was, &c->knobs)) return WIRE_REASON_NONE;
    c->switches++;
    return WIRE_REASON_POLICY;
}
