/* detect.h: the tail-frame detector the cloud applies to a frame — the profile's detector of the configuration the frame arrived in. */
#pragma once
#include <stdbool.h>

#include "profile/profile_json.h"

/* A detector in use: flags a frame when signal_flags(value, direction, threshold). found = false:
 * no detector for the configuration (the frame is not flagged). scale = quality = 0: the
 * profile-wide detector of a version-1 profile (one threshold for every configuration). */
typedef struct ServeDetector {
    bool found;
    int scale, quality, direction;
    double threshold;
} ServeDetector;

/* The detector for frames received at (scale, quality): the profile's det[] entry of exactly that
 * configuration, else the same scale's nearest quality (a tie: the higher quality), else none.
 * A profile without det[] (version 1) has one profile-wide detector: the signal's default direction
 * with threshold thr_override, else the profile's pooled `threshold` (none when neither is a number).
 * thr_override (NaN = none; --threshold) replaces every detector's threshold, direction kept. */
ServeDetector serve_detector(const ProfileDoc *d, int signal, int scale, int quality, double thr_override);

/* A --threshold for `signal` within the signal's range (the shares and maxprob 0..1, the count and the
 * entropy >= 0; NaN = none, fine); -1 with rn_errmsg() naming the flag. */
int serve_threshold_check(int signal, double thr);

/* The profile's signal: its `signal` name, "ratio" (the paper's) when empty; -1 with rn_errmsg(). */
int serve_signal_of(const ProfileDoc *d, int *signal);
