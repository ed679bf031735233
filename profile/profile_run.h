/* profile_run.h: `rune profile` end to end — checks, the training sweep, the held-out sweep, Pareto choices, the tail threshold, the files. */
#pragma once
#include <stdbool.h>

#include "profile/profile_json.h"
#include "profile/sweep.h"

typedef struct ProfileOpts {
    const char *data, *kind, *split;   /* the training profile */
    const char *val_split;             /* held-out split for the threshold check ("" = none) */
    const char *task, *arch, *norm;    /* the frozen segmenter */
    const char *sr;                    /* "x2=A.h5,x4=B.h5,x6=bilinear" */
    const char *scales, *qualities, *hr_qualities; /* "2,4,6,8", "30,...,90", "50,70,90" ("" = no HR) */
    const char *targets;               /* Mbps, "0.25,0.5,1,2,4,8" */
    const char *reference;             /* "S:Q" (S 1 = HR); NULL/"" = the smallest scale at the highest quality */
    double fps, small, tail_pct;
    int stride, frames, val_stride, val_frames, tile;
    const char *out;                   /* profile.json; beside it STEM_train.csv, STEM_val.csv, STEM.md, figures */
    bool resume, progress, figures;
    const char *command;               /* the command line, recorded */
} ProfileOpts;

int profile_run(const ProfileOpts *o);

/* ---- pieces, for tests and serve ---- */
/* "2,4,6" -> v[] (each in lo..hi, distinct, order kept); returns the count or -1 naming `flag`. */
int profile_parse_ints(const char *s, const char *flag, int lo, int hi, int *v, int cap);
/* "0.5,1,2" -> v[] (each > 0); count or -1. */
int profile_parse_doubles(const char *s, const char *flag, double *v, int cap);

/* The summary numbers of a training sweep into d: group means per configuration (tail = frames
 * marked in tail[]), the Pareto choice per target, the threshold fit and its per-scale check. */
void profile_analyze(ProfileDoc *d, const Sweep *train, const bool *tail, const double *mbps, int ntargets,
                     const int *scales, int nscales);
/* The per-scale tail-detection check of a sweep at the reference quality under d->threshold. */
int profile_check(const ProfileDoc *d, const Sweep *s, const int *scales, int nscales, ProfileCheck *out);
