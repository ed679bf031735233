/* ident.c: an edge's authenticated name -> its connection, the refusal FEEDBACK, rate-limited refusal logs. */
#include "serve/ident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/err.h"

void ident_routes_init(IdentRoutes *t, int cap) {
    t->n = 0;
    t->cap = cap > 0 ? cap : 1;
    t->r = xcalloc((size_t)t->cap, sizeof *t->r);
}

void ident_routes_free(IdentRoutes *t) {
    free(t->r);
    memset(t, 0, sizeof *t);
}

static IdentRoute *find(const IdentRoutes *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->r[i].name, name)) return &t->r[i];
    return NULL;
}

int ident_routes_set(IdentRoutes *t, const char *name, const uint8_t *rid, size_t n) {
    if (!t->r || n == 0 || n > IDENT_RID_MAX) return -1;
    IdentRoute *r = find(t, name);
    if (!r) {
        if (t->n == t->cap) return -1;
        r = &t->r[t->n++];
        snprintf(r->name, sizeof r->name, "%s", name);
    }
    memcpy(r->rid, rid, n);
    r->n = n;
    return 0;
}

const IdentRoute *ident_routes_get(const IdentRoutes *t, const char *name) { return t->r ? find(t, name) : NULL; }

void ident_refusal(WireMsg *m, const char *edge_id, const char *note) {
    memset(m, 0, sizeof *m);
    m->type = WIRE_FEEDBACK;
    snprintf(m->edge_id, sizeof m->edge_id, "%s", edge_id);
    WireFeedback *fb = &m->u.feedback;
    fb->next = fb->probe = (WireConfig){.scale = 1, .quality = 90};
    fb->reason = WIRE_REASON_REFUSED;
    snprintf(fb->note, sizeof fb->note, "%s", note ? note : "");
    for (char *p = fb->note; *p; p++) /* the note comes from names and numbers; the wire takes printable ASCII */
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = '?';
    fb->cloud_us = wire_now_us();
}
