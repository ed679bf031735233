/* rate.c: bits over link time of the frames that arrived within a window (serve/rate.h). */
#include "serve/rate.h"

#include <math.h>

void rate_add(RateEst *r, double t, double bits, double link_s) {
    int i = (r->head + r->n) % RATE_MAX;
    if (r->n == RATE_MAX) r->head = (r->head + 1) % RATE_MAX, i = (r->head + RATE_MAX - 1) % RATE_MAX;
    else r->n++;
    r->t[i] = t, r->bits[i] = bits, r->link_s[i] = link_s > 1e-4 ? link_s : 1e-4;
}

double rate_bps(const RateEst *r, double now, double window) {
    double bits = 0, s = 0;
    for (int k = 0; k < r->n; k++) {
        int i = (r->head + k) % RATE_MAX;
        if (now - r->t[i] <= window) bits += r->bits[i], s += r->link_s[i];
    }
    /* nothing in the window: the newest frame still says something */
    if (s == 0 && r->n) {
        int i = (r->head + r->n - 1) % RATE_MAX;
        bits = r->bits[i], s = r->link_s[i];
    }
    return s > 0 ? bits / s : NAN;
}

