/* test_serve_workers.c: `rune serve-cloud --workers N` — a sticky broker and its worker processes, with real edges on loopback. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/broker.h"
#include "tests/rune_exec.h"
#include "tests/serve_harness.h"
#include "tests/test.h"
#include "util/progress.h"

#define PORT_OFFSET 571 /* + 0..2: one port per test */
#define PATH_SIZE 600
#define CMD_SIZE 2400
#define OUT_SIZE 8192
#define ARGS_MAX 48
#define NEDGES 4
#define NWORKERS 2
#define COL_EDGE 0
#define COL_STATUS 34 /* CLOUD_CSV_HEADER's status (issue 22's columns come after it) */
#define PROC_PATH_SIZE 64 /* "/proc/PID/stat" */
#define STAT_HEAD 256     /* enough of /proc/PID/stat for its state field */

typedef struct Run {
    const char *dir;
    char ep[64], bcsv[PATH_SIZE], blog[PATH_SIZE], wcsv[NWORKERS][PATH_SIZE];
    char ecsv[NEDGES][PATH_SIZE], elog[NEDGES][PATH_SIZE], eid[NEDGES][16];
    pid_t broker, edge[NEDGES], worker[NWORKERS];
} Run;

static void run_init(Run *r, const char *tag, int port_k) {
    memset(r, 0, sizeof *r);
    r->dir = test_temp_dir(tag);
    snprintf(r->ep, sizeof r->ep, "tcp://127.0.0.1:%d", test_port() + PORT_OFFSET + port_k);
    snprintf(r->bcsv, sizeof r->bcsv, "%s/cloud.csv", r->dir);
    snprintf(r->blog, sizeof r->blog, "%s/cloud.log", r->dir);
    for (int k = 0; k < NWORKERS; k++) broker_worker_path(r->wcsv[k], sizeof r->wcsv[k], r->bcsv, k);
    for (int i = 0; i < NEDGES; i++) {
        snprintf(r->eid[i], sizeof r->eid[i], "e%d", i);
        snprintf(r->ecsv[i], sizeof r->ecsv[i], "%s/edge%d.csv", r->dir, i);
        snprintf(r->elog[i], sizeof r->elog[i], "%s/edge%d.log", r->dir, i);
    }
}

/* The broker with NWORKERS workers; `edges`: stop after NEDGES BYEs (else on --duration or a signal). */
static void start_broker(Run *r, bool edges) {
    char *args[ARGS_MAX] = {"serve-cloud", "--workers", "2", "--listen", r->ep, "--profile", "data/samples/serve_profile.json",
                            "--threshold", "0.085", "--sr", "x2=bilinear,x4=bilinear", "--csv", r->bcsv, "--duration", "90",
                            edges ? "--edges" : NULL, "4", NULL};
    r->broker = spawn_rune(r->blog, args);
}

/* fps 4 against ~0.5 s of segmenting a 480x360 frame alone, ~2 s with two workers sharing 2 cores:
 * frames wait and many go stale. A worker serves its 2 edges round robin, so an edge is answered at
 * least every ~4 s; a stream of >= 12 s and 5 s of linger give each edge answers (serve-edge exits 4
 * when no frame was ever answered). */
static void start_edges(Run *r, const char *frames) {
    for (int i = 0; i < NEDGES; i++) {
        char *args[ARGS_MAX] = {"serve-edge", "--connect", r->ep, "--id", r->eid[i], "--frames", "data/samples/camvid",
                                "--dataset", "frames", "--fps", "4", "--loop", "--max-frames", (char *)frames, "--csv",
                                r->ecsv[i], "--wait-cloud", "30", "--linger", "5", NULL};
        r->edge[i] = spawn_rune(r->elog[i], args);
    }
}

/* Running: it exists and is not a zombie (an orphan's zombie waits for init, which may be slow to reap it). */
static bool alive(pid_t pid) {
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) return false;
    char path[PROC_PATH_SIZE], buf[STAT_HEAD];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *paren = strrchr(buf, ')'); /* "pid (comm) S ..." */
    return !(paren && paren[1] == ' ' && paren[2] == 'Z');
}

/* Every process the test started is gone (killed if still running) when it returns. */
static void reap_all(Run *r) {
    for (int i = 0; i < NEDGES; i++)
        if (r->edge[i] > 0) wait_bounded(r->edge[i], 0.1);
    if (r->broker > 0) wait_bounded(r->broker, 0.1);
    for (int k = 0; k < NWORKERS; k++)
        if (alive(r->worker[k]) && kill(r->worker[k], SIGKILL) == 0) fprintf(stderr, "worker %d was still running\n", k);
}

/* The workers' pids from the broker's log ("worker K pid P started"), waiting up to `seconds` for them. */
static bool read_worker_pids(Run *r, double seconds) {
    double t0 = now_seconds();
    for (;;) {
        char *log = test_read_text(r->blog);
        int found = 0;
        for (int k = 0; k < NWORKERS && log; k++) {
            char key[64];
            snprintf(key, sizeof key, "worker %d pid ", k);
            const char *p = strstr(log, key);
            if (p) r->worker[k] = (pid_t)atol(p + strlen(key));
            found += p != NULL;
        }
        bool ready = log && strstr(log, "broker listening");
        free(log);
        if (found == NWORKERS && ready) return true;
        if (now_seconds() - t0 > seconds) return false;
        usleep(50000);
    }
}

/* Processed rows of edge id (NULL: any edge) in csv. */
static int processed_of(const char *csv, const char *id) {
    char *text = test_read_text(csv), *save = NULL;
    int n = 0;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        const char *comma = strchr(line, ','), *st = line;
        bool mine = !id || (comma && (size_t)(comma - line) == strlen(id) && !strncmp(line, id, strlen(id)));
        for (int k = 0; k < COL_STATUS && st; k++) st = strchr(st, ',') ? strchr(st, ',') + 1 : NULL;
        n += mine && st && !strncmp(st, "processed", 9) && (st[9] == ',' || st[9] == 0);
    }
    free(text);
    return n;
}

/* Waits (at most `seconds`) until csv has n processed rows. */
static bool wait_processed(const char *csv, int n, double seconds) {
    double t0 = now_seconds();
    while (processed_of(csv, NULL) < n && now_seconds() - t0 < seconds) usleep(100000);
    return processed_of(csv, NULL) >= n;
}

static char *log_tail(const char *path) {
    char *t = test_read_text(path);
    if (t && strlen(t) > 3000) memmove(t, t + strlen(t) - 3000, 3001);
    return t;
}

/* 2 workers, 4 edges: each edge's frames are in exactly one worker's CSV (sticky), both workers are
 * used (the broker gives a new edge to the worker with the fewest), and every sent frame is accounted
 * for across the two CSVs (serve-reconcile exit 0 per edge). */
TEST(workers_sticky_four_edges_two_workers) {
    Run r;
    run_init(&r, "workers_sticky", 0);
    start_broker(&r, true);
    EXPECT(read_worker_pids(&r, 60), "the broker started 2 workers and listens");
    start_edges(&r, "48");
    int re[NEDGES];
    for (int i = 0; i < NEDGES; i++) re[i] = wait_bounded(r.edge[i], 60);
    int rb = wait_bounded(r.broker, 45);
    char *bl = log_tail(r.blog);
    EXPECT(rb == 0, "broker exit %d:\n%s", rb, bl ? bl : "");
    /* each worker exited 0 after the broker's STOP (under ASan/UBSan: nothing reported either) */
    for (int k = 0; k < NWORKERS && bl; k++) {
        char row[64];
        snprintf(row, sizeof row, "| %d | %d |", k, (int)r.worker[k]);
        const char *p = strstr(bl, row), *eol = p ? strchr(p, '\n') : NULL;
        EXPECT(eol && eol - p >= 5 && !strncmp(eol - 5, "| 0 |", 5), "worker %d's summary row ends with exit 0: %.*s", k,
               p && eol ? (int)(eol - p) : 0, p ? p : "");
    }
    free(bl);
    int per_worker[NWORKERS] = {0};
    for (int i = 0; i < NEDGES; i++) {
        EXPECT(re[i] == 0, "edge %s exit %d", r.eid[i], re[i]);
        int n0 = csv_count(r.wcsv[0], COL_EDGE, r.eid[i]), n1 = csv_count(r.wcsv[1], COL_EDGE, r.eid[i]);
        EXPECT((n0 > 0) != (n1 > 0), "edge %s: rows in w0 %d, w1 %d: want them in exactly one worker's CSV", r.eid[i], n0, n1);
        per_worker[n1 > 0]++;
        char cmd[CMD_SIZE], out[OUT_SIZE];
        snprintf(cmd, sizeof cmd, "serve-reconcile %s %s %s", r.ecsv[i], r.wcsv[0], r.wcsv[1]);
        int rc = rune_exec(cmd, out, sizeof out);
        EXPECT(rc == 0, "edge %s: serve-reconcile exit %d:\n%s", r.eid[i], rc, out);
    }
    EXPECT(per_worker[0] == NEDGES / 2 && per_worker[1] == NEDGES / 2, "edges per worker: %d, %d (fewest-edges assignment: 2, 2)",
           per_worker[0], per_worker[1]);
    reap_all(&r);
}

/* A worker SIGKILLed mid-run: the broker logs it, the edges it had go to the other worker (their
 * frames are processed there after the kill), the other edges keep being served, all edges end. */
TEST(workers_one_killed_the_rest_served) {
    Run r;
    run_init(&r, "workers_kill", 1);
    start_broker(&r, true);
    EXPECT(read_worker_pids(&r, 60), "the broker started 2 workers and listens");
    start_edges(&r, "60");
    bool both = wait_processed(r.wcsv[0], 1, 40) && wait_processed(r.wcsv[1], 1, 40);
    EXPECT(both, "both workers processed a frame");
    int before[NEDGES], on0[NEDGES];
    for (int i = 0; i < NEDGES; i++) {
        before[i] = processed_of(r.wcsv[1], r.eid[i]);
        on0[i] = csv_count(r.wcsv[0], COL_EDGE, r.eid[i]) > 0;
    }
    kill(r.worker[0], SIGKILL);
    int re[NEDGES];
    for (int i = 0; i < NEDGES; i++) re[i] = wait_bounded(r.edge[i], 60);
    int rb = wait_bounded(r.broker, 45);
    char *full = test_read_text(r.blog), *bl = log_tail(r.blog);
    char want[96];
    snprintf(want, sizeof want, "worker 0 (pid %d) killed by signal 9", (int)r.worker[0]);
    EXPECT(full && strstr(full, want), "the broker logs \"%s\":\n%s", want, bl ? bl : "");
    free(full);
    EXPECT(rb == 0, "broker exit %d", rb);
    free(bl);
    for (int i = 0; i < NEDGES; i++) {
        EXPECT(re[i] == 0, "edge %s exit %d", r.eid[i], re[i]);
        int after = processed_of(r.wcsv[1], r.eid[i]);
        EXPECT(after > before[i], "edge %s (was on worker %d): processed by worker 1 before the kill %d, at the end %d", r.eid[i],
               on0[i] ? 0 : 1, before[i], after);
    }
    reap_all(&r);
}

/* The broker stopped by SIGTERM stops and reaps its workers; one SIGKILLed takes them along (their
 * parent-death signal): no worker process is left either way. */
TEST(workers_none_left_behind) {
    for (int sig = 0; sig < 2; sig++) {
        Run r;
        run_init(&r, sig ? "workers_left_kill" : "workers_left_term", 2);
        start_broker(&r, false);
        EXPECT(read_worker_pids(&r, 60), "the broker started 2 workers and listens");
        kill(r.broker, sig ? SIGKILL : SIGTERM);
        int rb = wait_bounded(r.broker, 45);
        EXPECT(sig || rb == 0, "broker exit after SIGTERM: %d", rb);
        if (!sig) { /* the broker stopped them itself: their summaries come before its own (it reaped them first) */
            char *log = test_read_text(r.blog), *mine = log ? strstr(log, "## serve-cloud broker summary") : NULL;
            int before = 0;
            for (char *p = log; p && (p = strstr(p, "## serve-cloud summary")) && (!mine || p < mine); p++) before++;
            EXPECT(mine && before == NWORKERS, "worker summaries before the broker's: %d of %d; broker summary %s", before,
                   NWORKERS, mine ? "found" : "missing");
            free(log);
        }
        /* a worker told by SIGTERM ends within its own stop: bounded by the broker's BROKER_STOP_WAIT_S */
        double t0 = now_seconds();
        while ((alive(r.worker[0]) || alive(r.worker[1])) && now_seconds() - t0 < BROKER_STOP_WAIT_S) usleep(100000);
        for (int k = 0; k < NWORKERS; k++)
            EXPECT(!alive(r.worker[k]), "after the broker's %s, worker %d (pid %d) is still running", sig ? "SIGKILL" : "SIGTERM", k,
                   (int)r.worker[k]);
        reap_all(&r);
    }
}

/* --backend tcp://: a worker started elsewhere (`serve-cloud --worker-of ENDPOINT --worker-index 2`)
 * joins the broker's 2; with 3 edges each worker gets one (fewest edges first), the joined worker's
 * edge is served there only, and the broker's STOP ends it too. */
TEST(workers_join_on_tcp_backend) {
    Run r;
    run_init(&r, "workers_join", 3);
    char back[64], jcsv[PATH_SIZE], jlog[PATH_SIZE];
    snprintf(back, sizeof back, "tcp://127.0.0.1:%d", test_port() + PORT_OFFSET + 4);
    snprintf(jcsv, sizeof jcsv, "%s/joined.csv", r.dir);
    snprintf(jlog, sizeof jlog, "%s/joined.log", r.dir);
    char *bargs[ARGS_MAX] = {"serve-cloud", "--workers", "2", "--backend", back, "--listen", r.ep, "--profile",
                             "data/samples/serve_profile.json", "--threshold", "0.085", "--sr", "x2=bilinear,x4=bilinear",
                             "--csv", r.bcsv, "--duration", "90", "--edges", "3", NULL};
    r.broker = spawn_rune(r.blog, bargs);
    EXPECT(read_worker_pids(&r, 60), "the broker started 2 workers and listens");
    char *jargs[ARGS_MAX] = {"serve-cloud", "--worker-of", back, "--worker-index", "2", "--profile", "data/samples/serve_profile.json",
                             "--threshold", "0.085", "--sr", "x2=bilinear,x4=bilinear", "--csv", jcsv, NULL};
    pid_t joined = spawn_rune(jlog, jargs);
    double t0 = now_seconds();
    char *log = NULL;
    while (!(log && strstr(log, "worker 2 joined")) && now_seconds() - t0 < 30) {
        free(log);
        usleep(100000);
        log = test_read_text(r.blog);
    }
    EXPECT(log && strstr(log, "worker 2 joined"), "the broker logs the joined worker");
    free(log);
    /* 3 edges: started one by one so each is assigned before the next (fewest edges first: w0, w1, w2) */
    for (int i = 0; i < 3; i++) {
        char *args[ARGS_MAX] = {"serve-edge", "--connect", r.ep, "--id", r.eid[i], "--frames", "data/samples/camvid", "--dataset",
                                "frames", "--fps", "4", "--loop", "--max-frames", "48", "--csv", r.ecsv[i], "--wait-cloud", "30",
                                "--linger", "5", NULL};
        r.edge[i] = spawn_rune(r.elog[i], args);
        usleep(1000000);
    }
    int re[3];
    for (int i = 0; i < 3; i++) re[i] = wait_bounded(r.edge[i], 60);
    int rb = wait_bounded(r.broker, 45), rj = wait_bounded(joined, 10);
    EXPECT(rb == 0 && rj == 0, "broker exit %d, joined worker exit %d (the broker's STOP ends it)", rb, rj);
    int served_there = 0;
    for (int i = 0; i < 3; i++) {
        EXPECT(re[i] == 0, "edge %s exit %d", r.eid[i], re[i]);
        int n0 = csv_count(r.wcsv[0], COL_EDGE, r.eid[i]), n1 = csv_count(r.wcsv[1], COL_EDGE, r.eid[i]), n2 = csv_count(jcsv, COL_EDGE, r.eid[i]);
        EXPECT((n0 > 0) + (n1 > 0) + (n2 > 0) == 1, "edge %s: rows in w0 %d, w1 %d, joined %d: want exactly one", r.eid[i], n0, n1, n2);
        served_there += n2 > 0;
    }
    EXPECT(served_there == 1, "edges served by the joined worker: %d, want 1", served_there);
    reap_all(&r);
}

/* CURVE stays the broker's: with --curve-keys two edges with their keys are served (each on one
 * worker, the id being the key's), and an edge with a key the broker does not know is refused at
 * the handshake (it never gets an answer: serve-edge exits 3 or 4) without reaching any worker. */
TEST(workers_curve_at_the_broker) {
    Run r;
    run_init(&r, "workers_curve", 5);
    char keys[PATH_SIZE], other[PATH_SIZE];
    snprintf(keys, sizeof keys, "%s/keys", r.dir);
    snprintf(other, sizeof other, "%s/other", r.dir);
    const char *ids[] = {"e0", "e1", "e2"};
    EXPECT(transport_curve_keygen_dir(keys, ids, 2) == 0 && transport_curve_keygen_dir(other, ids + 2, 1) == 0, "keygen");
    /* e2 knows the broker's public key but its own key is in no authorized_keys: ZAP refuses it */
    char src[PATH_SIZE + 16], dst[PATH_SIZE + 16]; /* + "/server.pub" */
    snprintf(src, sizeof src, "%s/server.pub", keys);
    snprintf(dst, sizeof dst, "%s/server.pub", other);
    char *pub = test_read_text(src);
    FILE *f = fopen(dst, "w");
    EXPECT(pub && f && fputs(pub, f) >= 0, "copy %s", src);
    if (f) fclose(f);
    free(pub);
    char *bargs[ARGS_MAX] = {"serve-cloud", "--workers", "2", "--listen", r.ep, "--curve-keys", keys, "--profile",
                             "data/samples/serve_profile.json", "--threshold", "0.085", "--sr", "x2=bilinear,x4=bilinear",
                             "--csv", r.bcsv, "--duration", "90", "--edges", "2", NULL};
    r.broker = spawn_rune(r.blog, bargs);
    EXPECT(read_worker_pids(&r, 60), "the broker started 2 workers and listens");
    for (int i = 0; i < 3; i++) {
        char *args[ARGS_MAX] = {"serve-edge", "--connect", r.ep, "--id", r.eid[i], "--curve-keys", i < 2 ? keys : other,
                                "--frames", "data/samples/camvid", "--dataset", "frames", "--fps", "4", "--loop",
                                "--max-frames", "48", "--csv", r.ecsv[i], "--wait-cloud", "10", "--linger", "5", NULL};
        r.edge[i] = spawn_rune(r.elog[i], args);
    }
    int re[3];
    for (int i = 0; i < 3; i++) re[i] = wait_bounded(r.edge[i], 60);
    int rb = wait_bounded(r.broker, 45);
    EXPECT(rb == 0, "broker exit %d", rb);
    for (int i = 0; i < 2; i++) {
        EXPECT(re[i] == 0, "edge %s (authorized) exit %d", r.eid[i], re[i]);
        int n0 = csv_count(r.wcsv[0], COL_EDGE, r.eid[i]), n1 = csv_count(r.wcsv[1], COL_EDGE, r.eid[i]);
        EXPECT((n0 > 0) != (n1 > 0), "edge %s: rows in w0 %d, w1 %d: want exactly one", r.eid[i], n0, n1);
    }
    int n0 = csv_count(r.wcsv[0], COL_EDGE, "e2"), n1 = csv_count(r.wcsv[1], COL_EDGE, "e2");
    EXPECT((re[2] == 3 || re[2] == 4) && n0 == 0 && n1 == 0, "edge e2 (unknown key): exit %d, rows in w0 %d, w1 %d", re[2], n0, n1);
    char *log = test_read_text(r.blog);
    EXPECT(log && strstr(log, "CURVE refusals ") && !strstr(log, "CURVE refusals 0)"), "the broker counts the refused key");
    free(log);
    reap_all(&r);
}
