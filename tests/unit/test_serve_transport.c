/* test_serve_transport.c: serve/transport on loopback — ROUTER/DEALER exchange, several edges, malformed input
 * counted, cloud restart and reconnect, CURVE with the right key accepted and a wrong key refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/transport.h"
#include "tests/test.h"
#include "util/err.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Pumps the cloud (receiving into *r when something comes) until the edge's link is up; bounded. */
static bool wait_up(Transport *edge, Transport *cloud, double ms) {
    double end = now_ms() + ms;
    TransportRecv r;
    while (now_ms() < end) {
        if (transport_connected(edge)) return true;
        if (cloud) transport_recv(cloud, 10, &r);
        else {
            struct timespec d = {0, 10000000};
            nanosleep(&d, NULL);
        }
    }
    return transport_connected(edge);
}

static WireMsg frame_msg(const char *id, uint64_t fid, const uint8_t *p, uint32_t n) {
    WireMsg m = {.type = WIRE_FRAME};
    snprintf(m.edge_id, sizeof m.edge_id, "%.16s", id);
    m.u.frame = (WireFrame){.frame_id = fid, .capture_us = wire_now_us(), .send_us = wire_now_us(), .hr_w = 480,
                            .hr_h = 360, .cfg = {4, 70, 0, 0}, .payload_len = n, .payload = p};
    return m;
}

static WireMsg feedback_msg(const char *id, uint64_t last, int q) {
    WireMsg m = {.type = WIRE_FEEDBACK};
    snprintf(m.edge_id, sizeof m.edge_id, "%.16s", id);
    m.u.feedback = (WireFeedback){.last_frame_id = last, .cloud_us = wire_now_us(), .next = {2, q, 0, WIRE_CFG_TAIL},
                                  .probe = {1, 90, 0, WIRE_CFG_PROBE}, .bw_kbps = 5000, .reason = WIRE_REASON_TAIL};
    return m;
}

/* Receives on the cloud until a well-formed message comes (bounded). */
static int cloud_get(Transport *c, TransportRecv *r, int ms) { return transport_recv(c, ms, r); }

TEST(transport_loopback_four_edges) {
    TransportOpts co = {.endpoint = "tcp://127.0.0.1:*", .quiet = true};
    Transport *cloud = transport_cloud_open(&co);
    EXPECT(cloud, "%s", rn_errmsg());
    if (!cloud) return;
    const char *ep = transport_endpoint(cloud);
    EXPECT(strncmp(ep, "tcp://127.0.0.1:", 16) == 0, "bound to %s", ep);
    Transport *edge[4];
    char ids[4][8];
    for (int i = 0; i < 4; i++) {
        snprintf(ids[i], sizeof ids[i], "edge%d", i);
        TransportOpts eo = {.endpoint = ep, .edge_id = ids[i], .quiet = true};
        edge[i] = transport_edge_open(&eo);
        EXPECT(edge[i], "%s", rn_errmsg());
        if (!edge[i]) return;
    }
    for (int i = 0; i < 4; i++) EXPECT(wait_up(edge[i], cloud, 3000), "edge %d up", i);
    uint8_t payload[5000];
    for (int i = 0; i < 5000; i++) payload[i] = (uint8_t)i;
    for (int i = 0; i < 4; i++) {
        WireMsg m = frame_msg(ids[i], 100 + i, payload, 1000 + i);
        EXPECT(transport_send(edge[i], NULL, &m) == 0, "edge %d send", i);
    }
    int seen = 0;
    for (int k = 0; k < 4; k++) {
        TransportRecv r;
        EXPECT(cloud_get(cloud, &r, 3000) == 1, "frame %d arrives", k);
        int i = r.peer[4] - '0';
        EXPECT(!strcmp(r.peer, r.msg.edge_id) && i >= 0 && i < 4, "peer %s = id %s", r.peer, r.msg.edge_id);
        EXPECT(r.msg.type == WIRE_FRAME && r.msg.u.frame.frame_id == (uint64_t)(100 + i) &&
                   r.msg.u.frame.payload_len == (uint32_t)(1000 + i) && !memcmp(r.msg.u.frame.payload, payload, 1000 + i),
               "frame of %s intact", r.peer);
        seen |= 1 << i;
        WireMsg fb = feedback_msg(r.peer, r.msg.u.frame.frame_id, 10 + i);
        EXPECT(transport_send(cloud, r.peer, &fb) == 0, "feedback to %s", r.peer);
    }
    EXPECT(seen == 15, "all four edges heard (%x)", seen);
    for (int i = 0; i < 4; i++) { /* each edge gets its own feedback only */
        TransportRecv r;
        EXPECT(transport_recv(edge[i], 3000, &r) == 1, "edge %d feedback", i);
        EXPECT(r.msg.type == WIRE_FEEDBACK && !strcmp(r.msg.edge_id, ids[i]) && r.msg.u.feedback.last_frame_id == (uint64_t)(100 + i) &&
                   r.msg.u.feedback.next.quality == 10 + i,
               "edge %d got %s's feedback", i, r.msg.edge_id);
        EXPECT(transport_recv(edge[i], 50, &r) == 0, "nothing more for edge %d", i);
    }
    WireMsg fb = feedback_msg("nobody", 0, 50);
    EXPECT(transport_send(cloud, "nobody", &fb) == 1, "unknown peer: not sent, no error");
    for (int i = 0; i < 4; i++) transport_close(edge[i]);
    transport_close(cloud);
}

TEST(transport_malformed_counted_and_skipped) {
    TransportOpts co = {.endpoint = "tcp://127.0.0.1:*", .quiet = true};
    Transport *cloud = transport_cloud_open(&co);
    EXPECT(cloud, "%s", rn_errmsg());
    if (!cloud) return;
    TransportOpts eo = {.endpoint = transport_endpoint(cloud), .edge_id = "e1", .quiet = true};
    Transport *e = transport_edge_open(&eo);
    EXPECT(e && wait_up(e, cloud, 3000), "up");
    uint8_t p[16] = {0};
    WireMsg good = frame_msg("e1", 7, p, 16);
    size_t n;
    uint8_t *buf = wire_encode_alloc(&good, &n);
    EXPECT(transport_send_raw(e, NULL, "garbage!", 8) == 0, "raw 1");                  /* truncated */
    uint8_t bad[256];
    memcpy(bad, buf, n);
    bad[4] = 9; /* version 9 */
    EXPECT(transport_send_raw(e, NULL, bad, n) == 0, "raw 2");
    memcpy(bad, buf, n);
    bad[0] = 'X';
    EXPECT(transport_send_raw(e, NULL, bad, n) == 0, "raw 3");
    WireMsg other = frame_msg("e2", 8, p, 16); /* claims another edge's id */
    EXPECT(transport_send(e, NULL, &other) == 0, "spoofed id sent");
    EXPECT(transport_send_raw(e, NULL, buf, n) == 0, "the good one");
    TransportRecv r;
    EXPECT(transport_recv(cloud, 3000, &r) == 1 && r.msg.u.frame.frame_id == 7, "the good message comes through");
    const TransportStats *st = transport_stats(cloud);
    EXPECT(st->bad_total == 4 && st->bad[-WIRE_ETRUNC] == 1 && st->bad[-WIRE_EVERSION] == 1 && st->bad[-WIRE_EMAGIC] == 1 &&
               st->bad[-WIRE_EPEER] == 1,
           "bad %lld: trunc %lld version %lld magic %lld peer %lld", st->bad_total, st->bad[-WIRE_ETRUNC],
           st->bad[-WIRE_EVERSION], st->bad[-WIRE_EMAGIC], st->bad[-WIRE_EPEER]);
    EXPECT(st->recv == 1, "one well-formed message");
    free(buf);
    transport_close(e);
    transport_close(cloud);
}

/* The cloud goes away and comes back on the same port: the edge notices, reconnects, and carries on. */
TEST(transport_cloud_restart_reconnect) {
    TransportOpts co = {.endpoint = "tcp://127.0.0.1:*", .quiet = true};
    Transport *cloud = transport_cloud_open(&co);
    EXPECT(cloud, "%s", rn_errmsg());
    if (!cloud) return;
    char ep[256];
    snprintf(ep, sizeof ep, "%s", transport_endpoint(cloud));
    TransportOpts eo = {.endpoint = ep, .edge_id = "robot", .quiet = true, .reconnect_ms = 50};
    Transport *e = transport_edge_open(&eo);
    EXPECT(e && wait_up(e, cloud, 3000), "up");
    EXPECT(transport_generation(e) == 1, "generation %lld", transport_generation(e));
    uint8_t p[8] = {1};
    WireMsg m = frame_msg("robot", 1, p, 8);
    TransportRecv r;
    EXPECT(transport_send(e, NULL, &m) == 0 && transport_recv(cloud, 3000, &r) == 1, "first frame");
    transport_close(cloud);
    double end = now_ms() + 3000;
    while (transport_connected(e) && now_ms() < end) {
        struct timespec d = {0, 10000000};
        nanosleep(&d, NULL);
    }
    EXPECT(!transport_connected(e), "the edge sees the cloud go");
    m.u.frame.frame_id = 2;
    EXPECT(transport_send(e, NULL, &m) == 1, "while down: not sent (the caller drops and counts it)");
    TransportOpts co2 = {.endpoint = ep, .quiet = true};
    cloud = transport_cloud_open(&co2);
    EXPECT(cloud, "rebind %s: %s", ep, rn_errmsg());
    if (!cloud) return;
    EXPECT(wait_up(e, cloud, 5000), "reconnected");
    EXPECT(transport_generation(e) == 2, "generation %lld", transport_generation(e));
    m.u.frame.frame_id = 3;
    EXPECT(transport_send(e, NULL, &m) == 0, "send after reconnect");
    EXPECT(transport_recv(cloud, 3000, &r) == 1 && r.msg.u.frame.frame_id == 3, "frame 3 (frame 2 never queued)");
    WireMsg fb = feedback_msg("robot", 3, 40);
    EXPECT(transport_send(cloud, "robot", &fb) == 0 && transport_recv(e, 3000, &r) == 1 && r.msg.type == WIRE_FEEDBACK,
           "feedback reaches the reconnected edge");
    EXPECT(transport_stats(e)->not_connected >= 1 && transport_stats(e)->disconnects >= 1, "counted");
    transport_close(e);
    transport_close(cloud);
}

TEST(transport_curve_right_key_accepted_wrong_key_refused) {
    const char *dir = test_temp_dir("keys"), *bad = test_temp_dir("badkeys");
    char a[512], b[512];
#define P(buf, d, name) (snprintf(buf, sizeof buf, "%s/%s", d, name), buf)
    EXPECT(transport_curve_keygen(P(a, dir, "server.key"), P(b, dir, "server.pub")) == 0, "%s", rn_errmsg());
    EXPECT(transport_curve_keygen(P(a, dir, "client.key"), NULL) == 0, "%s", rn_errmsg());
    char pub[41], sec[41];
    EXPECT(transport_curve_read(P(a, dir, "client.key"), pub, sec) == 0, "%s", rn_errmsg());
    FILE *f = fopen(P(a, dir, "authorized_keys"), "w");
    fprintf(f, "# allowed edges\n%s good\n", pub); /* the key speaks for edge "good" only */
    fclose(f);
    /* the impostor knows the server's public key but has its own keypair */
    EXPECT(transport_curve_keygen(P(a, bad, "client.key"), NULL) == 0, "%s", rn_errmsg());
    f = fopen(P(a, bad, "server.pub"), "w");
    char spub[41];
    EXPECT(transport_curve_read(P(b, dir, "server.pub"), spub, NULL) == 0, "%s", rn_errmsg());
    fprintf(f, "public = %s\n", spub);
    fclose(f);
    EXPECT(transport_curve_read(P(a, dir, "server.pub"), pub, sec) < 0, "a public file is not a keypair: %s", rn_errmsg());

    TransportOpts co = {.endpoint = "tcp://127.0.0.1:*", .curve_dir = dir, .quiet = true};
    Transport *cloud = transport_cloud_open(&co);
    EXPECT(cloud, "%s", rn_errmsg());
    if (!cloud) return;
    TransportOpts go = {.endpoint = transport_endpoint(cloud), .edge_id = "good", .curve_dir = dir, .quiet = true};
    TransportOpts bo = {.endpoint = transport_endpoint(cloud), .edge_id = "bad", .curve_dir = bad, .quiet = true};
    TransportOpts po = {.endpoint = transport_endpoint(cloud), .edge_id = "plain", .quiet = true};
    Transport *good = transport_edge_open(&go), *evil = transport_edge_open(&bo), *plain = transport_edge_open(&po);
    EXPECT(good && evil && plain, "%s", rn_errmsg());
    if (!good || !evil || !plain) return;
    EXPECT(wait_up(good, cloud, 3000), "the right key gets through");
    uint8_t p[8] = {0};
    WireMsg m = frame_msg("good", 1, p, 8);
    TransportRecv r;
    EXPECT(transport_send(good, NULL, &m) == 0 && transport_recv(cloud, 3000, &r) == 1 && !strcmp(r.peer, "good"),
           "good edge's frame arrives");
    /* give the impostors a second of tries */
    double end = now_ms() + 1000;
    int sent_bad = 0;
    while (now_ms() < end) {
        WireMsg x = frame_msg("bad", 9, p, 8), y = frame_msg("plain", 9, p, 8);
        sent_bad += transport_send(evil, NULL, &x) == 0;
        sent_bad += transport_send(plain, NULL, &y) == 0;
        if (transport_recv(cloud, 20, &r) == 1) EXPECT(0, "the cloud heard %s", r.peer);
    }
    EXPECT(!transport_connected(evil) && !transport_connected(plain), "never up");
    EXPECT(sent_bad == 0, "%d impostor messages left", sent_bad);
    const TransportStats *cs = transport_stats(cloud);
    EXPECT(cs->refused >= 1 && cs->accepted >= 1, "ZAP: refused %lld, accepted %lld", cs->refused, cs->accepted);
    EXPECT(transport_stats(evil)->auth_failed >= 1, "the wrong-key edge saw its handshake fail (%lld)", transport_stats(evil)->auth_failed);
    WireMsg fb = feedback_msg("bad", 0, 50);
    EXPECT(transport_send(cloud, "bad", &fb) == 1, "nothing can be sent to the impostor");
    printf("    cloud: accepted %lld, refused %lld (ZAP), failed handshakes %lld\n", cs->accepted, cs->refused, cs->auth_failed);
    transport_close(good);
    transport_close(evil);
    transport_close(plain);
    transport_close(cloud);
#undef P
}
