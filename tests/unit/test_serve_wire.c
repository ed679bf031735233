/* test_serve_wire.c: serve/wire — round trips of every message type, and every malformed-input class refused with its code. */
#include <stdlib.h>
#include <string.h>

#include "serve/wire.h"
#include "tests/test.h"

static WireMsg sample_frame(const uint8_t *payload, uint32_t n) {
    WireMsg m = {.type = WIRE_FRAME};
    strcpy(m.edge_id, "edge-3");
    m.u.frame = (WireFrame){.frame_id = 0x0123456789abcdefULL, .capture_us = 1700000000123456LL, .send_us = -5,
                            .src_index = 170, .hr_w = 480, .hr_h = 360,
                            .cfg = {.scale = 4, .quality = 70, .skip = 2, .flags = WIRE_CFG_TAIL},
                            .encode_us = 4321, .queue_us = 99, .payload_len = n, .payload = payload};
    return m;
}

TEST(wire_frame_round_trip) {
    uint8_t payload[300];
    for (int i = 0; i < 300; i++) payload[i] = (uint8_t)(i * 7);
    WireMsg m = sample_frame(payload, sizeof payload);
    size_t n;
    uint8_t *buf = wire_encode_alloc(&m, &n);
    EXPECT(buf && n == WIRE_HEADER_BYTES + WIRE_FRAME_BODY + 300, "size %zu", n);
    EXPECT(n == wire_size(&m), "wire_size agrees");
    EXPECT(!memcmp(buf, "RNSV", 4) && buf[4] == 1 && buf[5] == 0 && buf[6] == WIRE_FRAME, "header bytes");
    WireMsg d;
    int e = wire_decode(buf, n, &d);
    EXPECT(e == WIRE_OK, "decode: %s", wire_err_name(e));
    const WireFrame *f = &d.u.frame;
    EXPECT(d.type == WIRE_FRAME && !strcmp(d.edge_id, "edge-3"), "type/id");
    EXPECT(f->frame_id == m.u.frame.frame_id && f->capture_us == m.u.frame.capture_us && f->send_us == -5, "ids/times");
    EXPECT(f->src_index == 170 && f->hr_w == 480 && f->hr_h == 360, "index/size");
    EXPECT(f->cfg.scale == 4 && f->cfg.quality == 70 && f->cfg.skip == 2 && f->cfg.flags == WIRE_CFG_TAIL, "cfg");
    EXPECT(f->encode_us == 4321 && f->queue_us == 99, "timings");
    EXPECT(f->payload_len == 300 && f->payload == buf + WIRE_HEADER_BYTES + WIRE_FRAME_BODY &&
               !memcmp(f->payload, payload, 300), "payload in place");
    /* the byte-exact wire: every byte of the header and body is pinned down by this re-encode */
    uint8_t again[1024];
    long n2 = wire_encode(&d, again, sizeof again);
    EXPECT(n2 == (long)n && !memcmp(again, buf, n), "re-encode identical");
    free(buf);
}

TEST(wire_other_types_round_trip) {
    WireMsg h = {.type = WIRE_HELLO, .edge_id = "e0"};
    h.u.hello = (WireHello){.hr_w = 960, .hr_h = 720, .fps = 29.97, .cfg = {2, 90, 0, 0}, .frames = 171, .edge_us = 42};
    WireMsg b = {.type = WIRE_FEEDBACK, .edge_id = "cam_1.a"};
    b.u.feedback = (WireFeedback){.last_frame_id = 77, .cloud_us = 1234567, .next = {2, 30, 0, WIRE_CFG_TAIL},
                                  .probe = {1, 95, 0, WIRE_CFG_PROBE}, .bw_kbps = 4800, .probe_count = 3,
                                  .reason = WIRE_REASON_TAIL};
    strcpy(b.u.feedback.note, "ratio 0.004 < 0.010");
    WireMsg y = {.type = WIRE_BYE, .edge_id = "ABCDEFGHIJKLMNOP"}; /* 16 chars: the longest id */
    y.u.bye = (WireBye){.captured = 1000, .sent = 900, .dropped = 100};
    uint8_t buf[256];
    WireMsg d;
    long n = wire_encode(&h, buf, sizeof buf);
    EXPECT(n == WIRE_HEADER_BYTES + WIRE_HELLO_BODY && wire_decode(buf, (size_t)n, &d) == WIRE_OK, "hello");
    EXPECT(d.u.hello.hr_w == 960 && d.u.hello.hr_h == 720 && fabs(d.u.hello.fps - 29.97) < 1e-9 &&
               d.u.hello.cfg.scale == 2 && d.u.hello.cfg.quality == 90 && d.u.hello.frames == 171 && d.u.hello.edge_us == 42,
           "hello fields");
    n = wire_encode(&b, buf, sizeof buf);
    EXPECT(n == WIRE_HEADER_BYTES + WIRE_FEEDBACK_BODY && wire_decode(buf, (size_t)n, &d) == WIRE_OK, "feedback");
    const WireFeedback *fb = &d.u.feedback;
    EXPECT(!strcmp(d.edge_id, "cam_1.a") && fb->last_frame_id == 77 && fb->cloud_us == 1234567 && fb->next.scale == 2 &&
               fb->next.quality == 30 && fb->next.flags == WIRE_CFG_TAIL && fb->probe.flags == WIRE_CFG_PROBE &&
               fb->probe.quality == 95 && fb->bw_kbps == 4800 && fb->probe_count == 3 && fb->reason == WIRE_REASON_TAIL &&
               !strcmp(fb->note, "ratio 0.004 < 0.010"),
           "feedback fields");
    n = wire_encode(&y, buf, sizeof buf);
    EXPECT(n == WIRE_HEADER_BYTES + WIRE_BYE_BODY && wire_decode(buf, (size_t)n, &d) == WIRE_OK, "bye");
    EXPECT(!strcmp(d.edge_id, "ABCDEFGHIJKLMNOP") && d.u.bye.captured == 1000 && d.u.bye.sent == 900 && d.u.bye.dropped == 100,
           "bye fields");
    char s[32];
    EXPECT(!strcmp(wire_config_str(&b.u.feedback.next, s, sizeof s), "s2q30k0T"), "%s", s);
    EXPECT(!strcmp(wire_reason_name(WIRE_REASON_TAIL), "tail") && !strcmp(wire_err_name(WIRE_EVERSION), "bad_version"),
           "names");
}

/* One valid frame, then each class of damage: the decoder must answer that class's code. */
TEST(wire_malformed_refused_with_reason) {
    uint8_t payload[40] = {1, 2, 3};
    WireMsg m = sample_frame(payload, sizeof payload);
    size_t n;
    uint8_t *good = wire_encode_alloc(&m, &n);
    uint8_t *b = malloc(n + 8);
    WireMsg d;
#define DAMAGE(code, len, stmt)                                                                      \
    do {                                                                                             \
        memcpy(b, good, n);                                                                          \
        memset(b + n, 0, 8);                                                                         \
        stmt;                                                                                        \
        int e_ = wire_decode(b, (len), &d);                                                          \
        EXPECT(e_ == (code), "%s: got %s, want %s", #stmt, wire_err_name(e_), wire_err_name(code));  \
        if (code) EXPECT(d.type == 0 && d.edge_id[0] == 0, "%s: nothing of a refused message is kept", #stmt); \
    } while (0)
    DAMAGE(WIRE_OK, n, (void)0);
    for (size_t k = 0; k < n; k++) { /* every truncation */
        int e = wire_decode(good, k, &d);
        EXPECT(e == WIRE_ETRUNC, "truncated to %zu: %s", k, wire_err_name(e));
    }
    EXPECT(wire_decode(NULL, 0, &d) == WIRE_ETRUNC, "NULL");
    DAMAGE(WIRE_EMAGIC, n, b[0] = 'X');
    DAMAGE(WIRE_EVERSION, n, b[4] = 2);
    DAMAGE(WIRE_EVERSION, n, b[5] = 1);
    DAMAGE(WIRE_ETYPE, n, b[6] = 9);
    DAMAGE(WIRE_ETYPE, n, b[6] = 0);
    DAMAGE(WIRE_ELENGTH, n + 1, b[8]++);         /* body length says +1 and one extra byte came: payload_len disagrees */
    DAMAGE(WIRE_ELENGTH, n + 3, (void)0);        /* trailing bytes */
    DAMAGE(WIRE_ETRUNC, n, b[8]++);              /* body length longer than what came */
    DAMAGE(WIRE_ELENGTH, n, b[8] = 10);          /* body shorter than the fixed part */
    DAMAGE(WIRE_EOVERSIZE, n, b[11] = 0x7f);     /* body length ~2 GB */
    DAMAGE(WIRE_EID, n, b[12] = 0);              /* empty id */
    DAMAGE(WIRE_EID, n, b[13] = ' ');            /* bad char */
    DAMAGE(WIRE_EID, n, b[27] = 'x');            /* junk after the NUL */
    const size_t body = WIRE_HEADER_BYTES;
    DAMAGE(WIRE_EFIELD, n, b[body + 28] = 0; b[body + 29] = 0); /* hr_w 0 */
    DAMAGE(WIRE_EFIELD, n, b[body + 32] = 17);                  /* scale 17 */
    DAMAGE(WIRE_EFIELD, n, b[body + 34] = 101);                 /* quality 101 */
    DAMAGE(WIRE_EFIELD, n, b[body + 36] = 0x80);                /* unknown flag */
    DAMAGE(WIRE_EFIELD, n, b[body + 37] = 1);                   /* reserved byte */
    DAMAGE(WIRE_ELENGTH, n, b[body + 48]++);                    /* payload_len disagrees */
    DAMAGE(WIRE_EOVERSIZE, n, b[body + 51] = 0x10);             /* payload_len > 16 MiB */
    /* a feedback with a control character in its note, and a bad reason */
    WireMsg fb = {.type = WIRE_FEEDBACK, .edge_id = "e"};
    fb.u.feedback.next = fb.u.feedback.probe = (WireConfig){1, 50, 0, 0};
    uint8_t fbuf[128];
    long fn = wire_encode(&fb, fbuf, sizeof fbuf);
    EXPECT(fn > 0, "encode feedback");
    fbuf[WIRE_HEADER_BYTES + 40] = 1;
    EXPECT(wire_decode(fbuf, (size_t)fn, &d) == WIRE_EFIELD, "note \\x01");
    fbuf[WIRE_HEADER_BYTES + 40] = 0;
    fbuf[WIRE_HEADER_BYTES + 38] = WIRE_REASON_COUNT;
    EXPECT(wire_decode(fbuf, (size_t)fn, &d) == WIRE_EFIELD, "reason out of range");
    /* oversized as a whole */
    EXPECT(wire_decode(good, (size_t)WIRE_MAX_MSG + 1, &d) == WIRE_EOVERSIZE, "over WIRE_MAX_MSG (length checked first)");
    free(b);
    free(good);
#undef DAMAGE
}

TEST(wire_encoder_refuses_invalid) {
    uint8_t buf[512], p[4] = {0};
    WireMsg m = sample_frame(p, 4);
    EXPECT(wire_encode(&m, buf, 10) == WIRE_ETRUNC, "too small a buffer");
    m.u.frame.cfg.scale = 0;
    EXPECT(wire_encode(&m, buf, sizeof buf) == WIRE_EFIELD, "scale 0");
    m = sample_frame(p, 4);
    strcpy(m.edge_id, "a b");
    EXPECT(wire_encode(&m, buf, sizeof buf) == WIRE_EID, "bad id");
    m = sample_frame(NULL, 4);
    EXPECT(wire_encode(&m, buf, sizeof buf) == WIRE_EFIELD, "NULL payload with a length");
    m = sample_frame(p, WIRE_MAX_PAYLOAD + 1);
    EXPECT(wire_encode(&m, buf, sizeof buf) == WIRE_EOVERSIZE, "payload too big");
    size_t n;
    EXPECT(wire_encode_alloc(&m, &n) == NULL && n == 0, "alloc refuses too");
    m.type = 77;
    EXPECT(wire_encode(&m, buf, sizeof buf) == WIRE_ETYPE, "unknown type");
    EXPECT(wire_id_valid("a") && !wire_id_valid("") && !wire_id_valid("ABCDEFGHIJKLMNOPQ") && !wire_id_valid("é"), "ids");
}

/* Random bytes and random mutations of a valid message: never a crash, always a known code. */
TEST(wire_decode_random_bytes) {
    uint64_t s = 12345;
    uint8_t payload[64] = {0};
    WireMsg m = sample_frame(payload, sizeof payload);
    size_t n;
    uint8_t *good = wire_encode_alloc(&m, &n);
    uint8_t *b = malloc(n);
    int ok = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(b, good, n);
        int flips = 1 + it % 4;
        for (int k = 0; k < flips; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            b[(s >> 33) % n] ^= (uint8_t)(1u << ((s >> 20) & 7));
        }
        size_t len = (it % 7 == 0) ? (size_t)((s >> 40) % (n + 1)) : n;
        WireMsg d;
        int e = wire_decode(b, len, &d);
        EXPECT(e <= 0 && e > -WIRE_NERR, "code %d", e);
        if (e == WIRE_OK) {
            ok++;
            uint8_t again[256];
            EXPECT(wire_encode(&d, again, sizeof again) == (long)len && !memcmp(again, b, len),
                   "an accepted message re-encodes to the same bytes");
        }
    }
    EXPECT(ok > 0 && ok < 20000, "%d accepted (payload/timestamp flips are valid, header flips are not)", ok);
    free(b);
    free(good);
}
