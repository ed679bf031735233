/* oracle.c: cac-oracle's flag source — CAC's loop with the tail flag taken from the frame's accuracy at the profile's reference configuration, to separate what detection loses from what the configurations can gain. */
#include <math.h>

#include "serve/control.h"
#include "util/err.h"

void oracle_observe(CtlObs *o, double acc_ref, double tail_cutoff) {
    o->value = acc_ref;
    o->direction = +1;
    /* signal_flags' "value < threshold" on the next double up = "acc_ref <= tail_cutoff": the profile's
     * tail group holds the frames at or below its cutoff (the highest accuracy among them) */
    o->threshold = isfinite(tail_cutoff) ? nextafter(tail_cutoff, INFINITY) : NAN;
}

int oracle_check(const ProfileDoc *d, bool have_labels) {
    if (!(isfinite(d->tail_cutoff) && d->tail_cutoff > 0))
        return rn_fail("cac-oracle needs the profile's tail_cutoff (profile.json version 2: re-run rune profile)");
    if (!have_labels)
        return rn_fail("cac-oracle needs the frames and their labels: give --data DIR --dataset KIND --split S (the "
                       "dataset the edge streams) so the cloud can score each frame at the profile's reference "
                       "configuration");
    return 0;
}
