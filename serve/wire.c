/* wire.c: encode and defensively decode the online loop's messages (layout in wire.h and the README). */
#include "serve/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- little-endian cursor ---- */

typedef struct Put {
    uint8_t *p;
} Put;

static void put_u8(Put *w, unsigned v) { *w->p++ = (uint8_t)v; }
static void put_u16(Put *w, unsigned v) {
    w->p[0] = (uint8_t)v;
    w->p[1] = (uint8_t)(v >> 8);
    w->p += 2;
}
static void put_u32(Put *w, uint32_t v) {
    for (int i = 0; i < 4; i++) w->p[i] = (uint8_t)(v >> (8 * i));
    w->p += 4;
}
static void put_u64(Put *w, uint64_t v) {
    for (int i = 0; i < 8; i++) w->p[i] = (uint8_t)(v >> (8 * i));
    w->p += 8;
}
static void put_bytes(Put *w, const void *s, size_t n) {
    if (n) memcpy(w->p, s, n);
    w->p += n;
}
/* a NUL-padded fixed-width string field */
static void put_str(Put *w, const char *s, size_t width) {
    size_t n = strnlen(s, width);
    memcpy(w->p, s, n);
    memset(w->p + n, 0, width - n);
    w->p += width;
}

typedef struct Get {
    const uint8_t *p;
} Get;

static unsigned get_u8(Get *r) { return *r->p++; }
static unsigned get_u16(Get *r) {
    unsigned v = (unsigned)r->p[0] | (unsigned)r->p[1] << 8;
    r->p += 2;
    return v;
}
static uint32_t get_u32(Get *r) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)r->p[i] << (8 * i);
    r->p += 4;
    return v;
}
static uint64_t get_u64(Get *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    return v;
}

/* ---- names and checks ---- */

const char *wire_err_name(int err) {
    static const char *names[WIRE_NERR] = {"ok",         "truncated", "bad_magic", "bad_version", "bad_type",
                                           "bad_length", "oversized", "bad_id",    "bad_field",   "peer_mismatch",
                                           "id_mismatch"};
    if (err > 0 || err <= -WIRE_NERR) return "unknown";
    return names[-err];
}

const char *wire_reason_name(int reason) {
    static const char *names[WIRE_REASON_COUNT] = {"none", "start",  "standard", "tail",      "bandwidth",
                                                   "probe", "policy", "fixed",    "congestion", "refused"};
    if (reason < 0 || reason >= WIRE_REASON_COUNT) return "unknown";
    return names[reason];
}

int64_t wire_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool id_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool wire_id_valid(const char *id) {
    if (!id) return false;
    size_t n = strnlen(id, WIRE_ID_MAX + 1);
    if (n == 0 || n > WIRE_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char((unsigned char)id[i])) return false;
    return true;
}

int wire_config_check(const WireConfig *c) {
    if (c->scale < 1 || c->scale > WIRE_MAX_SCALE) return WIRE_EFIELD;
    if (c->quality < 0 || c->quality > 100) return WIRE_EFIELD;
    if (c->skip < 0 || c->skip > 255) return WIRE_EFIELD;
    if (c->flags & ~(unsigned)WIRE_CFG_KNOWN) return WIRE_EFIELD;
    return WIRE_OK;
}

static bool note_valid(const char *s, size_t n) {
    for (size_t i = 0; i < n && s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return false;
    return true;
}

static bool side_valid(int v) { return v >= 1 && v <= WIRE_MAX_SIDE; }

const char *wire_config_str(const WireConfig *c, char *buf, size_t cap) {
    snprintf(buf, cap, "s%dq%dk%d%s%s", c->scale, c->quality, c->skip, (c->flags & WIRE_CFG_PROBE) ? "P" : "",
             (c->flags & WIRE_CFG_TAIL) ? "T" : "");
    return buf;
}

/* ---- encode ---- */

static size_t body_size(int type) {
    switch (type) {
    case WIRE_HELLO: return WIRE_HELLO_BODY;
    case WIRE_FRAME: return WIRE_FRAME_BODY;
    case WIRE_FEEDBACK: return WIRE_FEEDBACK_BODY;
    case WIRE_BYE: return WIRE_BYE_BODY;
    default: return 0;
    }
}

size_t wire_size(const WireMsg *m) {
    size_t n = WIRE_HEADER_BYTES + body_size(m->type);
    if (m->type == WIRE_FRAME) n += m->u.frame.payload_len;
    return n;
}

/* Same checks as the decoder, on the struct. */
static int msg_check(const WireMsg *m) {
    if (!body_size(m->type)) return WIRE_ETYPE;
    if (!wire_id_valid(m->edge_id)) return WIRE_EID;
    switch (m->type) {
    case WIRE_HELLO: {
        const WireHello *h = &m->u.hello;
        if (!side_valid(h->hr_w) || !side_valid(h->hr_h)) return WIRE_EFIELD;
        if (!(h->fps > 0 && h->fps <= 1000)) return WIRE_EFIELD;
        return wire_config_check(&h->cfg);
    }
    case WIRE_FRAME: {
        const WireFrame *f = &m->u.frame;
        if (f->payload_len > WIRE_MAX_PAYLOAD) return WIRE_EOVERSIZE;
        if (f->payload_len && !f->payload) return WIRE_EFIELD;
        if (!side_valid(f->hr_w) || !side_valid(f->hr_h)) return WIRE_EFIELD;
        return wire_config_check(&f->cfg);
    }
    case WIRE_FEEDBACK: {
        const WireFeedback *b = &m->u.feedback;
        if (wire_config_check(&b->next) || wire_config_check(&b->probe)) return WIRE_EFIELD;
        if (b->probe_count < 0 || b->probe_count > 65535) return WIRE_EFIELD;
        if (b->reason < 0 || b->reason >= WIRE_REASON_COUNT) return WIRE_EFIELD;
        if (!note_valid(b->note, WIRE_NOTE_MAX)) return WIRE_EFIELD;
        return WIRE_OK;
    }
    default: return WIRE_OK;
    }
}

static void put_cfg(Put *w, const WireConfig *c) {
    put_u16(w, (unsigned)c->scale);
    put_u8(w, (unsigned)c->quality);
    put_u8(w, (unsigned)c->skip);
    put_u8(w, c->flags);
    put_u8(w, 0);
    put_u8(w, 0);
    put_u8(w, 0);
}

long wire_encode(const WireMsg *m, uint8_t *buf, size_t cap) {
    int e = msg_check(m);
    if (e) return e;
    size_t n = wire_size(m);
    if (n > WIRE_MAX_MSG) return WIRE_EOVERSIZE;
    if (n > cap) return WIRE_ETRUNC;
    Put w = {buf};
    put_bytes(&w, WIRE_MAGIC, 4);
    put_u16(&w, WIRE_VERSION);
    put_u16(&w, (unsigned)m->type);
    put_u32(&w, (uint32_t)(n - WIRE_HEADER_BYTES));
    put_str(&w, m->edge_id, WIRE_ID_MAX);
    switch (m->type) {
    case WIRE_HELLO: {
        const WireHello *h = &m->u.hello;
        put_u16(&w, (unsigned)h->hr_w);
        put_u16(&w, (unsigned)h->hr_h);
        put_u32(&w, (uint32_t)(h->fps * 1000 + 0.5));
        put_cfg(&w, &h->cfg);
        put_u32(&w, h->frames);
        put_u64(&w, (uint64_t)h->edge_us);
        break;
    }
    case WIRE_FRAME: {
        const WireFrame *f = &m->u.frame;
        put_u64(&w, f->frame_id);
        put_u64(&w, (uint64_t)f->capture_us);
        put_u64(&w, (uint64_t)f->send_us);
        put_u32(&w, f->src_index);
        put_u16(&w, (unsigned)f->hr_w);
        put_u16(&w, (unsigned)f->hr_h);
        put_cfg(&w, &f->cfg);
        put_u32(&w, f->encode_us);
        put_u32(&w, f->queue_us);
        put_u32(&w, f->payload_len);
        put_bytes(&w, f->payload, f->payload_len);
        break;
    }
    case WIRE_FEEDBACK: {
        const WireFeedback *b = &m->u.feedback;
        put_u64(&w, b->last_frame_id);
        put_u64(&w, (uint64_t)b->cloud_us);
        put_cfg(&w, &b->next);
        put_cfg(&w, &b->probe);
        put_u32(&w, b->bw_kbps);
        put_u16(&w, (unsigned)b->probe_count);
        put_u8(&w, (unsigned)b->reason);
        put_u8(&w, 0);
        put_str(&w, b->note, WIRE_NOTE_MAX);
        break;
    }
    case WIRE_BYE: {
        const WireBye *y = &m->u.bye;
        put_u64(&w, y->captured);
        put_u64(&w, y->sent);
        put_u64(&w, y->dropped);
        break;
    }
    }
    return (long)(w.p - buf);
}

uint8_t *wire_encode_alloc(const WireMsg *m, size_t *n) {
    *n = 0;
    if (msg_check(m)) return NULL;
    size_t sz = wire_size(m);
    if (sz > WIRE_MAX_MSG) return NULL;
    uint8_t *buf = malloc(sz);
    if (!buf) return NULL;
    long got = wire_encode(m, buf, sz);
    if (got < 0) {
        free(buf);
        return NULL;
    }
    *n = (size_t)got;
    return buf;
}

/* ---- decode ---- */

static int get_cfg(Get *r, WireConfig *c) {
    c->scale = (int)get_u16(r);
    c->quality = (int)get_u8(r);
    c->skip = (int)get_u8(r);
    c->flags = get_u8(r);
    unsigned res = get_u8(r) | get_u8(r) | get_u8(r);
    if (res) return WIRE_EFIELD;
    return wire_config_check(c);
}

static int decode(const uint8_t *buf, size_t n, WireMsg *m) {
    memset(m, 0, sizeof *m);
    if (!buf || n < WIRE_HEADER_BYTES) return WIRE_ETRUNC;
    if (n > WIRE_MAX_MSG) return WIRE_EOVERSIZE;
    if (memcmp(buf, WIRE_MAGIC, 4)) return WIRE_EMAGIC;
    Get r = {buf + 4};
    unsigned version = get_u16(&r);
    if (version != WIRE_VERSION) return WIRE_EVERSION;
    unsigned type = get_u16(&r);
    size_t fixed = body_size((int)type);
    if (!fixed) return WIRE_ETYPE;
    uint32_t body_len = get_u32(&r);
    size_t have = n - WIRE_HEADER_BYTES;
    if (type != WIRE_FRAME && body_len != fixed) return WIRE_ELENGTH;
    if (type == WIRE_FRAME && body_len < fixed) return WIRE_ELENGTH;
    if (body_len > WIRE_MAX_MSG - WIRE_HEADER_BYTES) return WIRE_EOVERSIZE;
    if (have < body_len) return WIRE_ETRUNC;
    if (have > body_len) return WIRE_ELENGTH;
    /* edge id: 1..16 valid chars, then only NULs */
    const char *id = (const char *)r.p;
    size_t idn = strnlen(id, WIRE_ID_MAX);
    for (size_t i = idn; i < WIRE_ID_MAX; i++)
        if (id[i]) return WIRE_EID;
    memcpy(m->edge_id, id, idn);
    m->edge_id[idn] = 0;
    if (!wire_id_valid(m->edge_id)) return WIRE_EID;
    r.p += WIRE_ID_MAX;
    m->type = (int)type;
    int e;
    switch (type) {
    case WIRE_HELLO: {
        WireHello *h = &m->u.hello;
        h->hr_w = (int)get_u16(&r);
        h->hr_h = (int)get_u16(&r);
        uint32_t mfps = get_u32(&r);
        h->fps = mfps / 1000.0;
        if ((e = get_cfg(&r, &h->cfg))) return e;
        h->frames = get_u32(&r);
        h->edge_us = (int64_t)get_u64(&r);
        if (!side_valid(h->hr_w) || !side_valid(h->hr_h) || mfps == 0 || mfps > 1000000) return WIRE_EFIELD;
        break;
    }
    case WIRE_FRAME: {
        WireFrame *f = &m->u.frame;
        f->frame_id = get_u64(&r);
        f->capture_us = (int64_t)get_u64(&r);
        f->send_us = (int64_t)get_u64(&r);
        f->src_index = get_u32(&r);
        f->hr_w = (int)get_u16(&r);
        f->hr_h = (int)get_u16(&r);
        if ((e = get_cfg(&r, &f->cfg))) return e;
        f->encode_us = get_u32(&r);
        f->queue_us = get_u32(&r);
        f->payload_len = get_u32(&r);
        if (!side_valid(f->hr_w) || !side_valid(f->hr_h)) return WIRE_EFIELD;
        if (f->payload_len > WIRE_MAX_PAYLOAD) return WIRE_EOVERSIZE;
        if ((size_t)f->payload_len != body_len - fixed) return WIRE_ELENGTH;
        f->payload = f->payload_len ? r.p : NULL;
        break;
    }
    case WIRE_FEEDBACK: {
        WireFeedback *b = &m->u.feedback;
        b->last_frame_id = get_u64(&r);
        b->cloud_us = (int64_t)get_u64(&r);
        if ((e = get_cfg(&r, &b->next))) return e;
        if ((e = get_cfg(&r, &b->probe))) return e;
        b->bw_kbps = get_u32(&r);
        b->probe_count = (int)get_u16(&r);
        b->reason = (int)get_u8(&r);
        if (get_u8(&r)) return WIRE_EFIELD;
        if (b->reason >= WIRE_REASON_COUNT) return WIRE_EFIELD;
        const char *note = (const char *)r.p;
        size_t nn = strnlen(note, WIRE_NOTE_MAX);
        for (size_t i = nn; i < WIRE_NOTE_MAX; i++)
            if (note[i]) return WIRE_EFIELD;
        if (!note_valid(note, nn)) return WIRE_EFIELD;
        memcpy(b->note, note, nn);
        b->note[nn] = 0;
        break;
    }
    case WIRE_BYE: {
        WireBye *y = &m->u.bye;
        y->captured = get_u64(&r);
        y->sent = get_u64(&r);
        y->dropped = get_u64(&r);
        break;
    }
    }
    return WIRE_OK;
}

int wire_decode(const uint8_t *buf, size_t n, WireMsg *m) {
    int e = decode(buf, n, m);
    if (e) memset(m, 0, sizeof *m); /* nothing of a refused message is used */
    return e;
}
