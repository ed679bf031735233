/* confirm.h: the edge's ledger of frames sent and not yet confirmed by the cloud (what may be lost in flight).
 *
 * Frames on one ZeroMQ connection arrive in order, and every FEEDBACK answering a frame names the
 * newest frame the cloud processed (last_frame_id). So a sent frame is confirmed (it reached the cloud:
 * processed, or stale there) when a FEEDBACK names it or a frame sent after it on the same connection
 * generation (transport_generation). The ledger keeps the frames sent and not confirmed, in send order;
 * what is left when the link changes or the edge stops is given up as "unconfirmed" (edge.h).
 *
 * A probe shares its frame's id and leaves after it, so a FEEDBACK naming id X confirms the regular
 * frame X and everything before, but not probe X (the FEEDBACK may answer regular X): the next
 * FEEDBACK naming a later frame confirms it. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/wire.h"

#define CONFIRM_MAX 65536 /* entries kept; past it the oldest is given up as unconfirmed at once */

/* One frame handed to ZeroMQ: what its "unconfirmed" CSV row needs. */
typedef struct ConfirmEntry {
    uint64_t fid;
    bool probe;
    long long gen;   /* transport generation when it was handed over */
    int src_index;
    int steps;       /* the CSV's stepdown column of its sent row */
    WireConfig cfg;
    size_t bytes;
    double capture;  /* seconds since the edge's t0 */
} ConfirmEntry;

typedef struct Confirm {
    ConfirmEntry *ring;
    int head, count, cap;
} Confirm;

void confirm_init(Confirm *c);
void confirm_free(Confirm *c);
/* Records a frame handed over (fids never decrease in send order). When the ledger already holds
 * CONFIRM_MAX entries the oldest is popped into *evicted and true is returned (give it up). */
bool confirm_sent(Confirm *c, const ConfirmEntry *e, ConfirmEntry *evicted);
/* A FEEDBACK named frame fid: confirms (drops) every entry sent up to regular frame fid; returns how
 * many. The caller first gives up the entries of older generations (confirm_take_before). */
int confirm_ack(Confirm *c, uint64_t fid);
/* Pops the oldest entry handed over on a generation before gen into *out; false when there is none.
 * gen = CONFIRM_ALL_GENS takes every entry. */
#define CONFIRM_ALL_GENS LLONG_MAX
bool confirm_take_before(Confirm *c, long long gen, ConfirmEntry *out);
