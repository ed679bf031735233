/* control.h: the cloud's controllers over one edge — fixed, standard, CAC (serve/cac.c), cac-share (serve/cac_share.c), cac-oracle (serve/oracle.c) and AWStream (serve/awstream.c) — behind one interface. */
#pragma once
#include <stdbool.h>

#include "profile/profile_json.h"
#include "serve/wire.h"

/* What the edge is told to send: the wire's configuration (scale, JPEG quality, frames skipped,
 * flags: WIRE_CFG_TAIL marks the profile's tail pick). */
typedef WireConfig ServeKnobs;

/* The profile's targets as the controllers use them: the bandwidth each target stands for is the
 * profile's mbps at the profile's fps, so a budget is compared in bits per frame (the edge may play
 * at another frame rate than the profile assumed). */
typedef struct ServePolicy {
    const ProfileDoc *doc;   /* not owned (CAC's detectors are per frame: CtlObs, serve/detect.h) */
    double edge_fps;         /* the edge's frame rate (budget per frame = bandwidth / edge_fps) */
    double headroom;         /* the share of the estimate a configuration may use (0.9: estimates jitter) */
} ServePolicy;

/* The index of the target to use for a bandwidth estimate (bits/s): the largest target whose bits per
 * frame (mbps * 1e6 / profile fps) fit in headroom * est_bps / edge_fps and which has a standard pick, else the
 * smallest target with one; -1 when no target has any pick. A NaN or non-positive estimate = the
 * first (smallest) usable target. */
int serve_target_for(const ServePolicy *p, double est_bps);
/* The knobs of a target's pick (tail or standard; a missing tail pick falls back to the standard one). */
ServeKnobs serve_pick_knobs(const ServePolicy *p, int target, bool tail);

/* fixed: one configuration, never changed. standard: the profile's standard pick for the estimated
 * bandwidth (ASR without CAC). cac: standard + the tail pick while frames look like tail frames.
 * awstream: the baseline of DESIGN.md §7 (serve/awstream.c). cac-share: CAC's hysteresis choosing
 * between the profile's share[] pair of the target (serve/cac_share.c). cac-oracle: CAC with the flag
 * taken from the frame's accuracy at the profile's reference configuration (serve/oracle.c). */
typedef enum { CTL_FIXED, CTL_STANDARD, CTL_CAC, CTL_AWSTREAM, CTL_CAC_SHARE, CTL_CAC_ORACLE, CTL_NKINDS } CtlKind;
const char *ctl_kind_name(CtlKind k);
/* "fixed", "standard", "cac", "awstream", "cac-share", "cac-oracle"; -1 with rn_errmsg() */
int ctl_kind_parse(const char *s, CtlKind *k);
/* The kinds that run CAC's hysteresis on a per-frame tail flag (cac, cac-share, cac-oracle). */
bool ctl_kind_flags(CtlKind k);

/* What the cloud tells a controller about one processed frame. */
typedef struct CtlObs {
    double t;            /* cloud time of the observation (seconds, monotonic) */
    double est_bps;      /* bandwidth estimated from what has arrived (NaN: not yet) */
    double value;        /* the frame's tail signal (the profile's; cac-oracle: its reference accuracy); NaN: not
                          * measured, changes nothing */
    int direction;       /* its detector's direction: +1 a low value means tail, -1 a high value */
    double threshold;    /* its detector's threshold; NaN: no detector for the frame's configuration (not flagged,
                          * counts as calm) */
    double queue_ms;     /* how long the frame waited in the edge's shaper queue (NaN: unknown) */
    bool dropped_before; /* the edge dropped frames since the previous one (its queue overflowed) */
    ServeKnobs sent;     /* the knobs the frame was sent with */
    bool probe;          /* an extra full-quality profiling frame (AWStream), not a stream frame */
} CtlObs;

/* The controllers' tuning (defaults from ctl_params_default; documented in the README). */
typedef struct CtlParams {
    int cac_hold;          /* CAC: consecutive calm frames before leaving the tail configuration */
    double cac_margin;     /* CAC: a frame is calm when value >= threshold * (1 + margin) (direction +1) or
                            * value <= threshold * (1 - margin) (direction -1) */
    double aw_period;      /* AWStream: seconds between online profiling rounds (policy updates) */
    double aw_quiet;       /* AWStream: seconds without congestion before probing one target up */
    double aw_queue_ms;    /* AWStream: queueing delay above which the link is congested */
    ServeKnobs aw_probe;   /* AWStream: the extra profiling frame's configuration (HR q90 by default) */
    ServeKnobs fixed;      /* fixed: the knobs (scale 0 = the standard pick of the first estimate) */
    double start_bps;      /* the estimate assumed before anything has arrived (NaN: the smallest target) */
} CtlParams;
void ctl_params_default(CtlParams *p);

/* One edge's controller state. */
typedef struct Ctl {
    CtlKind kind;
    const ServePolicy *pol;
    CtlParams par;
    ServeKnobs knobs;      /* the current decision */
    int target;            /* current target index (-1 before the first frame) */
    /* CAC */
    bool tail;             /* in the tail configuration (cac-share: in the flag configuration) */
    int calm;              /* consecutive non-tail frames while in it */
    /* AWStream */
    double last_profile, last_congest, last_change;
    bool want_probe;       /* ask the edge for one extra full-quality frame */
    bool prefer_tail;      /* the last online profiling round found the tail pick more accurate */
    int switches;          /* decisions that changed the knobs */
} Ctl;

void ctl_init(Ctl *c, CtlKind kind, const ServePolicy *pol, const CtlParams *par);
/* Feeds one observation; returns the WireReason of a change of the knobs (c->knobs holds the
 * decision), or WIRE_REASON_NONE when they stay. */
int ctl_observe(Ctl *c, const CtlObs *o);
/* AWStream's online profiling result: the relative accuracy (vs HR) of the current target's standard
 * and tail picks measured on the extra full-quality frame at time t. */
int ctl_profiled(Ctl *c, double t, double acc_standard, double acc_tail); /* WireReason as ctl_observe */
/* true when two configurations are the same knobs and flags. */
bool ctl_same(const ServeKnobs *a, const ServeKnobs *b);

/* CAC's decision rule alone (serve/cac.c): updates tail/calm from one frame's value under its detector
 * (direction, threshold: CtlObs); returns the new tail state. */
bool cac_step(Ctl *c, double value, int direction, double threshold);
/* The hysteresis' calm test alone: value past the margin on the standard side of the threshold. */
bool cac_calm(double value, int direction, double threshold, double margin);
/* cac-share's pick (serve/cac_share.c): the share[] pair of target (its mbps, else the nearest lower
 * entry): the flag configuration when `flagged`, else the other; CAC's pick (serve_pick_knobs) when the
 * profile has no such entry. The flag configuration carries WIRE_CFG_TAIL. */
ServeKnobs cac_share_knobs(const ServePolicy *p, int target, bool flagged);
/* The share[] entry cac-share uses at target (-1: none): the highest mbps <= the target's; among
 * entries of that mbps (one per k) the highest p10, then the highest mean. */
int cac_share_entry(const ProfileDoc *d, int target);
/* AWStream's rule alone (serve/awstream.c): target and probe request from one observation. */
void awstream_step(Ctl *c, const CtlObs *o);
/* cac-oracle's flag source (serve/oracle.c): fills o's value/direction/threshold so that CAC's loop flags
 * the frame when its reference accuracy acc_ref <= tail_cutoff (the profile's tail group: the frames
 * at or below the cutoff), with CAC's hold and margin. */
void oracle_observe(CtlObs *o, double acc_ref, double tail_cutoff);
/* cac-oracle needs the profile's tail_cutoff (version 2) and the frames' labels; -1 with rn_errmsg(). */
int oracle_check(const ProfileDoc *d, bool have_labels);
