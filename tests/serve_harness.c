/* serve_harness.c: what the online-loop tests share — spawning rune processes, a scripted edge on the wire, CSV counts. */
#include "tests/serve_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/degrade.h"
#include "tests/test.h"
#include "util/progress.h"

/* Starts RUNE_BIN ARGS... in the background with stdout/stderr to log; returns its pid. */
pid_t spawn_rune(const char *log, char *const *args) {
    const char *bin = getenv("RUNE_BIN");
    if (!bin || access(bin, X_OK) != 0) SKIP("RUNE_BIN not set or not executable (make test sets it)");
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(log, "w", stdout) || dup2(fileno(stdout), 2) < 0) _exit(127);
        char *argv[64] = {(char *)bin};
        int n = 1;
        for (int i = 0; args[i] && n < 63; i++) argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, argv);
        _exit(127);
    }
    return pid;
}

/* Waits for pid at most `seconds`, then kills it; returns its exit status (-1 when killed/abnormal). */
int wait_bounded(pid_t pid, double seconds) {
    double t0 = now_seconds();
    int st;
    while (now_seconds() - t0 < seconds) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* Below Linux's ephemeral range (32768 and up by default, /proc/sys/net/ipv4/ip_local_port_range):
 * a port there can be held by any outgoing connection of the moment, and the cloud's bind then fails.
 * The serve tests add offsets up to ~600. */
int test_port(void) {
    const char *b = getenv("RUNE_TEST_PORT_BASE"); /* set by the runner per slot (tests/main.c) */
    int base = b ? atoi(b) : 0;
    return base >= 1024 && base <= 31000 ? base : 20000 + (int)(getpid() % 12) * 1000;
}

/* The next FEEDBACK for frame id (or any, id = UINT64_MAX) within timeout seconds; 1 got, 0 none. */
int wait_feedback(Transport *t, uint64_t id, double timeout, WireFeedback *fb) {
    double t0 = now_seconds();
    while (now_seconds() - t0 < timeout) {
        TransportRecv r;
        int got = transport_recv(t, 100, &r);
        if (got < 0) return 0;
        if (got == 1 && r.msg.type == WIRE_FEEDBACK && (id == UINT64_MAX || r.msg.u.feedback.last_frame_id == id)) {
            *fb = r.msg.u.feedback;
            return 1;
        }
    }
    return 0;
}

Transport *edge_connect(const char *endpoint, const char *id) {
    TransportOpts to = {.endpoint = endpoint, .edge_id = id, .quiet = true};
    Transport *t = transport_edge_open(&to);
    if (!t) return NULL;
    double t0 = now_seconds();
    while (!transport_connected(t) && now_seconds() - t0 < 20) {
        TransportRecv r;
        transport_recv(t, 50, &r);
    }
    return t;
}

int try_hello(Transport *t, const char *id, double fps) {
    WireMsg m = {.type = WIRE_HELLO};
    snprintf(m.edge_id, sizeof m.edge_id, "%s", id);
    m.u.hello = (WireHello){.hr_w = 480, .hr_h = 360, .fps = fps, .cfg = {.scale = 4, .quality = 30}, .frames = 4,
                            .edge_us = wire_now_us()};
    return transport_send(t, NULL, &m);
}

void send_hello(Transport *t, const char *id, double fps) {
    EXPECT(try_hello(t, id, fps) == 0, "hello sent");
}

/* One frame of the sample sequence, degraded with cfg, on a simulated link of link_bps. */
void send_frame(Transport *t, const char *id, const Dataset *ds, uint64_t fid, WireConfig cfg, double link_bps) {
    int src = (int)(fid % (uint64_t)ds->n);
    Image hr;
    EXPECT(dataset_load_frame(ds, src, &hr) == 0, "frame %d", src);
    int64_t cap = wire_now_us();
    Degraded d;
    EXPECT(degrade(&hr, cfg.scale, cfg.quality, &d) == 0, "degrade");
    int64_t enc = wire_now_us() - cap;
    WireMsg m = {.type = WIRE_FRAME};
    snprintf(m.edge_id, sizeof m.edge_id, "%s", id);
    int64_t link_us = (int64_t)(d.nbytes * 8 / link_bps * 1e6);
    m.u.frame = (WireFrame){.frame_id = fid, .capture_us = cap, .send_us = cap + enc + link_us, .src_index = (uint32_t)src,
                            .hr_w = hr.w, .hr_h = hr.h, .cfg = cfg, .encode_us = (uint32_t)enc, .queue_us = 0,
                            .payload_len = (uint32_t)d.nbytes, .payload = d.bytes};
    EXPECT(transport_send(t, NULL, &m) == 0, "frame %llu sent", (unsigned long long)fid);
    degraded_free(&d), image_free(&hr);
}

/* Rows of a CSV (header excluded) whose column `col` equals `val` (NULL: every row). */
int csv_count(const char *path, int col, const char *val) {
    char *text = test_read_text(path);
    if (!text) return -1;
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "edge,", 5)) continue;
        if (!val) {
            n++;
            continue;
        }
        char *p = line;
        for (int k = 0; k < col && p; k++) p = strchr(p, ','), p = p ? p + 1 : NULL;
        if (p && !strncmp(p, val, strlen(val)) && (p[strlen(val)] == ',' || !p[strlen(val)])) n++;
    }
    free(text);
    return n;
}

