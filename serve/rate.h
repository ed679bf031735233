/* rate.h: the cloud's bandwidth estimate per edge, from the frames that actually arrived. */
#pragma once

/* The bandwidth estimate: bits of the frames that arrived within the last `window` seconds over
 * the time each spent on the link (first byte leaving the edge's shaper to its last byte: the
 * shaper releases bytes at the link's rate, so this measures the link even when the edge sends
 * less than it could carry). */
#define RATE_MAX 256
typedef struct RateEst {
    double t[RATE_MAX], bits[RATE_MAX], link_s[RATE_MAX];
    int head, n;
} RateEst;
void rate_add(RateEst *r, double t, double bits, double link_s);
double rate_bps(const RateEst *r, double now, double window); /* NaN when nothing arrived in the window */
