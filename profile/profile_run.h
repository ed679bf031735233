/* profile_run.h: `rune profile` end to end — checks, the training sweep, the held-out sweep, Pareto choices, the tail threshold, the files. */
#pragma once
#include <stdbool.h>

#include "profile/profile_json.h"
#include "profile/sweep.h"

typedef struct ProfileOpts {
    const char *data, *kind, *split;   /* the training profile */
    const char *val_split;             /* held-out split: every configuration again, for the detectors' check ("" = none) */
    const char *task_kind;             /* "seg" (default) or "det" */
    const char *task, *arch, *norm;    /* the frozen segmenter (arch, norm), or darknet cfg/.h5 */
    const char *weights;               /* darknet .weights for a .cfg detector */
    const char *sr;                    /* "x2=A.h5,x4=B.h5,x6=bilinear" */
    const char *scales, *qualities, *hr_qualities; /* "2,4,6,8", "30,...,90", "50,70,90" ("" = no HR) */
    const char *targets;               /* "auto" (every cost at which a pick changes) or Mbps "0.25,0.5,1" */
    const char *reference;             /* "S:Q" (S 1 = HR); "" = profile_default_reference */
    const char *bytes_model;           /* "all" or "own" (pareto.h) */
    const char *signal;                /* a signal_name, or "auto" */
    double fps, small, tail_pct, recall_target;
    int stride, frames, val_stride, val_frames, tile;
    const char *out;                   /* profile.json; beside it STEM_train.csv, STEM_val.csv, STEM.md, figures */
    bool resume, progress, figures;
    const char *command;               /* the command line, recorded */
} ProfileOpts;

/* The defaults of `rune profile` (cmd_profile.c starts from them; tests pin them): targets auto,
 * reference "" (HR, see below), bytes model all, signal ratio (the paper's), recall target 0.9,
 * tail 10 %, 30 fps, small 0.01, scales 2,4,6,8 x qualities 30..90 + HR 50,70,90. */
void profile_opts_defaults(ProfileOpts *o);

int profile_run(const ProfileOpts *o);

/* ---- pieces, for tests and serve ---- */
/* "2,4,6" -> v[] (each in lo..hi, distinct, order kept); returns the count or -1 naming `flag`. */
int profile_parse_ints(const char *s, const char *flag, int lo, int hi, int *v, int cap);
/* "0.5,1,2" -> v[] (each > 0); count or -1. */
int profile_parse_doubles(const char *s, const char *flag, double *v, int cap);

/* The reference when --reference is not given: HR (scale 1) at its highest quality (the paper's
 * Fig. 5 calls a frame tail by its HR accuracy: a reference at a degraded scale marks the frames
 * that scale happens to fail on and favours other scales on them); without HR configurations the
 * smallest scale at its highest quality, returning 1 so the caller warns. 0 otherwise, -1 when cfg
 * is empty. */
int profile_default_reference(const SweepConfig *cfg, int ncfg, int *scale, int *quality);

/* Everything profile.json says about the sweeps, into d. d carries the settings in: fps, tail_pct,
 * ref_scale/ref_quality (must be in train), bytes_model ("all"/"own"), signal (a name or "auto",
 * replaced by the chosen one), recall_target. Targets: mbps[0..ntargets), or ntargets 0 = auto.
 * val may be NULL. Fills tail[] (room for train->nframes: the train tail frames) when not NULL, and
 * the tail_share column of both sweeps when they carry per-class counts. -1 with rn_errmsg(). */
int profile_analyze(ProfileDoc *d, Sweep *train, Sweep *val, const double *mbps, int ntargets, bool *tail);

/* Pieces of profile_analyze. */
/* The value of signal sig at (f, c): the sweep's column, or for ratio the v1 column when the sweep
 * has no signal columns (a sweep of an older rune); NaN otherwise. */
double profile_signal_value(const Sweep *s, int sig, int f, int c);
/* The configuration at which a scale's signals are evaluated: the reference's quality for the
 * reference's scale, the highest profiled quality for the others; -1 when the scale is absent. */
int profile_scale_config(const ProfileDoc *d, const Sweep *s, int scale);
/* Every cost (Mbps) at which the standard or the tail group's pick changes: the costs of both
 * frontiers, sorted, distinct; at most cap. Returns the count. */
int profile_auto_targets(const Sweep *s, const bool *tail, bool own, double fps, double *mbps, int cap);
/* The tail classes (the worse half by IoU at configuration c over the split's frames, from the
 * per-class counts) into d->tail_classes; 0 classes when the sweep has none. */
void profile_tail_classes(ProfileDoc *d, const Sweep *s, int c);
/* tail_share per (frame, config) from the per-class counts and d's tail classes (nothing without counts). */
void profile_fill_tail_share(const ProfileDoc *d, Sweep *s);
/* sig[]: every signal at every scale's configuration (profile_scale_config); val_tail marks val's
 * frames (NULL with val). Returns the signal with the best mean AUC over the scales in the direction
 * fitted on train, measured on val (on train without val): `--signal auto`. */
int profile_signal_evals(ProfileDoc *d, const Sweep *train, const bool *tail, const Sweep *val, const bool *val_tail);
/* det[]: one detector per training configuration for signal sig. */
void profile_detectors(ProfileDoc *d, int sig, const Sweep *train, const bool *tail, const Sweep *val, const bool *val_tail);
/* The per-scale check of the paper's pooled threshold (d->threshold) on a sweep: each scale other
 * than HR at their highest quality (the pooled fit's), tail frames that scale's worst tail_pct %. */
int profile_check(const ProfileDoc *d, const Sweep *s, ProfileCheck *out);
