/* cac.c: the content-aware controller's rule (Runespoor §3.2) — a frame its detector flags is a likely tail frame: switch at once; switch back after a few calm frames.
 *
 * Hysteresis (documented in the README, "The online loop"), for a detector (direction, threshold):
 *   enter the tail configuration on ONE flagged frame (signal_flags: direction +1 value < threshold,
 *   -1 value > threshold; the paper wants recall and reaction time; a false alarm costs little, since
 *   the tail pick has the same bit budget);
 *   leave it after par.cac_hold CONSECUTIVE calm frames: past the margin on the standard side,
 *   value >= threshold * (1 + par.cac_margin) (direction +1) or value <= threshold * (1 - margin) (-1).
 *   A frame between the threshold and the margin neither enters nor counts as calm: the
 *   higher-resolution tail frames show more small regions than the standard ones of the same scene,
 *   and without the margin CAC would flap between the two configurations on such a scene.
 *   A NaN value (frame not measured) changes nothing; a frame without a detector (NaN threshold) is
 *   not flagged and counts as calm. */
#include <math.h>

#include "profile/signals.h"
#include "serve/control.h"

bool cac_calm(double value, int direction, double threshold, double margin) {
    if (!isfinite(threshold)) return true; /* no detector: not flagged */
    return direction < 0 ? value <= threshold * (1 - margin) : value >= threshold * (1 + margin);
}

bool cac_step(Ctl *c, double value, int direction, double threshold) {
    if (!isfinite(value)) return c->tail;
    if (signal_flags(value, direction, threshold)) {
        c->tail = true, c->calm = 0;
    } else if (c->tail) {
        if (cac_calm(value, direction, threshold, c->par.cac_margin)) {
            if (++c->calm >= (c->par.cac_hold > 0 ? c->par.cac_hold : 1)) c->tail = false, c->calm = 0;
        } else c->calm = 0;
    }
    return c->tail;
}
