/* ident.h: who an edge is — with CURVE, the name its key has in authorized_keys; routes from that name to the
 * connection that last proved it, and the cloud's refusal FEEDBACK. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/wire.h"

#define IDENT_RID_MAX 255 /* a ZeroMQ routing id is 1..255 bytes */

/* One authenticated name and the routing id of its newest connection. */
typedef struct IdentRoute {
    char name[WIRE_ID_MAX + 1];
    uint8_t rid[IDENT_RID_MAX];
    size_t n;
} IdentRoute;

typedef struct IdentRoutes {
    IdentRoute *r;
    int n, cap;
} IdentRoutes;

/* A table for at most cap names (the cloud sizes it by authorized_keys, so it never fills). */
void ident_routes_init(IdentRoutes *t, int cap);
void ident_routes_free(IdentRoutes *t);
/* name -> rid[n]; a new connection of the same name replaces the old one (only the key's holder can
 * make one). 0, or -1 when the table is full or n is 0 or over IDENT_RID_MAX. */
int ident_routes_set(IdentRoutes *t, const char *name, const uint8_t *rid, size_t n);
/* NULL when name never sent an accepted message. */
const IdentRoute *ident_routes_get(const IdentRoutes *t, const char *name);

/* A FEEDBACK telling edge_id it is not served: reason WIRE_REASON_REFUSED and why in the note (cut to
 * WIRE_NOTE_MAX, characters the wire refuses replaced by '?'). Its configurations are valid
 * placeholders: a refused edge applies none of them. */
void ident_refusal(WireMsg *m, const char *edge_id, const char *note);
