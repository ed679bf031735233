/* test_serve_edge_stall.c: serve-edge never stalls — its own step-down after deadline drops, the --netns deadline
 * at the socket, exit codes when nothing got through, range-checked flags and a key folder never overwritten silently. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profile/profile_json.h"
#include "serve/edge.h"
#include "serve/stepdown.h"
#include "serve/transport.h"
#include "tests/rune_exec.h"
#include "tests/serve_harness.h"
#include "tests/test.h"
#include "util/err.h"
#include "util/progress.h"

#define PORT_OFFSET 211
#define ARGS_MAX 48
#define PATH_SIZE 600
#define ROWS_MAX 512

/* ---- the ladder itself ---- */

static bool cfg_is(const WireConfig *c, int scale, int quality) { return c->scale == scale && c->quality == quality; }

TEST(edge_stall_stepdown_ladder) {
    StepDown s;
    stepdown_init(&s, NULL);
    WireConfig next, cur = {2, 90, 1, WIRE_CFG_TAIL};
    EXPECT(stepdown_next(&s, &cur, &next) && cfg_is(&next, 2, 70) && next.skip == 1 && next.flags == 0,
           "fixed ladder below s2q90: s%dq%d k%d flags %u", next.scale, next.quality, next.skip, next.flags);
    cur = (WireConfig){1, 0, 0, 0}; /* lossless PNG: every JPEG at scale 1 is coarser */
    EXPECT(stepdown_next(&s, &cur, &next) && cfg_is(&next, 1, 70), "below s1 PNG: s%dq%d", next.scale, next.quality);
    cur = (WireConfig){16, 10, 0, 0};
    EXPECT(!stepdown_next(&s, &cur, &next) && cfg_is(&next, 16, 10), "nothing below the coarsest");
    /* K - 1 misses do nothing, a frame through resets the count, the K-th in a row steps */
    cur = (WireConfig){2, 90, 0, 0};
    for (int i = 0; i < STEPDOWN_K - 1; i++) EXPECT(!stepdown_on_deadline(&s, &cur, &next), "miss %d", i + 1);
    stepdown_on_through(&s);
    for (int i = 0; i < STEPDOWN_K - 1; i++) EXPECT(!stepdown_on_deadline(&s, &cur, &next), "miss %d after a frame through", i + 1);
    EXPECT(stepdown_on_deadline(&s, &cur, &next) && s.steps == 1 && s.total == 1, "the K-th miss steps");
    stepdown_on_cloud(&s);
    EXPECT(s.steps == 0 && s.total == 1 && s.misses == 0, "the cloud rules again");

    /* the sample profile's targets: 4 Mbps x2q70, 2 x4q70 (tail x2q30), 1 x4q70, 0.5 x4q30 */
    ProfileDoc *d = calloc(1, sizeof *d);
    EXPECT(profile_json_read("data/samples/serve_profile.json", d) == 0, "%s", rn_errmsg());
    stepdown_init(&s, d);
    profile_doc_free(d);
    free(d);
    EXPECT(s.nprofile == 3, "3 distinct standard configurations, %d", s.nprofile);
    cur = (WireConfig){1, 90, 0, 0}; /* not the profile's: the first profile entry coarser */
    EXPECT(stepdown_next(&s, &cur, &next) && cfg_is(&next, 2, 70), "below s1q90: s%dq%d", next.scale, next.quality);
    cur = (WireConfig){2, 70, 0, 0};
    EXPECT(stepdown_next(&s, &cur, &next) && cfg_is(&next, 4, 70), "below the 4 Mbps target: s%dq%d", next.scale, next.quality);
    cur = (WireConfig){2, 30, 0, WIRE_CFG_TAIL}; /* the 2 Mbps target's tail configuration: the 0.5 Mbps one is next */
    EXPECT(stepdown_next(&s, &cur, &next) && cfg_is(&next, 4, 30), "below the 2 Mbps tail: s%dq%d", next.scale, next.quality);
    cur = (WireConfig){4, 30, 0, 0}; /* the lowest target: the fixed ladder below it */
    EXPECT(stepdown_next(&s, &cur, &next) && cfg_is(&next, 6, 50), "below the lowest target: s%dq%d", next.scale, next.quality);
}

/* ---- helpers for the process tests ---- */

typedef struct Row {
    long long fid;
    char status[12], reason[16];
    int scale, quality, stepdown; /* stepdown -1: the column is missing (an edge without it) */
} Row;

/* Reads the edge's CSV; returns the row count (-1 unreadable). */
static int read_rows(const char *path, Row *rows, int cap) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    if (!fgets(line, sizeof line, f)) n = -1;
    while (n >= 0 && n < cap && fgets(line, sizeof line, f)) {
        char *fld[32];
        int nf = 0;
        for (char *p = line, *q; nf < 32; p = q + 1) {
            fld[nf++] = p;
            q = strpbrk(p, ",\n");
            if (!q) break;
            *q = 0;
        }
        if (nf < 24 || !strcmp(fld[5], "unconfirmed")) continue; /* a sent frame's second row (test_serve_reconcile.c) */
        Row *r = &rows[n++];
        r->fid = atoll(fld[1]);
        snprintf(r->status, sizeof r->status, "%s", fld[5]);
        snprintf(r->reason, sizeof r->reason, "%s", fld[6]);
        r->scale = atoi(fld[7]);
        r->quality = atoi(fld[8]);
        r->stepdown = nf > 24 && *fld[24] ? atoi(fld[24]) : -1;
    }
    fclose(f);
    return n;
}

static void endpoint(char *buf, size_t n) { snprintf(buf, n, "tcp://127.0.0.1:%d", test_port() + PORT_OFFSET); }

static Transport *scripted_cloud(const char *ep) {
    TransportOpts co = {.endpoint = ep, .quiet = true};
    Transport *c = transport_cloud_open(&co);
    EXPECT(c, "scripted cloud at %s: %s", ep, rn_errmsg());
    return c;
}

static void feedback(Transport *c, uint64_t last, WireConfig next, int reason) {
    WireMsg m = {.type = WIRE_FEEDBACK, .edge_id = "robot1"};
    m.u.feedback = (WireFeedback){.last_frame_id = last, .cloud_us = wire_now_us(), .next = next,
                                  .probe = {1, 90, 0, WIRE_CFG_PROBE}, .bw_kbps = 1000, .reason = reason};
    transport_send(c, "robot1", &m);
}

/* ---- 1. the stall: the link drops below what one frame of the cloud's configuration needs ---- */

/* 10 fps of x2 q90 frames (~17.3 kB) over 2 Mbps, then 0.2 Mbps (25 kB/s) from 3 s: after the drop one
 * frame alone takes ~0.69 s, over the 500 ms deadline, so every frame is dropped and the cloud (which
 * answers with x2 q90 until the drop, then stays silent) can never send another configuration. The edge
 * must step down on its own after STEPDOWN_K misses; the first stepped frame the cloud sees, it answers
 * with x4 q30, which must rule from then on. */
TEST(edge_stall_steps_down_after_bandwidth_drop) {
    const char *dir = test_temp_dir("stall");
    char ep[64], csv[PATH_SIZE], log[PATH_SIZE];
    endpoint(ep, sizeof ep);
    snprintf(csv, sizeof csv, "%s/edge.csv", dir);
    snprintf(log, sizeof log, "%s/edge.log", dir);
    Transport *c = scripted_cloud(ep);
    if (!c) return;
    const double fps = 10, drop_at = 3;
    char *args[ARGS_MAX] = {"serve-edge", "--connect", ep, "--id", "robot1", "--frames", "data/samples/camvid", "--loop",
                            "--fps", "10", "--max-frames", "60", "--scale", "2", "--quality", "90", "--bandwidth",
                            "0:2,3:0.2", "--deadline-ms", "500", "--csv", csv, "--wait-cloud", "10", "--linger", "1", NULL};
    pid_t pid = spawn_rune(log, args);
    const WireConfig orig = {2, 90, 0, 0}, ruled = {4, 30, 0, 0};
    long long after_drop = 0, ruled_at = -1, bad_after_rule = 0;
    int64_t ruled_us = 0;
    bool bye = false;
    double end = now_seconds() + 25;
    while (now_seconds() < end && !bye) {
        TransportRecv r;
        if (transport_recv(c, 50, &r) != 1) continue;
        bye = r.msg.type == WIRE_BYE;
        if (r.msg.type == WIRE_HELLO) feedback(c, 0, orig, WIRE_REASON_START);
        if (r.msg.type != WIRE_FRAME) continue;
        const WireFrame *f = &r.msg.u.frame;
        bool before = (double)f->frame_id / fps < drop_at;
        if (before) feedback(c, f->frame_id, orig, WIRE_REASON_NONE);
        else after_drop++;
        if (!before && ruled_at < 0 && stepdown_coarser(&f->cfg, &orig)) { /* a stepped-down frame got through */
            ruled_at = (long long)f->frame_id;
            feedback(c, f->frame_id, ruled, WIRE_REASON_BANDWIDTH);
            ruled_us = wire_now_us();
        }
        /* captured a frame interval after the answer left: the feedback had arrived (loopback: ~1 ms) */
        if (ruled_at >= 0 && f->capture_us > ruled_us + (int64_t)(1e6 / fps) && !cfg_is(&f->cfg, 4, 30)) bad_after_rule++;
    }
    int rc = wait_bounded(pid, 10);
    transport_close(c);
    EXPECT(rc == 0, "edge exit %d", rc);
    /* 30 frames are captured after the drop; at most a few steps of K misses each come before the
     * first stepped frame, and the cloud's x4 q30 (~2 kB a frame, 20 kB/s of 25) then carries all */
    EXPECT(after_drop >= 10, "%lld frames captured after the drop reached the cloud", after_drop);
    EXPECT(ruled_at >= 0 && bad_after_rule == 0, "after the cloud's answer to frame %lld, %lld frames captured not at its x4 q30", ruled_at,
           bad_after_rule);
    static Row rows[ROWS_MAX];
    int n = read_rows(csv, rows, ROWS_MAX);
    int orig_misses = 0, stepped = 0, cloud_after = 0;
    for (int i = 0; i < n; i++) {
        const Row *w = &rows[i];
        if (!strcmp(w->reason, "deadline") && w->scale == 2 && w->quality == 90) orig_misses++;
        if (w->stepdown > 0) stepped++;
        if (ruled_at >= 0 && w->fid > ruled_at && !strcmp(w->status, "sent")) cloud_after += w->stepdown == 0;
    }
    EXPECT(n == 60, "%d rows for 60 frames", n);
    EXPECT(orig_misses == STEPDOWN_K, "%d deadline drops at x2 q90 before the first own step (K = %d)", orig_misses, STEPDOWN_K);
    EXPECT(stepped > 0 && cloud_after > 0, "rows: %d with stepdown > 0, %d sent at the cloud's configuration after it ruled again",
           stepped, cloud_after);
    char *text = test_read_text(log);
    EXPECT(text && strstr(text, "stepping down to") && strstr(text, "self step-downs"), "log: %s", text ? text : "(none)");
    free(text);
    printf("    after the drop: %lld frames reached the cloud; the cloud ruled again from frame %lld\n", after_drop, ruled_at);
}

/* ---- 2. --netns: the kernel shapes the link; the deadline is kept at the socket ---- */

typedef struct NetnsResult {
    int ok, received, sent_rows, deadline_rows;
    double max_latency, p95_latency; /* seconds from capture to the cloud taking it off the socket */
    long long max_bytes;
    char err[160];
} NetnsResult;

static int sh(const char *cmd) {
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define NETNS_FRAMES 150
#define NETNS_RATE_BPS 125000.0 /* tc tbf 1mbit */

/* In the namespace: tc tbf 1 Mbit/s on lo, a scripted cloud, a real serve-edge --netns sending 30 fps of
 * x2 q95 frames (~24 kB: ~5.8 Mbps offered) for 5 s. */
static void netns_worker(NetnsResult *res, const char *dir) {
    if (sh("tc qdisc replace dev lo root tbf burst 32kb latency 2s rate 1mbit") != 0) {
        snprintf(res->err, sizeof res->err, "tc tbf on lo failed");
        return;
    }
    char ep[64], csv[PATH_SIZE], log[PATH_SIZE];
    endpoint(ep, sizeof ep);
    snprintf(csv, sizeof csv, "%s/edge.csv", dir);
    snprintf(log, sizeof log, "%s/edge.log", dir);
    Transport *c = scripted_cloud(ep);
    if (!c) return;
    char *args[ARGS_MAX] = {"serve-edge", "--connect", ep, "--id", "robot1", "--frames", "data/samples/camvid", "--loop",
                            "--fps", "30", "--max-frames", "150", "--scale", "2", "--quality", "95", "--bandwidth", "0:1",
                            "--netns", "--deadline-ms", "500", "--csv", csv, "--wait-cloud", "10", "--linger", "1", NULL};
    pid_t pid = spawn_rune(log, args);
    static double lat[NETNS_FRAMES * 2];
    bool bye = false;
    double end = now_seconds() + 25;
    while (now_seconds() < end && !bye) {
        TransportRecv r;
        if (transport_recv(c, 50, &r) != 1) continue;
        bye = r.msg.type == WIRE_BYE;
        if (r.msg.type != WIRE_FRAME || res->received >= NETNS_FRAMES * 2) continue;
        feedback(c, r.msg.u.frame.frame_id, r.msg.u.frame.cfg, WIRE_REASON_NONE);
        lat[res->received++] = (double)(r.recv_us - r.msg.u.frame.capture_us) / 1e6;
        if ((long long)r.bytes > res->max_bytes) res->max_bytes = (long long)r.bytes;
    }
    wait_bounded(pid, 10);
    transport_close(c);
    qsort(lat, (size_t)res->received, sizeof *lat, cmp_double);
    if (res->received) {
        res->max_latency = lat[res->received - 1];
        res->p95_latency = lat[(int)(0.95 * (res->received - 1))];
    }
    res->sent_rows = csv_count(csv, 5, "sent");
    res->deadline_rows = csv_count(csv, 6, "deadline");
    res->ok = 1;
}

TEST(edge_stall_netns_deadline_at_the_socket) {
    if (geteuid() != 0) SKIP("needs root for ip netns / tc");
    if (sh("command -v ip >/dev/null && command -v tc >/dev/null") != 0) SKIP("ip or tc not installed");
    if (!getenv("RUNE_BIN")) SKIP("RUNE_BIN not set");
    char ns[64], cmd[160];
    snprintf(ns, sizeof ns, "rune_stall_test_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "ip netns add %s 2>/dev/null", ns);
    if (sh(cmd) != 0) SKIP("ip netns add is not permitted here");
    const char *dir = test_temp_dir("netns");
    NetnsResult *res = mmap(NULL, sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t w = res == MAP_FAILED ? -1 : fork();
    if (w == 0) { /* the worker lives in the namespace; this process stays outside to remove it */
        char path[PATH_SIZE];
        snprintf(path, sizeof path, "/var/run/netns/%s", ns);
        int fd = open(path, O_RDONLY);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0 || sh("ip link set lo up mtu 1500") != 0)
            snprintf(res->err, sizeof res->err, "entering %s failed", ns);
        else netns_worker(res, dir);
        _exit(0);
    }
    int rc = w > 0 ? wait_bounded(w, 40) : -1;
    snprintf(cmd, sizeof cmd, "ip netns del %s", ns);
    EXPECT(sh(cmd) == 0, "namespace %s removed", ns);
    EXPECT(rc == 0 && res->ok, "worker: %s", res == MAP_FAILED ? "mmap failed" : res->err);
    if (rc != 0 || !res->ok) return;
    /* A frame is handed to ZeroMQ by capture + 500 ms or dropped; after that it waits behind at most
     * EDGE_NETNS_SNDHWM message in ZeroMQ and the TCP send buffer (the kernel doubles SO_SNDBUF), then
     * crosses itself: (1 + SNDHWM) frames + 2 x SNDBUF at 1 Mbit/s, +5 % TCP/IP headers, +0.1 s for
     * scheduling on a shared machine. */
    double bound = 0.5 + 1.05 * ((1 + EDGE_NETNS_SNDHWM) * (double)res->max_bytes + 2.0 * EDGE_NETNS_SNDBUF) / NETNS_RATE_BPS + 0.1;
    printf("    netns 1 Mbit/s, 5.8 offered: %d received of %d sent, %d dropped at the deadline; latency p95 %.2f s, max %.2f s "
           "(bound %.2f s)\n",
           res->received, res->sent_rows, res->deadline_rows, res->p95_latency, res->max_latency, bound);
    EXPECT(res->max_latency <= bound, "max latency %.2f s > %.2f s", res->max_latency, bound);
    EXPECT(res->received == res->sent_rows, "%d frames received, %d marked sent", res->received, res->sent_rows);
    EXPECT(res->deadline_rows > 0 && res->sent_rows > 0, "%d sent, %d deadline drops", res->sent_rows, res->deadline_rows);
    munmap(res, sizeof *res);
}

/* ---- 3. exit codes: nothing got through is not success ---- */

/* Nothing listens: every frame is dropped as no_link (exit 3); a cloud that takes the frames and only
 * ever says START to the HELLO answers none of them (exit 4); each says why on stderr. */
TEST(edge_stall_exit_codes_when_nothing_got_through) {
    const char *dir = test_temp_dir("exit");
    char ep[64], log[PATH_SIZE];
    endpoint(ep, sizeof ep);
    snprintf(log, sizeof log, "%s/edge.log", dir);
    char *args[ARGS_MAX] = {"serve-edge", "--connect", ep, "--id", "robot1", "--frames", "data/samples/camvid", "--loop",
                            "--fps", "20", "--max-frames", "10", "--wait-cloud", "0", "--linger", "0.2", NULL};
    int rc = wait_bounded(spawn_rune(log, args), 20);
    char *text = test_read_text(log);
    EXPECT(rc == EDGE_EXIT_NOTHING_SENT && text && strstr(text, "no frame was sent"), "no cloud: exit %d, log:\n%s", rc,
           text ? text : "");
    free(text);
    Transport *c = scripted_cloud(ep);
    if (!c) return;
    args[13] = "5"; /* --wait-cloud 5: the scripted cloud is there now */
    pid_t pid = spawn_rune(log, args);
    int frames = 0;
    bool bye = false;
    double end = now_seconds() + 20;
    while (now_seconds() < end && !bye) {
        TransportRecv r;
        if (transport_recv(c, 50, &r) != 1) continue;
        if (r.msg.type == WIRE_HELLO) feedback(c, 0, (WireConfig){4, 70, 0, 0}, WIRE_REASON_START);
        frames += r.msg.type == WIRE_FRAME;
        bye = r.msg.type == WIRE_BYE;
    }
    rc = wait_bounded(pid, 10);
    transport_close(c);
    text = test_read_text(log);
    EXPECT(frames > 0 && rc == EDGE_EXIT_NO_ANSWER && text && strstr(text, "answered none"),
           "a silent cloud (%d frames taken): exit %d, log:\n%s", frames, rc, text ? text : "");
    free(text);
}

/* ---- 4. flags: out of range is a usage error naming the flag; a key folder is not replaced silently ---- */

TEST(edge_stall_cli_ranges_and_keygen_force) {
    static char out[8192];
    char cmd[1024];
    const char *base = "serve-edge --connect tcp://127.0.0.1:9 --frames data/samples/camvid";
    const char *bad[][2] = {
        {"--bandwidth-scale 0", "--bandwidth-scale"}, {"--bandwidth-scale -2", "--bandwidth-scale"},
        {"--max-frames -5", "--max-frames"},           {"--deadline-ms -1", "--deadline-ms"},
        {"--fps 0", "--fps"},                          {"--fps 2000", "--fps"},
        {"--linger -1", "--linger"},                   {"--wait-cloud -3", "--wait-cloud"},
        {"--duration -1", "--duration"},               {"--bandwidth-start -1", "--bandwidth-start"},
        {"--quality 101", "--quality"},                {"--skip 300", "--skip"},
        {"--scale 17", "--scale"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s %s", base, bad[i][0]);
        int rc = rune_exec(cmd, out, sizeof out);
        EXPECT(rc == 2 && strstr(out, bad[i][1]), "%s: exit %d: %s", bad[i][0], rc, out);
    }
    const char *ports[] = {"tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:x", "tcp://127.0.0.1"};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        snprintf(cmd, sizeof cmd, "serve-edge --connect %s --frames data/samples/camvid", ports[i]);
        int rc = rune_exec(cmd, out, sizeof out);
        EXPECT(rc == 2 && strstr(out, "--connect"), "%s: exit %d: %s", ports[i], rc, out);
    }
    /* a second --curve-keygen into the same folder keeps its keys unless --force */
    const char *dir = test_temp_dir("keys");
    char key[PATH_SIZE];
    snprintf(key, sizeof key, "%s/k/server.key", dir);
    snprintf(cmd, sizeof cmd, "serve-edge --curve-keygen %s/k --id cam1", dir);
    EXPECT(rune_exec(cmd, out, sizeof out) == 0, "first keygen: %s", out);
    char *before = test_read_text(key);
    int rc = rune_exec(cmd, out, sizeof out);
    char *after = test_read_text(key);
    EXPECT(rc == 2 && strstr(out, "server.key") && strstr(out, "--force"), "second keygen: exit %d: %s", rc, out);
    EXPECT(before && after && !strcmp(before, after), "server.key unchanged without --force");
    free(after);
    snprintf(cmd, sizeof cmd, "serve-edge --curve-keygen %s/k --id cam1 --force", dir);
    EXPECT(rune_exec(cmd, out, sizeof out) == 0, "keygen --force: %s", out);
    after = test_read_text(key);
    EXPECT(before && after && strcmp(before, after) != 0, "server.key replaced with --force");
    free(before);
    free(after);
}

/* ---- 5. a full ZeroMQ queue is not "no link" ---- */

/* The number just before `label` in text (the summary line's "N zmq full"), -1 when absent. */
static long long count_before(const char *text, const char *label) {
    const char *p = text ? strstr(text, label) : NULL;
    if (!p) return -1;
    const char *q = p;
    while (q > text && q[-1] >= '0' && q[-1] <= '9') q--;
    return q < p ? atoll(q) : -1;
}

/* A cloud that connects and never reads: ZeroMQ's queue and the TCP buffers fill with HR frames (~70 kB,
 * 50 fps, no shaping) and the edge's sends are refused while the link is up. Those drops are zmq_full in
 * the CSV and in the summary; the summary's "no link" counts only the CSV's no_link rows (ZeroMQ's
 * heartbeat may drop the stuck connection for a moment: those frames are no_link). */
TEST(edge_stall_zmq_full_counted_apart) {
    const char *dir = test_temp_dir("full");
    char ep[64], csv[PATH_SIZE], log[PATH_SIZE];
    endpoint(ep, sizeof ep);
    snprintf(csv, sizeof csv, "%s/edge.csv", dir);
    snprintf(log, sizeof log, "%s/edge.log", dir);
    TransportOpts co = {.endpoint = ep, .rcvhwm = 1, .quiet = true};
    Transport *c = transport_cloud_open(&co);
    EXPECT(c, "%s", rn_errmsg());
    if (!c) return;
    char *args[ARGS_MAX] = {"serve-edge", "--connect", ep, "--id", "robot1", "--frames", "data/samples/camvid", "--loop",
                            "--fps", "50", "--max-frames", "200", "--scale", "1", "--quality", "95", "--csv", csv,
                            "--wait-cloud", "10", "--linger", "0.2", NULL};
    int rc = wait_bounded(spawn_rune(log, args), 30);
    transport_close(c);
    char *text = test_read_text(log);
    long long full = count_before(text, " zmq full"), nolink = count_before(text, " no link");
    int rows = csv_count(csv, 6, "zmq_full"), nolink_rows = csv_count(csv, 6, "no_link");
    EXPECT(rc == EDGE_EXIT_NO_ANSWER, "exit %d (frames sent, none answered)", rc);
    EXPECT(full > 0 && full == rows && nolink == nolink_rows, "summary: %lld zmq full, %lld no link; CSV: %d zmq_full, %d no_link; log:\n%s",
           full, nolink, rows, nolink_rows, text ? text : "");
    free(text);
    printf("    a cloud that never reads: %lld of 200 frames dropped as zmq_full\n", full);
}

/* ---- 6. with a profile, the steps follow its bandwidth targets ---- */

/* data/samples/serve_profile.json: 4 Mbps x2 q70 (~9.8 kB), 2 and 1 Mbps x4 q70 (~3.1 kB), 0.5 Mbps
 * x4 q30 (~1.9 kB). 4 Mbps, then 0.05 Mbps (6.25 kB/s: at most ~3.1 kB within 500 ms) from 2 s: the
 * edge starts at x2 q70 (the 4 Mbps target) and its first own step is the next lower target's x4 q70,
 * not the fixed ladder's x2 q50; then x4 q30 if needed. The cloud is silent after the drop. */
TEST(edge_stall_steps_follow_the_profile_targets) {
    const char *dir = test_temp_dir("stallp");
    char ep[64], csv[PATH_SIZE], log[PATH_SIZE];
    endpoint(ep, sizeof ep);
    snprintf(csv, sizeof csv, "%s/edge.csv", dir);
    snprintf(log, sizeof log, "%s/edge.log", dir);
    Transport *c = scripted_cloud(ep);
    if (!c) return;
    char *args[ARGS_MAX] = {"serve-edge", "--connect", ep, "--id", "robot1", "--frames", "data/samples/camvid", "--loop",
                            "--fps", "10", "--max-frames", "50", "--profile", "data/samples/serve_profile.json",
                            "--bandwidth", "0:4,2:0.05", "--deadline-ms", "500", "--csv", csv, "--wait-cloud", "10",
                            "--linger", "1", NULL};
    pid_t pid = spawn_rune(log, args);
    const WireConfig top = {2, 70, 0, 0};
    long long after_drop = 0;
    bool bye = false;
    double end = now_seconds() + 25;
    while (now_seconds() < end && !bye) {
        TransportRecv r;
        if (transport_recv(c, 50, &r) != 1) continue;
        bye = r.msg.type == WIRE_BYE;
        if (r.msg.type == WIRE_HELLO) feedback(c, 0, top, WIRE_REASON_START);
        if (r.msg.type != WIRE_FRAME) continue;
        if (r.msg.u.frame.frame_id < 20) feedback(c, r.msg.u.frame.frame_id, top, WIRE_REASON_NONE);
        else after_drop++;
    }
    int rc = wait_bounded(pid, 10);
    transport_close(c);
    EXPECT(rc == 0, "edge exit %d", rc);
    static Row rows[ROWS_MAX];
    int n = read_rows(csv, rows, ROWS_MAX);
    int first = -1, off_ladder = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i].stepdown <= 0) continue;
        if (first < 0) first = i;
        bool on = (rows[i].scale == 4 && (rows[i].quality == 70 || rows[i].quality == 30)) || rows[i].scale > 4;
        off_ladder += !on;
    }
    EXPECT(first >= 0 && rows[first].stepdown == 1 && rows[first].scale == 4 && rows[first].quality == 70,
           "first own step: row %d s%dq%d (the 2 Mbps target's x4 q70 expected)", first, first >= 0 ? rows[first].scale : 0,
           first >= 0 ? rows[first].quality : 0);
    EXPECT(off_ladder == 0, "%d stepped rows off the profile's ladder", off_ladder);
    /* 30 frames after the drop; x4 q30 leaves in ~0.31 s, so about every other frame gets through */
    EXPECT(after_drop >= 8, "%lld frames captured after the drop reached the cloud", after_drop);
}
