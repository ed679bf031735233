/* stepdown.c: the edge's own step-down ladder (profile targets' standard configurations, then a fixed ladder). */
#include "serve/stepdown.h"

#include <string.h>

/* Coarser and coarser by scale first, then quality: each entry strictly coarser than the one before.
 * It reaches 16x q10 (a 480x360 frame in well under 1 kB), the coarsest the wire format carries. */
static const WireConfig FIXED[] = {
    {1, 70, 0, 0}, {1, 50, 0, 0}, {2, 70, 0, 0}, {2, 50, 0, 0}, {3, 60, 0, 0}, {4, 70, 0, 0}, {4, 50, 0, 0},
    {4, 30, 0, 0}, {6, 50, 0, 0}, {6, 30, 0, 0}, {8, 40, 0, 0}, {8, 20, 0, 0}, {12, 30, 0, 0}, {16, 10, 0, 0},
};
#define NFIXED ((int)(sizeof FIXED / sizeof FIXED[0]))

static bool same(const WireConfig *a, const WireConfig *b) { return a->scale == b->scale && a->quality == b->quality; }

bool stepdown_coarser(const WireConfig *a, const WireConfig *b) {
    if (a->scale != b->scale) return a->scale > b->scale;
    int qa = a->quality ? a->quality : 101, qb = b->quality ? b->quality : 101; /* PNG: finer than any JPEG */
    return qa < qb;
}

static int find(const StepDown *s, const WireConfig *c, int upto) {
    for (int i = 0; i < upto; i++)
        if (same(&s->ladder[i], c)) return i;
    return -1;
}

/* Targets sorted by bandwidth, highest first (insertion sort: at most PROFILE_MAX_TARGETS). */
static int sorted_targets(const ProfileDoc *p, int *idx) {
    int n = 0;
    for (int i = 0; i < p->ntargets && i < PROFILE_MAX_TARGETS; i++) {
        if (p->target[i].standard.scale <= 0) continue;
        int j = n++;
        while (j > 0 && p->target[idx[j - 1]].mbps < p->target[i].mbps) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    return n;
}

static void add_profile(StepDown *s, const ProfileDoc *p) {
    int idx[PROFILE_MAX_TARGETS];
    int n = sorted_targets(p, idx);
    for (int k = 0; k < n; k++) {
        const ProfileTarget *t = &p->target[idx[k]];
        WireConfig std = {t->standard.scale, t->standard.quality, 0, 0};
        if (wire_config_check(&std) != WIRE_OK) continue;
        int at = find(s, &std, s->n);
        if (at < 0) {
            at = s->n;
            s->ladder[s->n++] = std;
        }
        WireConfig tail = {t->tail.scale, t->tail.quality, 0, 0};
        if (t->tail.scale > 0 && wire_config_check(&tail) == WIRE_OK) {
            s->tail[s->ntail] = tail;
            s->tail_at[s->ntail++] = at;
        }
    }
    s->nprofile = s->n;
}

void stepdown_init(StepDown *s, const ProfileDoc *profile) {
    memset(s, 0, sizeof *s);
    if (profile) add_profile(s, profile);
    for (int i = 0; i < NFIXED && s->n < STEPDOWN_MAX; i++) s->ladder[s->n++] = FIXED[i];
}

/* The ladder index of the profile target cur belongs to (its standard or tail configuration), or -1. */
static int profile_position(const StepDown *s, const WireConfig *cur) {
    int at = find(s, cur, s->nprofile);
    if (at >= 0) return at;
    for (int i = 0; i < s->ntail; i++)
        if (same(&s->tail[i], cur)) return s->tail_at[i];
    return -1;
}

bool stepdown_next(const StepDown *s, const WireConfig *cur, WireConfig *next) {
    *next = *cur;
    int at = profile_position(s, cur);
    int from = 0;
    if (at >= 0 && at + 1 < s->nprofile) { /* the next lower target, whatever its scale/quality order */
        *next = s->ladder[at + 1];
        next->skip = cur->skip;
        return true;
    }
    if (at >= 0) from = s->nprofile; /* the profile's lowest: below it, the fixed ladder */
    for (int i = from; i < s->n; i++)
        if (stepdown_coarser(&s->ladder[i], cur)) {
            *next = s->ladder[i];
            next->skip = cur->skip;
            return true;
        }
    return false;
}

bool stepdown_on_deadline(StepDown *s, const WireConfig *cur, WireConfig *next) {
    if (++s->misses < STEPDOWN_K) return false;
    s->misses = 0;
    if (!stepdown_next(s, cur, next)) return false;
    s->steps++;
    s->total++;
    return true;
}

void stepdown_on_through(StepDown *s) { s->misses = 0; }

void stepdown_on_cloud(StepDown *s) {
    s->misses = 0;
    s->steps = 0;
}
