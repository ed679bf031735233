/* stepdown.h: the edge's own step-down — after STEPDOWN_K consecutive deadline drops it stops waiting
 * for the cloud (whose feedback cannot come: nothing reaches it) and takes a coarser configuration itself.
 *
 * The ladder, finest first: the standard configurations of the profile's bandwidth targets (highest
 * target first, repeats once), then a fixed ladder of coarser scales / lower JPEG qualities. One step from
 * the configuration in use cur:
 *   - cur is a profile target's standard or tail configuration: the next lower target's standard one;
 *   - otherwise: the first ladder entry strictly coarser than cur (stepdown_coarser).
 * cur's skip is kept; the tail flag is not (a lower target's standard configuration is not a tail one).
 * Nothing coarser (16x, quality 10): the edge stays where it is. Only regular frames count (probes are
 * the cloud's extra frames); a frame that gets through resets the count, and feedback from the cloud
 * that saw a stepped-down frame ends the step-down (stepdown_on_cloud): its configuration rules again. */
#pragma once
#include <stdbool.h>

#include "profile/profile_json.h"
#include "serve/wire.h"

#define STEPDOWN_K 3 /* 3 misses in a row at 30 fps = 0.1 s: one miss may be a burst, three are the link */
#define STEPDOWN_MAX (PROFILE_MAX_TARGETS + 16)

typedef struct StepDown {
    WireConfig ladder[STEPDOWN_MAX];   /* finest first; the first nprofile from the profile */
    int n, nprofile;
    WireConfig tail[PROFILE_MAX_TARGETS]; /* a profile target's tail configuration ... */
    int tail_at[PROFILE_MAX_TARGETS];     /* ... and the ladder index of its target's standard one */
    int ntail;
    int misses;           /* consecutive deadline drops of regular frames since one got through or the last step */
    int steps;            /* own steps since the cloud's (or the start) configuration last ruled */
    long long total;      /* own steps in the whole run */
} StepDown;

/* The ladder from the profile's targets (profile may be NULL: the fixed ladder only). */
void stepdown_init(StepDown *s, const ProfileDoc *profile);
/* true when a is strictly coarser than b: a larger scale, or the same scale and a lower JPEG quality
 * (quality 0 = lossless PNG counts as the finest). */
bool stepdown_coarser(const WireConfig *a, const WireConfig *b);
/* The configuration one step below cur (false: nothing coarser on the ladder; *next = cur). */
bool stepdown_next(const StepDown *s, const WireConfig *cur, WireConfig *next);
/* A regular frame at cur missed its deadline. true when this is the K-th miss in a row and a coarser
 * configuration exists: *next is it, and the step is counted. */
bool stepdown_on_deadline(StepDown *s, const WireConfig *cur, WireConfig *next);
/* A regular frame got through (accepted by the shaper, or handed to the socket under --netns). */
void stepdown_on_through(StepDown *s);
/* The cloud's configuration rules again. */
void stepdown_on_cloud(StepDown *s);
