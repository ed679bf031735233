/* confirm.c: the edge's ledger of sent and not yet confirmed frames — a growing ring in send order. */
#include "serve/confirm.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define CONFIRM_FIRST_CAP 64

void confirm_init(Confirm *c) { memset(c, 0, sizeof *c); }

void confirm_free(Confirm *c) {
    free(c->ring);
    memset(c, 0, sizeof *c);
}

static ConfirmEntry *at(const Confirm *c, int i) { return &c->ring[(c->head + i) % c->cap]; }

static void pop(Confirm *c) {
    c->head = (c->head + 1) % c->cap;
    c->count--;
}

/* Doubles the ring, unrolling it so the oldest entry is at index 0. */
static void grow(Confirm *c) {
    int cap = c->cap ? 2 * c->cap : CONFIRM_FIRST_CAP;
    if (cap > CONFIRM_MAX) cap = CONFIRM_MAX;
    ConfirmEntry *r = xmalloc((size_t)cap * sizeof *r);
    for (int i = 0; i < c->count; i++) r[i] = *at(c, i);
    free(c->ring);
    c->ring = r;
    c->cap = cap;
    c->head = 0;
}

bool confirm_sent(Confirm *c, const ConfirmEntry *e, ConfirmEntry *evicted) {
    bool full = c->count == CONFIRM_MAX;
    if (full) {
        *evicted = *at(c, 0);
        pop(c);
    } else if (c->count == c->cap) grow(c);
    *at(c, c->count) = *e;
    c->count++;
    return full;
}

/* Entry e left before (or is) regular frame fid: in order, it arrived before the answered frame did. */
static bool covered(const ConfirmEntry *e, uint64_t fid) { return e->fid < fid || (e->fid == fid && !e->probe); }

int confirm_ack(Confirm *c, uint64_t fid) {
    int n = 0;
    while (c->count && covered(at(c, 0), fid)) {
        pop(c);
        n++;
    }
    return n;
}

bool confirm_take_before(Confirm *c, long long gen, ConfirmEntry *out) {
    if (!c->count || at(c, 0)->gen >= gen) return false;
    *out = *at(c, 0);
    pop(c);
    return true;
}
