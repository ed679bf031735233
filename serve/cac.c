/* cac.c: the content-aware controller's rule (Runespoor §3.2) — a frame whose prediction has a small-region ratio
 * below the profile's threshold is a likely tail frame: switch at once; switch back after a few calm frames.
 *
 * Hysteresis (documented in the README, "The online loop"):
 *   enter the tail configuration on ONE frame with ratio < threshold (the paper wants recall and
 *   reaction time; a false alarm costs little, since the tail pick has the same bit budget);
 *   leave it after par.cac_hold CONSECUTIVE frames with ratio >= threshold * (1 + par.cac_margin).
 *   A frame between threshold and threshold * (1 + margin) neither enters nor counts as calm: the
 *   higher-resolution tail frames show more small regions than the standard ones of the same scene,
 *   and without the margin CAC would flap between the two configurations on such a scene.
 *   A NaN ratio (frame not segmented) changes nothing. */
#include <math.h>

#include "serve/control.h"

bool cac_step(Ctl *c, double ratio) {
    double thr = c->pol->threshold;
    if (!isfinite(ratio) || !isfinite(thr)) return c->tail;
    if (ratio < thr) {
        c->tail = true, c->calm = 0;
    } else if (c->tail) {
        if (ratio >= thr * (1 + c->par.cac_margin)) {
            if (++c->calm >= (c->par.cac_hold > 0 ? c->par.cac_hold : 1)) c->tail = false, c->calm = 0;
        } else c->calm = 0;
    }
    return c->tail;
}
