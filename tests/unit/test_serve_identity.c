/* test_serve_identity.c: who an edge is (issue 23 item 3) — with CURVE an edge id is bound to its key (an impostor
 * with another edge's key is refused and told, the real edge loses nothing), clients that only say HELLO hold no
 * --max-edges place, and an edge the cloud refuses stops and exits non-zero. Real processes on loopback. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/dataset.h"
#include "serve/transport.h"
#include "tests/serve_harness.h"
#include "tests/test.h"
#include "util/err.h"
#include "util/progress.h"

#define PORT_OFFSET 331 /* this file's ports: test_port() + 331 + k, clear of the other serve tests' */
#define PATH_CAP 512
#define ENDPOINT_CAP 64 /* "tcp://127.0.0.1:PORT" */
#define NUM_HELLO_ONLY 20 /* more than --max-edges' default 16, so they could take every place */

static int port(int k) { return test_port() + PORT_OFFSET + k; }

static void path_in(char *buf, const char *dir, const char *name) { snprintf(buf, PATH_CAP, "%s/%s", dir, name); }

static bool have_weights(void) { return !access("weights/espnet_camvid.h5", R_OK); }

/* Copies src to dst (key files: a few hundred bytes). */
static int copy_file(const char *src, const char *dst) {
    char *text = test_read_text(src);
    FILE *f = text ? fopen(dst, "w") : NULL;
    if (f) fputs(text, f);
    int rc = f && fclose(f) == 0 ? 0 : -1;
    free(text);
    return rc;
}

/* keys/: server + robot1 + robot2 (authorized_keys names each key's edge); imp/: robot2's keypair filed
 * as robot1.key, so an edge started with --id robot1 --curve-keys imp holds robot2's key. */
static int make_keys(const char *keys, const char *imp) {
    const char *ids[] = {"robot1", "robot2"};
    char a[PATH_CAP], b[PATH_CAP];
    if (transport_curve_keygen_dir(keys, ids, 2) < 0) return -1;
    path_in(a, keys, "robot2.key");
    path_in(b, imp, "robot1.key");
    if (copy_file(a, b) < 0) return -1;
    path_in(a, keys, "server.pub");
    path_in(b, imp, "server.pub");
    return copy_file(a, b);
}

static Transport *curve_edge(const char *endpoint, const char *id, const char *dir) {
    TransportOpts o = {.endpoint = endpoint, .edge_id = id, .curve_dir = dir, .quiet = true};
    Transport *t = transport_edge_open(&o);
    double t0 = now_seconds();
    while (t && !transport_connected(t) && now_seconds() - t0 < 10) {
        TransportRecv r;
        transport_recv(t, 50, &r);
    }
    return t;
}

static WireMsg frame_msg(const char *id, uint64_t fid, const uint8_t *payload, uint32_t n) {
    WireMsg m = {.type = WIRE_FRAME};
    snprintf(m.edge_id, sizeof m.edge_id, "%s", id);
    m.u.frame = (WireFrame){.frame_id = fid, .capture_us = wire_now_us(), .send_us = wire_now_us(), .hr_w = 64, .hr_h = 48,
                            .cfg = {.scale = 4, .quality = 50}, .payload_len = n, .payload = payload};
    return m;
}

/* The next FEEDBACK with reason `reason` within timeout seconds (others are skipped); 1 got, 0 none. */
static int wait_reason(Transport *t, int reason, double timeout, WireFeedback *fb) {
    double t0 = now_seconds();
    while (now_seconds() - t0 < timeout) {
        TransportRecv r;
        if (transport_recv(t, 50, &r) == 1 && r.msg.type == WIRE_FEEDBACK && r.msg.u.feedback.reason == reason) {
            *fb = r.msg.u.feedback;
            return 1;
        }
    }
    return 0;
}

/* A count printed in the log as "NAME N" (the summary's refusal counters); -1 when absent. */
static long long log_count(const char *log, const char *name) {
    const char *p = log ? strstr(log, name) : NULL;
    return p ? atoll(p + strlen(name)) : -1;
}

static int count_lines(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* ---------------- transport level: the key decides the id ---------------- */

/* An edge holding robot2's key says it is robot1: each of its messages is refused (id_mismatch) and
 * it is told why; the real robot1 keeps its connection: all its frames arrive, and feedback
 * addressed to robot1 reaches it, not the impostor. */
TEST(identity_transport_key_binds_the_edge_id) {
    const char *keys = test_temp_dir("idkeys"), *imp = test_temp_dir("idimp"); /* both made here */
    EXPECT(make_keys(keys, imp) == 0, "keys: %s", rn_errmsg());
    TransportOpts co = {.endpoint = "tcp://127.0.0.1:*", .curve_dir = keys, .quiet = true};
    Transport *cloud = transport_cloud_open(&co);
    EXPECT(cloud != NULL, "%s", rn_errmsg());
    if (!cloud) return;
    Transport *real = curve_edge(transport_endpoint(cloud), "robot1", keys);
    Transport *evil = curve_edge(transport_endpoint(cloud), "robot1", imp);
    EXPECT(real && evil && transport_connected(real) && transport_connected(evil), "both keys are authorized");
    if (!real || !evil) return;
    uint8_t p[16] = {0};
    const int N = 10;
    int got_real = 0, fb_real = 0;
    for (int i = 0; i < N; i++) {
        WireMsg mr = frame_msg("robot1", (uint64_t)i, p, sizeof p), mi = frame_msg("robot1", 1000 + (uint64_t)i, p, sizeof p);
        EXPECT(transport_send(evil, NULL, &mi) == 0, "impostor frame %d left", i);
        EXPECT(transport_send(real, NULL, &mr) == 0, "robot1 frame %d left (its link stays up)", i);
        TransportRecv r;
        double t0 = now_seconds();
        bool this_one = false;
        int got = 0;
        while (!this_one && now_seconds() - t0 < 5 && (got = transport_recv(cloud, 100, &r)) >= 0) {
            if (got != 1 || r.msg.type != WIRE_FRAME) continue;
            EXPECT(r.msg.u.frame.frame_id < 1000, "the impostor's frame %llu was taken as %s's",
                   (unsigned long long)r.msg.u.frame.frame_id, r.peer);
            this_one = r.msg.u.frame.frame_id == (uint64_t)i && !strcmp(r.peer, "robot1");
        }
        got_real += this_one;
        WireMsg fb = {.type = WIRE_FEEDBACK};
        snprintf(fb.edge_id, sizeof fb.edge_id, "robot1");
        fb.u.feedback = (WireFeedback){.last_frame_id = (uint64_t)i, .next = {.scale = 2, .quality = 60},
                                       .probe = {.scale = 1, .quality = 90}, .reason = WIRE_REASON_BANDWIDTH};
        EXPECT(transport_send(cloud, "robot1", &fb) == 0, "feedback to robot1 %d", i);
        WireFeedback in;
        fb_real += wait_reason(real, WIRE_REASON_BANDWIDTH, 3, &in) == 1 && in.last_frame_id == (uint64_t)i;
    }
    EXPECT(got_real == N, "robot1's frames that reached the cloud: %d of %d", got_real, N);
    EXPECT(fb_real == N, "feedback addressed to robot1 that robot1 got: %d of %d", fb_real, N);
    WireFeedback why;
    EXPECT(wait_reason(evil, WIRE_REASON_REFUSED, 3, &why) == 1 && !strcmp(why.note, "key belongs to robot2"),
           "the impostor is told: \"%s\"", why.note);
    TransportRecv r;
    EXPECT(transport_recv(evil, 300, &r) != 1 || r.msg.u.feedback.reason == WIRE_REASON_REFUSED,
           "the impostor got none of robot1's feedback");
    transport_recv(cloud, 200, &r);
    long long mism = transport_stats(cloud)->bad[-WIRE_EKEY];
    EXPECT(mism == N, "id_mismatch counted per impostor message: %lld of %d", mism, N);
    printf("    robot1: %d/%d frames, %d/%d feedback; impostor: %lld messages refused, told \"%s\"\n", got_real, N, fb_real,
           N, mism, why.note);
    transport_close(real);
    transport_close(evil);
    transport_close(cloud);
    test_remove_tree(keys);
    test_remove_tree(imp);
}

/* A key listed without an edge id could speak for any edge: the cloud does not start, and says which line. */
TEST(identity_authorized_key_without_id_refused_at_open) {
    const char *keys = test_temp_dir("idnoname");
    char a[PATH_CAP], pub[41], sec[41];
    const char *ids[] = {"robot1"};
    EXPECT(transport_curve_keygen_dir(keys, ids, 1) == 0, "%s", rn_errmsg());
    path_in(a, keys, "robot1.key");
    EXPECT(transport_curve_read(a, pub, sec) == 0, "%s", rn_errmsg());
    path_in(a, keys, "authorized_keys");
    FILE *f = fopen(a, "w");
    if (f) {
        fprintf(f, "# a key without its edge id\n%s\n", pub);
        fclose(f);
    }
    TransportOpts co = {.endpoint = "tcp://127.0.0.1:*", .curve_dir = keys, .quiet = true};
    Transport *cloud = transport_cloud_open(&co);
    EXPECT(!cloud && strstr(rn_errmsg(), "authorized_keys line 2 has no edge id"), "open: %s", cloud ? "(opened)" : rn_errmsg());
    transport_close(cloud);
    test_remove_tree(keys);
}

/* ---------------- the loop: rune serve-cloud + rune serve-edge ---------------- */

/* robot1 streams 12 frames with CURVE; meanwhile a serve-edge with robot2's key and --id robot1, and a
 * scripted impostor (same key) sending HELLO, FRAME and BYE as robot1. The impostors are refused and
 * told (serve-edge exits non-zero); every frame robot1 sent reaches the cloud booked as robot1's, and
 * the impostor's BYE frees nothing: the cloud (--edges 1) stays until robot1's own BYE. */
TEST(identity_curve_impostor_refused_in_the_loop) {
    if (!have_weights()) SKIP("weights/ not here");
    const char *dir = test_temp_dir("idloop");
    char keys[PATH_CAP], imp[PATH_CAP], ccsv[PATH_CAP], ecsv[PATH_CAP], clog[PATH_CAP], elog[PATH_CAP], ilog[PATH_CAP], ep[ENDPOINT_CAP];
    path_in(keys, dir, "keys");
    path_in(imp, dir, "imp");
    path_in(ccsv, dir, "cloud.csv");
    path_in(ecsv, dir, "edge.csv");
    path_in(clog, dir, "cloud.log");
    path_in(elog, dir, "edge.log");
    path_in(ilog, dir, "impostor.log");
    EXPECT(mkdir(imp, 0700) == 0, "mkdir %s", imp);
    EXPECT(make_keys(keys, imp) == 0, "keys: %s", rn_errmsg());
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port(0));
    char *cargs[] = {"serve-cloud", "--listen", ep, "--curve-keys", keys, "--profile", "data/samples/serve_profile.json", "--threshold", "0.085",
                     "--sr", "x2=bilinear,x4=bilinear", "--csv", ccsv, "--edges", "1", "--duration", "90", "--edge-timeout", "30", NULL};
    char *eargs[] = {"serve-edge", "--connect", ep, "--id", "robot1", "--curve-keys", keys, "--frames", "data/samples/camvid",
                     "--dataset", "frames", "--fps", "2", "--loop", "--max-frames", "12", "--bandwidth", "0:2",
                     "--deadline-ms", "3000", "--csv", ecsv, "--wait-cloud", "60", "--linger", "5", NULL};
    char *iargs[] = {"serve-edge", "--connect", ep, "--id", "robot1", "--curve-keys", imp, "--frames", "data/samples/camvid",
                     "--dataset", "frames", "--fps", "2", "--loop", "--max-frames", "12", "--wait-cloud", "30", NULL};
    pid_t pc = spawn_rune(clog, cargs), pe = spawn_rune(elog, eargs);
    double t0 = now_seconds();
    while (csv_count(ccsv, 0, "robot1") < 1 && now_seconds() - t0 < 60) usleep(100000);
    EXPECT(csv_count(ccsv, 0, "robot1") >= 1, "robot1 is streaming");
    pid_t pi = spawn_rune(ilog, iargs);
    Transport *evil = curve_edge(ep, "robot1", imp);
    WireFeedback why = {0};
    if (evil) {
        send_hello(evil, "robot1", 2);
        uint8_t p[16] = {0};
        WireMsg f = frame_msg("robot1", 5000, p, sizeof p), bye = {.type = WIRE_BYE};
        snprintf(bye.edge_id, sizeof bye.edge_id, "robot1");
        transport_send(evil, NULL, &f);
        transport_send(evil, NULL, &bye);
        EXPECT(wait_reason(evil, WIRE_REASON_REFUSED, 10, &why) == 1, "the scripted impostor is told it is refused");
    }
    int ri = wait_bounded(pi, 30), re = wait_bounded(pe, 60), rc = wait_bounded(pc, 30);
    transport_close(evil);
    char *il = test_read_text(ilog), *cl = test_read_text(clog), *el = test_read_text(elog);
    EXPECT(ri == 1 && il && strstr(il, "refused by the cloud: key belongs to robot2"), "impostor serve-edge exit %d:\n%s", ri,
           il ? il : "");
    EXPECT(!strcmp(why.note, "key belongs to robot2"), "note \"%s\"", why.note);
    EXPECT(re == 0 && rc == 0, "robot1 exit %d, cloud exit %d; cloud log:\n%s\nedge log:\n%s", re, rc, cl ? cl : "", el ? el : "");
    int sent = csv_count(ecsv, 5, "sent"), rows = csv_count(ccsv, 0, "robot1");
    int proc = csv_count(ccsv, 34, "processed"), stale = csv_count(ccsv, 34, "stale");
    EXPECT(sent >= 10 && rows == sent, "robot1 sent %d frames, the cloud booked %d as robot1's", sent, rows);
    EXPECT(proc + stale == rows && proc >= 1, "processed %d + stale %d of %d", proc, stale, rows);
    EXPECT(cl && count_lines(cl, "edge robot1 said bye") == 1, "robot1's state freed once, by its own BYE");
    long long mism = log_count(cl, "id_mismatch ");
    EXPECT(mism >= 4, "id_mismatch counted: %lld (scripted HELLO, FRAME, BYE + the serve-edge's HELLO)", mism);
    EXPECT(cl && strstr(cl, "the key of robot2 that says it is edge robot1"), "the cloud's log names both ids");
    printf("    robot1: %d sent, %d booked (%d processed, %d stale); impostors: %lld messages refused\n", sent, rows, proc,
           stale, mism);
    free(il);
    free(cl);
    free(el);
}

/* NUM_HELLO_ONLY clients say HELLO (again and again) and never send a frame; with --max-edges 4 they
 * used to take every place. A real edge then streams and is served: every frame it sent is booked. */
TEST(identity_hello_only_clients_hold_no_place) {
    if (!have_weights()) SKIP("weights/ not here");
    const char *dir = test_temp_dir("idhello");
    char ccsv[PATH_CAP], ecsv[PATH_CAP], clog[PATH_CAP], elog[PATH_CAP], ep[ENDPOINT_CAP];
    path_in(ccsv, dir, "cloud.csv");
    path_in(ecsv, dir, "edge.csv");
    path_in(clog, dir, "cloud.log");
    path_in(elog, dir, "edge.log");
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port(1));
    char *cargs[] = {"serve-cloud", "--listen", ep, "--profile", "data/samples/serve_profile.json", "--threshold", "0.085", "--sr", "x2=bilinear,x4=bilinear",
                     "--csv", ccsv, "--edges", "1", "--duration", "90", "--max-edges", "4", NULL};
    char *eargs[] = {"serve-edge", "--connect", ep, "--id", "real", "--frames", "data/samples/camvid", "--dataset", "frames",
                     "--fps", "2", "--max-frames", "4", "--bandwidth", "0:2", "--deadline-ms", "3000", "--csv", ecsv,
                     "--wait-cloud", "60", "--linger", "5", NULL};
    double tstart = now_seconds();
    pid_t pc = spawn_rune(clog, cargs);
    Transport *h[NUM_HELLO_ONLY] = {0};
    char ids[NUM_HELLO_ONLY][WIRE_ID_MAX + 1];
    for (int i = 0; i < NUM_HELLO_ONLY; i++) {
        snprintf(ids[i], sizeof ids[i], "hello%d", i);
        h[i] = edge_connect(ep, ids[i]);
        if (h[i]) send_hello(h[i], ids[i], 2);
    }
    /* a flood client's HELLO finds no connection once the cloud has stopped (the real edge's BYE ends
     * it, while the edge still lingers: seen under the sanitizers), or a full queue: not sent, not an error */
    int not_sent = 0, errors = 0;
    WireFeedback fb;
    EXPECT(h[NUM_HELLO_ONLY - 1] && wait_feedback(h[NUM_HELLO_ONLY - 1], 0, 30, &fb) == 1, "the cloud answers HELLOs");
    pid_t pe = spawn_rune(elog, eargs);
    /* the HELLO-only clients keep saying HELLO while the real edge streams (about 2 s of frames + linger) */
    int re = -1;
    double t0 = now_seconds();
    for (;;) {
        int st;
        if (waitpid(pe, &st, WNOHANG) == pe) {
            re = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            break;
        }
        if (now_seconds() - t0 > 60) {
            re = wait_bounded(pe, 0);
            break;
        }
        for (int i = 0; i < NUM_HELLO_ONLY; i++) {
            TransportRecv r;
            if (!h[i]) continue;
            int s = try_hello(h[i], ids[i], 2);
            not_sent += s == 1;
            errors += s < 0;
            while (transport_recv(h[i], 0, &r) == 1) {
            }
        }
        usleep(300000);
    }
    int rc = wait_bounded(pc, 30);
    for (int i = 0; i < NUM_HELLO_ONLY; i++) transport_close(h[i]);
    char *cl = test_read_text(clog), *el = test_read_text(elog);
    EXPECT(re == 0 && rc == 0, "edge exit %d, cloud exit %d; edge log:\n%s", re, rc, el ? el : "");
    EXPECT(errors == 0, "%d HELLOs failed with an error", errors);
    int sent = csv_count(ecsv, 5, "sent"), rows = csv_count(ccsv, 0, "real"), proc = csv_count(ccsv, 34, "processed");
    EXPECT(sent >= 1 && rows == sent && proc >= 1, "the real edge sent %d, the cloud booked %d, processed %d", sent, rows, proc);
    EXPECT(cl && !strstr(cl, "edge real refused") && strstr(cl, "refused 0 (max edges)"), "nobody refused:\n%s", cl ? cl : "");
    /* ~67 HELLOs a second arrive; their log lines are at most one per 0.1 s (cloud.c LOG_JOIN_S) over
     * the run, plus the first and one closing "more like it" line */
    double run_s = now_seconds() - tstart;
    int hellos = cl ? count_lines(cl, " hello: ") : -1, joins = cl ? count_lines(cl, " joined (") : -1;
    EXPECT(hellos >= 1 && hellos <= run_s / 0.1 + 2 && joins >= 1 && joins <= run_s / 0.1 + 2,
           "%d hello and %d join lines in %.1f s (at most %.0f each)", hellos, joins, run_s, run_s / 0.1 + 2);
    printf("    %d HELLO-only clients, --max-edges 4: the real edge sent %d, booked %d, processed %d; %d hello lines in %.1f s;"
           " %d flood HELLOs not sent (queue full or reconnecting)\n", NUM_HELLO_ONLY, sent, rows, proc, hellos, run_s, not_sent);
    free(cl);
    free(el);
}

/* --max-edges 1 and one edge streaming: a second serve-edge is told it is refused and exits non-zero
 * with the reason; a scripted client sending 30 frames as fast as it can is refused each time but
 * logged at most once a second, and told too; its BYE does not count for --edges. The first edge is still served. */
TEST(identity_edge_refused_by_max_edges_exits_nonzero) {
    if (!have_weights()) SKIP("weights/ not here");
    const char *dir = test_temp_dir("idfull");
    char clog[PATH_CAP], elog[PATH_CAP], ep[ENDPOINT_CAP];
    path_in(clog, dir, "cloud.log");
    path_in(elog, dir, "edge.log");
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port(2));
    char *cargs[] = {"serve-cloud", "--listen", ep, "--profile", "data/samples/serve_profile.json", "--threshold", "0.085", "--sr", "x2=bilinear,x4=bilinear",
                     "--edges", "1", "--duration", "90", "--max-edges", "1", "--edge-timeout", "60", NULL};
    char *eargs[] = {"serve-edge", "--connect", ep, "--id", "second", "--frames", "data/samples/camvid", "--dataset", "frames",
                     "--fps", "2", "--loop", "--max-frames", "30", "--bandwidth", "0:2", "--wait-cloud", "60", NULL};
    pid_t pc = spawn_rune(clog, cargs);
    Dataset ds;
    EXPECT(dataset_open("camvid", "data/samples/camvid", "test", &ds) == 0, "samples");
    Transport *a = edge_connect(ep, "holder");
    WireFeedback fb = {0};
    if (a) {
        send_hello(a, "holder", 2);
        send_frame(a, "holder", &ds, 0, (WireConfig){.scale = 4, .quality = 30}, 1e6);
        EXPECT(wait_feedback(a, 0, 30, &fb) == 1, "the holder's frame is processed: it holds the one place");
    }
    double t_refusals = now_seconds(); /* every refusal of this test happens after this */
    pid_t pe = spawn_rune(elog, eargs);
    int re = wait_bounded(pe, 40);
    /* a client that ignores the refusal: 30 frames in a burst (those its send queue takes) */
    Transport *flood = edge_connect(ep, "flood");
    WireFeedback why = {0};
    int flood_sent = 0;
    if (flood) {
        uint8_t p[16] = {0};
        for (int i = 0; i < 30; i++) {
            WireMsg m = frame_msg("flood", (uint64_t)i, p, sizeof p);
            flood_sent += transport_send(flood, NULL, &m) == 0;
        }
        EXPECT(wait_reason(flood, WIRE_REASON_REFUSED, 10, &why) == 1, "the flooding client is told");
        usleep(300000); /* the rest of the burst reaches the cloud */
        /* its BYE is not an edge leaving: the cloud (--edges 1) waits for the holder's */
        WireMsg bye = {.type = WIRE_BYE};
        snprintf(bye.edge_id, sizeof bye.edge_id, "flood");
        EXPECT(transport_send(flood, NULL, &bye) == 0, "flood's bye");
    }
    double window_s = now_seconds() - t_refusals;
    if (a) {
        send_frame(a, "holder", &ds, 1, fb.next, 1e6);
        EXPECT(wait_feedback(a, 1, 30, &fb) == 1 && fb.reason != WIRE_REASON_REFUSED, "the holder is still served");
        WireMsg bye = {.type = WIRE_BYE};
        snprintf(bye.edge_id, sizeof bye.edge_id, "holder");
        transport_send(a, NULL, &bye);
    }
    int rc = wait_bounded(pc, 30);
    transport_close(a);
    transport_close(flood);
    dataset_free(&ds);
    char *el = test_read_text(elog), *cl = test_read_text(clog);
    EXPECT(re == 1 && el && strstr(el, "refused by the cloud: 1 edge already served"), "refused serve-edge exit %d:\n%s", re,
           el ? el : "");
    EXPECT(!strcmp(why.note, "1 edge already served"), "note \"%s\"", why.note);
    EXPECT(rc == 0, "cloud exit %d", rc);
    /* every refusal came within window_s seconds: at most one log line a second, the first at once */
    int lines = count_lines(cl, "edge already served (--max-edges)");
    long long refused = log_count(cl, "), refused ");
    EXPECT(lines >= 1 && lines <= (int)window_s + 1, "%d log lines for %lld refused frames in %.1f s", lines, refused, window_s);
    EXPECT(flood_sent >= 2 && refused >= flood_sent + 1, "the summary counts every refused frame: %lld (%d of the flood + the "
           "serve-edge's)", refused, flood_sent);
    EXPECT(cl && strstr(cl, "edge second refused: 1 edge already served (--max-edges)"), "the cloud logs the refusal:\n%s",
           cl ? cl : "");
    printf("    serve-edge refused: exit %d; flood: %d frames, told \"%s\"; %lld refusals, %d log lines in %.1f s\n", re,
           flood_sent, why.note, refused, lines, window_s);
    free(el);
    free(cl);
}
