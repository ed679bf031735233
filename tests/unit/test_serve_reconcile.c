/* test_serve_reconcile.c: every frame accounted for — the edge's ledger of unconfirmed frames, `rune serve-reconcile` on
 * hand-written CSVs (summary rows, malformed input), and real cloud + edge processes under faults (SIGSTOP, SIGTERM, SIGKILL). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serve/confirm.h"
#include "serve/reconcile.h"
#include "tests/rune_exec.h"
#include "tests/serve_harness.h"
#include "tests/test.h"
#include "util/err.h"
#include "util/progress.h"

#define PORT_OFFSET 451 /* + 0..3: one port per scenario */
#define PATH_SIZE 600
#define CMD_SIZE 2400
#define OUT_SIZE 8192
#define ARGS_MAX 48

/* Splits line at commas in place into fld[cap] (empty fields kept); the field count. */
static int split_fields(char *line, char **fld, int cap) {
    int n = 0;
    for (char *p = line; p && n < cap;) {
        fld[n++] = p;
        p = strchr(p, ',');
        if (p) *p++ = 0;
    }
    return n;
}

/* ---------------- the ledger ---------------- */

static ConfirmEntry entry(uint64_t fid, bool probe, long long gen) {
    return (ConfirmEntry){.fid = fid, .probe = probe, .gen = gen};
}

static void sent(Confirm *c, uint64_t fid, bool probe, long long gen) {
    ConfirmEntry e = entry(fid, probe, gen), ev;
    EXPECT(!confirm_sent(c, &e, &ev), "frame %llu: nothing evicted", (unsigned long long)fid);
}

TEST(reconcile_confirm_ledger) {
    Confirm c;
    confirm_init(&c);
    for (uint64_t f = 0; f < 5; f++) sent(&c, f, false, 1);
    sent(&c, 4, true, 1); /* a probe of frame 4 leaves after it */
    EXPECT(confirm_ack(&c, 2) == 3 && c.count == 3, "feedback for 2 confirms 0..2: %d left", c.count);
    EXPECT(confirm_ack(&c, 1) == 0, "older feedback confirms nothing more");
    EXPECT(confirm_ack(&c, 4) == 2 && c.count == 1, "feedback for 4 confirms 3, 4 but not probe 4: %d left", c.count);
    ConfirmEntry out;
    EXPECT(!confirm_take_before(&c, 1, &out), "nothing of a generation before 1");
    sent(&c, 5, false, 2); /* the link came back: generation 2 */
    EXPECT(confirm_take_before(&c, 2, &out) && out.fid == 4 && out.probe, "probe 4 of generation 1 given up");
    EXPECT(!confirm_take_before(&c, 2, &out), "frame 5 is of generation 2");
    EXPECT(confirm_take_before(&c, CONFIRM_ALL_GENS, &out) && out.fid == 5 && c.count == 0, "at the end: everything");
    /* past CONFIRM_MAX the oldest is given up at once; the ring keeps send order across its growth */
    ConfirmEntry ev = {0};
    int evicted = 0;
    for (uint64_t f = 0; f < CONFIRM_MAX + 3; f++) {
        ConfirmEntry e = entry(100 + f, false, 3);
        if (confirm_sent(&c, &e, &ev)) {
            EXPECT(ev.fid == 100 + (uint64_t)evicted, "evicted in order: %llu", (unsigned long long)ev.fid);
            evicted++;
        }
    }
    EXPECT(evicted == 3 && c.count == CONFIRM_MAX, "%d evicted, %d kept", evicted, c.count);
    EXPECT(confirm_ack(&c, 100 + 10) == 8, "ack after wrap-around");
    confirm_free(&c);
}

/* ---------------- hand-written CSVs ---------------- */

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    EXPECT(f, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Columns in another order than the real headers, and extra ones: read by name. Edge e1 sent frames
 * 0..9 (+ probe 4); e2 sent 0..1. Cloud: processed 0, 1, probe 4; stale 2; a stale_summary standing for
 * 4 frames up to frame 6 (3, 4, 5, 6: probe 4 has its own row); 7 refused; 8 missing but marked
 * unconfirmed by the edge; 9 missing and unmarked: UNACCOUNTED. e2: 0 processed, 1 unmarked missing;
 * e9 is not in the edge CSV. */
static const char *EDGE_TXT =
    "status,frame_id,kind,probe,edge,reason\n"
    "sent,0,frame,0,e1,\n" "sent,1,frame,0,e1,\n" "sent,2,frame,0,e1,\n" "sent,3,frame,0,e1,\n"
    "sent,4,frame,0,e1,\n" "sent,4,probe,1,e1,\n" "sent,5,frame,0,e1,\n" "sent,6,frame,0,e1,\n"
    "sent,7,frame,0,e1,\n" "sent,8,frame,0,e1,\n" "sent,9,frame,0,e1,\n" "dropped,10,frame,0,e1,deadline\n"
    "unconfirmed,8,frame,0,e1,link_lost\n" "sent,0,frame,0,e2,\n" "sent,1,frame,0,e2,\n" "skipped,2,frame,0,e2,skip\n";
static const char *CLOUD_TXT =
    "edge,bytes,frame_id,probe,reason,status\n"
    "e1,10,0,0,start,processed\n" "e1,10,1,0,none,processed\n" "e1,10,2,0,none,stale\n" "e1,10,4,1,policy,processed\n"
    "e1,40,6,,4,stale_summary\n" "e1,10,7,0,too_large,refused\n" "e2,10,0,0,start,processed\n" "e9,10,0,0,none,processed\n";

TEST(reconcile_hand_written_csvs_with_summary_rows) {
    const char *dir = test_temp_dir("recon_hand");
    char ecsv[PATH_SIZE], ccsv[PATH_SIZE], json[PATH_SIZE], cmd[CMD_SIZE], out[OUT_SIZE];
    snprintf(ecsv, sizeof ecsv, "%s/edge.csv", dir);
    snprintf(ccsv, sizeof ccsv, "%s/cloud.csv", dir);
    snprintf(json, sizeof json, "%s/r.json", dir);
    write_file(ecsv, EDGE_TXT);
    write_file(ccsv, CLOUD_TXT);
    RecResult r;
    const char *clouds[] = {ccsv};
    EXPECT(reconcile_files(ecsv, clouds, 1, &r) == 0, "%s", rn_errmsg());
    EXPECT(r.nedges == 2 && r.other_rows == 1 && r.unaccounted == 2, "%d edges, %lld other rows, %lld unaccounted", r.nedges,
           r.other_rows, r.unaccounted);
    if (r.nedges == 2) {
        const RecEdge *a = &r.edges[0], *b = &r.edges[1];
        EXPECT(a->sent == 11 && a->n[REC_PROCESSED] == 3 && a->n[REC_STALE] == 1 && a->n[REC_SUMMARY] == 4 &&
                   a->n[REC_REFUSED] == 1 && a->n[REC_UNCONFIRMED] == 1 && a->n[REC_UNACCOUNTED] == 1,
               "e1: sent %lld processed %lld stale %lld summarised %lld refused %lld unconfirmed %lld unaccounted %lld", a->sent,
               a->n[REC_PROCESSED], a->n[REC_STALE], a->n[REC_SUMMARY], a->n[REC_REFUSED], a->n[REC_UNCONFIRMED],
               a->n[REC_UNACCOUNTED]);
        EXPECT(a->nlisted == 1 && a->unaccounted[0].fid == 9, "e1's unaccounted frame is 9");
        EXPECT(b->sent == 2 && b->n[REC_PROCESSED] == 1 && b->nlisted == 1 && b->unaccounted[0].fid == 1, "e2");
    }
    reconcile_free(&r);
    /* the command: exit 1 naming the frames; with the summary covering one more frame (9 <= 10) and
     * e2's frame 1 processed, exit 0 */
    snprintf(cmd, sizeof cmd, "serve-reconcile %s %s --json %s", ecsv, ccsv, json);
    int rc = rune_exec(cmd, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "edge e1: 1 UNACCOUNTED") && strstr(out, "frame 9") && strstr(out, "edge e2: 1 UNACCOUNTED"),
           "rc %d:\n%s", rc, out);
    char *js = test_read_text(json);
    EXPECT(js && strstr(js, "\"unaccounted\": 2") && strstr(js, "{\"frame_id\": 9, \"probe\": 0}"), "json:\n%s", js ? js : "");
    free(js);
    char more[PATH_SIZE];
    snprintf(more, sizeof more, "%s/cloud2.csv", dir);
    write_file(more, "status,frame_id,edge,probe,reason\nstale_summary,10,e1,,1\nprocessed,1,e2,0,none\n");
    snprintf(cmd, sizeof cmd, "serve-reconcile %s %s %s", ecsv, ccsv, more);
    rc = rune_exec(cmd, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "every sent frame is accounted for"), "rc %d:\n%s", rc, out);
}

/* A summary row cannot stand for frames after its frame id, nor for more frames than its count. */
TEST(reconcile_summary_rows_cover_only_what_they_say) {
    const char *dir = test_temp_dir("recon_sum");
    char ecsv[PATH_SIZE], ccsv[PATH_SIZE];
    snprintf(ecsv, sizeof ecsv, "%s/edge.csv", dir);
    snprintf(ccsv, sizeof ccsv, "%s/cloud.csv", dir);
    write_file(ecsv, "edge,frame_id,probe,status\ne,1,0,sent\ne,2,0,sent\ne,3,0,sent\ne,4,0,sent\ne,4,1,sent\n");
    write_file(ccsv, "edge,frame_id,probe,status,reason\ne,2,,stale_summary,5\ne,4,,refused_summary,1\n");
    RecResult r;
    const char *clouds[] = {ccsv};
    EXPECT(reconcile_files(ecsv, clouds, 1, &r) == 0, "%s", rn_errmsg());
    EXPECT(r.nedges == 1 && r.edges[0].n[REC_SUMMARY] == 3 && r.unaccounted == 2, "summarised %lld, unaccounted %lld",
           r.nedges ? r.edges[0].n[REC_SUMMARY] : -1, r.unaccounted);
    reconcile_free(&r);
}

/* Malformed input: a clear error naming the file and line (exit 2), never a crash. */
TEST(reconcile_malformed_csvs) {
    const char *dir = test_temp_dir("recon_bad");
    char ecsv[PATH_SIZE], ccsv[PATH_SIZE], cmd[CMD_SIZE], out[OUT_SIZE];
    snprintf(ecsv, sizeof ecsv, "%s/edge.csv", dir);
    snprintf(ccsv, sizeof ccsv, "%s/cloud.csv", dir);
    const char *good_edge = "edge,frame_id,probe,status\ne,1,0,sent\n", *good_cloud = "edge,frame_id,probe,status,reason\n";
    struct {
        const char *edge, *cloud, *want;
    } cases[] = {
        {"edge,frame_id,status\ne,1,sent\n", good_cloud, "no column \"probe\""},
        {"edge,frame_id,probe,status\ne,1,0\n", good_cloud, ":2: 3 fields, the header has 4"},
        {"edge,frame_id,probe,status\ne,1,0,sent,x\n", good_cloud, ":2: 5 fields"},
        {"edge,frame_id,probe,status\ne,x1,0,sent\n", good_cloud, "frame_id \"x1\" is not a frame number"},
        {"edge,frame_id,probe,status\ne,-1,0,sent\n", good_cloud, "frame_id \"-1\""},
        {"edge,frame_id,probe,status\ne,1,2,sent\n", good_cloud, "probe \"2\" is not 0 or 1"},
        {"edge,frame_id,probe,status\ne,1,0,lost\n", good_cloud, "status \"lost\""},
        {"edge,frame_id,probe,status\nbad id!,1,0,sent\n", good_cloud, "is not an edge id"},
        {"edge,frame_id,probe,status\ne,1,0,sent\ne,1,0,sent\n", good_cloud, "sent frame 1 twice"},
        {"edge,frame_id,probe,status\ne,1,0,unconfirmed\n", good_cloud, "has no sent row"},
        {"", good_cloud, "empty"},
        {good_edge, "edge,frame_id,probe,status\n", "no column \"reason\""},
        {good_edge, "edge,frame_id,probe,status,reason\ne,1,0,gone,none\n", "status \"gone\""},
        {good_edge, "edge,frame_id,probe,status,reason\ne,1,,stale_summary,many\n", "not a count of frames"},
        {good_edge, "edge,frame_id,probe,status,reason\ne,1,,stale_summary,0\n", "not a count of frames"},
        {good_edge, "edge,frame_id,probe,status,reason\ne,1,,processed,none\n", "probe \"\" is not 0 or 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(ecsv, cases[i].edge);
        write_file(ccsv, cases[i].cloud);
        RecResult r;
        const char *clouds[] = {ccsv};
        int rc = reconcile_files(ecsv, clouds, 1, &r);
        EXPECT(rc == -1 && strstr(rn_errmsg(), cases[i].want), "case %zu: rc %d, message \"%s\", want \"%s\"", i, rc,
               rc ? rn_errmsg() : "", cases[i].want);
        if (rc == 0) reconcile_free(&r);
    }
    snprintf(cmd, sizeof cmd, "serve-reconcile %s %s", ecsv, ccsv);
    int rc = rune_exec(cmd, out, sizeof out);
    EXPECT(rc == 2 && strstr(out, "rune serve-reconcile:") && strstr(out, "cloud.csv:2"), "rc %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "serve-reconcile %s", ecsv);
    rc = rune_exec(cmd, out, sizeof out);
    EXPECT(rc == 2, "one file only: usage error, rc %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "serve-reconcile %s %s/missing.csv", ecsv, dir);
    rc = rune_exec(cmd, out, sizeof out);
    EXPECT(rc == 2 && strstr(out, "missing.csv"), "a missing file: rc %d:\n%s", rc, out);
}

/* ---------------- the edge marks what no FEEDBACK confirmed (a scripted cloud) ---------------- */

#define SC_FRAMES 30
#define SC_ANSWER_UNTIL 9    /* frames 0..9 answered one by one */
#define SC_CLOSE_AT 14       /* 10..14 received, unanswered, then the cloud goes away and comes back */
#define SC_SILENT_FROM 25    /* from 25 on, received and never answered */

typedef struct EdgeMark {
    bool sent;
    char unconfirmed[16]; /* the reason of its unconfirmed row ("" none) */
} EdgeMark;

/* Reads the edge CSV's sent and unconfirmed rows of regular frames into marks[SC_FRAMES]. */
static void read_marks(const char *path, EdgeMark *marks) {
    memset(marks, 0, SC_FRAMES * sizeof *marks);
    char *text = test_read_text(path), *save = NULL;
    EXPECT(text, "edge CSV %s", path);
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        char *fld[32];
        int nf = split_fields(line, fld, 32);
        if (nf < 12 || !strcmp(fld[0], "edge") || strcmp(fld[11], "0")) continue; /* header; probes */
        long fid = atol(fld[1]);
        if (fid < 0 || fid >= SC_FRAMES) continue;
        if (!strcmp(fld[5], "sent")) marks[fid].sent = true;
        if (!strcmp(fld[5], "unconfirmed")) snprintf(marks[fid].unconfirmed, sizeof marks[fid].unconfirmed, "%s", fld[6]);
    }
    free(text);
}

static Transport *bind_cloud(const char *ep) {
    TransportOpts co = {.endpoint = ep, .quiet = true};
    Transport *c = transport_cloud_open(&co);
    EXPECT(c, "scripted cloud at %s: %s", ep, rn_errmsg());
    return c;
}

static void answer(Transport *c, uint64_t fid, int reason) {
    WireMsg m = {.type = WIRE_FEEDBACK, .edge_id = "robot"};
    m.u.feedback = (WireFeedback){.last_frame_id = fid, .cloud_us = wire_now_us(), .next = {4, 30, 0, 0},
                                  .probe = {1, 90, 0, WIRE_CFG_PROBE}, .reason = reason};
    transport_send(c, "robot", &m);
}

/* Plays the cloud: answers 0..SC_ANSWER_UNTIL, goes away after SC_CLOSE_AT and comes back, answers
 * again, falls silent from SC_SILENT_FROM. false when it could not rebind. */
static bool script_cloud(Transport **c, const char *ep) {
    bool bye = false, closed = false;
    double end = now_seconds() + 30;
    while (now_seconds() < end && !bye) {
        TransportRecv r;
        if (transport_recv(*c, 50, &r) != 1) continue;
        bye = r.msg.type == WIRE_BYE;
        if (r.msg.type == WIRE_HELLO) answer(*c, 0, WIRE_REASON_START); /* names frame 0, confirms nothing */
        if (r.msg.type != WIRE_FRAME) continue;
        uint64_t fid = r.msg.u.frame.frame_id;
        if (fid <= SC_ANSWER_UNTIL || (closed && fid < SC_SILENT_FROM)) answer(*c, fid, WIRE_REASON_FIXED);
        if (fid >= SC_CLOSE_AT && !closed) {
            closed = true;
            transport_close(*c);
            usleep(500000);
            if (!(*c = bind_cloud(ep))) return false;
        }
    }
    EXPECT(bye, "the edge said BYE");
    return true;
}

TEST(reconcile_edge_marks_unconfirmed_frames) {
    const char *dir = test_temp_dir("recon_mark");
    char ep[64], csv[PATH_SIZE], log[PATH_SIZE], fr[16];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", test_port() + PORT_OFFSET + 4);
    snprintf(csv, sizeof csv, "%s/edge.csv", dir);
    snprintf(log, sizeof log, "%s/edge.log", dir);
    snprintf(fr, sizeof fr, "%d", SC_FRAMES);
    Transport *c = bind_cloud(ep);
    if (!c) return;
    char *args[ARGS_MAX] = {"serve-edge", "--connect", ep, "--id", "robot", "--frames", "data/samples/camvid", "--loop",
                            "--fps", "10", "--max-frames", fr, "--csv", csv, "--wait-cloud", "10", "--linger", "1", NULL};
    pid_t pid = spawn_rune(log, args);
    bool ok = script_cloud(&c, ep);
    int rc = wait_bounded(pid, 20);
    if (c) transport_close(c);
    if (!ok) return;
    EXPECT(rc == 0, "edge exit %d", rc);
    EdgeMark m[SC_FRAMES];
    read_marks(csv, m);
    int lost = 0, silent = 0;
    for (int f = 0; f < SC_FRAMES; f++) {
        const char *u = m[f].unconfirmed;
        if (f <= SC_ANSWER_UNTIL) EXPECT(m[f].sent && !*u, "frame %d: answered, not unconfirmed (\"%s\")", f, u);
        if (f > SC_ANSWER_UNTIL && f <= SC_CLOSE_AT)
            EXPECT(!m[f].sent || !strcmp(u, "link_lost"), "frame %d: sent before the cloud went away: link_lost, got \"%s\"", f, u);
        if (f >= SC_SILENT_FROM) EXPECT(!m[f].sent || !strcmp(u, "no_answer"), "frame %d: never answered: no_answer, got \"%s\"", f, u);
        EXPECT(m[f].sent || !*u, "frame %d: unconfirmed but never sent", f);
        lost += !strcmp(u, "link_lost");
        silent += !strcmp(u, "no_answer");
    }
    EXPECT(lost >= SC_CLOSE_AT - SC_ANSWER_UNTIL && silent >= 1, "%d link_lost, %d no_answer", lost, silent);
    char *lg = test_read_text(log);
    EXPECT(lg && strstr(lg, "sent frames unconfirmed: may be lost in flight"), "the summary says so:\n%s", lg ? lg : "");
    free(lg);
}

/* ---------------- real processes under faults ---------------- */

typedef struct Run {
    const char *dir;
    char ep[64], ecsv[PATH_SIZE], elog[PATH_SIZE];
    char ccsv[2][PATH_SIZE], clog[2][PATH_SIZE];
    pid_t edge, cloud;
} Run;

static void run_init(Run *r, const char *tag, int port_k) {
    memset(r, 0, sizeof *r);
    r->dir = test_temp_dir(tag);
    snprintf(r->ep, sizeof r->ep, "tcp://127.0.0.1:%d", test_port() + PORT_OFFSET + port_k);
    snprintf(r->ecsv, sizeof r->ecsv, "%s/edge.csv", r->dir);
    snprintf(r->elog, sizeof r->elog, "%s/edge.log", r->dir);
    for (int i = 0; i < 2; i++) {
        snprintf(r->ccsv[i], sizeof r->ccsv[i], "%s/cloud%d.csv", r->dir, i + 1);
        snprintf(r->clog[i], sizeof r->clog[i], "%s/cloud%d.log", r->dir, i + 1);
    }
}

/* The i-th cloud (0 or 1); `edges`: stop after that edge's BYE. */
static pid_t start_cloud(Run *r, int i, bool edges) {
    char *args[ARGS_MAX] = {"serve-cloud", "--listen", r->ep, "--profile", "data/samples/serve_profile.json", "--threshold",
                            "0.085", "--sr", "x2=bilinear,x4=bilinear", "--csv", r->ccsv[i], "--duration", "40", "--quiet",
                            edges ? "--edges" : NULL, "1", NULL};
    return r->cloud = spawn_rune(r->clog[i], args);
}

/* fps 8: faster than the cloud segments (~0.5 s a frame here), so a frame always waits in its slot or on the socket */
static pid_t start_edge(Run *r, const char *frames) {
    char *args[ARGS_MAX] = {"serve-edge", "--connect", r->ep, "--id", "robot", "--frames", "data/samples/camvid", "--dataset",
                            "frames", "--fps", "8", "--loop", "--max-frames", (char *)frames, "--csv", r->ecsv,
                            "--wait-cloud", "20", "--linger", "2", NULL};
    return r->edge = spawn_rune(r->elog, args);
}

/* Waits (at most 20 s) until the cloud CSV has n processed rows. */
static bool wait_processed(const char *csv, int n) {
    double t0 = now_seconds();
    while (csv_count(csv, 34, "processed") < n && now_seconds() - t0 < 20) usleep(50000);
    return csv_count(csv, 34, "processed") >= n;
}

static void reap(pid_t *pid, double seconds) {
    if (*pid > 0) wait_bounded(*pid, seconds);
    *pid = 0;
}

/* serve-reconcile over the edge CSV and ncloud cloud CSVs: exit 0 expected; the table is reported either way. */
static void expect_reconciled(const Run *r, int ncloud, const char *what) {
    char cmd[CMD_SIZE], out[OUT_SIZE];
    snprintf(cmd, sizeof cmd, "serve-reconcile %s %s %s", r->ecsv, r->ccsv[0], ncloud > 1 ? r->ccsv[1] : "");
    int rc = rune_exec(cmd, out, sizeof out);
    char *el = test_read_text(r->elog);
    const char *tail = el && strlen(el) > 1500 ? el + strlen(el) - 1500 : el;
    EXPECT(rc == 0, "%s: serve-reconcile exit %d:\n%s\nedge log (end):\n%s", what, rc, out, tail ? tail : "");
    fprintf(stderr, "%s:\n%s", what, out);
    free(el);
}

/* (a) nothing goes wrong: every sent frame is in the cloud's CSV. */
TEST(reconcile_scenario_normal_run) {
    Run r;
    run_init(&r, "recon_a", 0);
    start_cloud(&r, 0, true);
    start_edge(&r, "24");
    int re = wait_bounded(r.edge, 40), rc = wait_bounded(r.cloud, 30);
    EXPECT(re == 0 && rc == 0, "edge exit %d, cloud exit %d", re, rc);
    expect_reconciled(&r, 1, "normal run");
}

/* (b) the cloud stopped (SIGSTOP) for 3 s mid-stream, then continued: frames queue towards it, the edge's
 * heartbeat (2 s) gives the link up and reconnects; what the old connection still held arrives under an id
 * libzmq generated (the ROUTER hands the edge's id to the new connection): the cloud takes it as the edge's
 * (it refused it as peer_mismatch before, and those frames were in no cloud CSV). */
TEST(reconcile_scenario_cloud_sigstop) {
    Run r;
    run_init(&r, "recon_b", 1);
    start_cloud(&r, 0, true);
    start_edge(&r, "48");
    EXPECT(wait_processed(r.ccsv[0], 3), "the cloud processed 3 frames");
    kill(r.cloud, SIGSTOP);
    usleep(3000000);
    kill(r.cloud, SIGCONT);
    int re = wait_bounded(r.edge, 40), rc = wait_bounded(r.cloud, 30);
    EXPECT(re == 0 && rc == 0, "edge exit %d, cloud exit %d", re, rc);
    expect_reconciled(&r, 1, "cloud SIGSTOP 3 s");
    /* what the old connection still held reached the cloud: booked as the edge's, not refused */
    char *log = test_read_text(r.clog[0]);
    EXPECT(log && strstr(log, "peer_mismatch 0,"), "the cloud refused in-flight frames as another peer's: %s",
           log && strstr(log, "peer_mismatch") ? strstr(log, "peer_mismatch") : "(no summary)");
    free(log);
}

/* (c) the cloud stopped (SIGTERM) while the edge streams; the edge goes on alone and ends. */
TEST(reconcile_scenario_cloud_sigterm) {
    Run r;
    run_init(&r, "recon_c", 2);
    start_cloud(&r, 0, false);
    start_edge(&r, "40");
    EXPECT(wait_processed(r.ccsv[0], 3), "the cloud processed 3 frames");
    kill(r.cloud, SIGTERM);
    int rc = wait_bounded(r.cloud, 10), re = wait_bounded(r.edge, 40);
    EXPECT(rc == 0 && re == 0, "cloud exit %d, edge exit %d", rc, re);
    expect_reconciled(&r, 1, "cloud SIGTERM mid-stream");
}

/* (d) the cloud killed (SIGKILL) and another started on the same port with a new CSV. It hangs (SIGSTOP)
 * for 1 s before the kill, so the frames sent meanwhile are surely in flight (in its socket) when it dies. */
TEST(reconcile_scenario_cloud_sigkill_restart) {
    Run r;
    run_init(&r, "recon_d", 3);
    start_cloud(&r, 0, false);
    start_edge(&r, "48");
    EXPECT(wait_processed(r.ccsv[0], 3), "the first cloud processed 3 frames");
    kill(r.cloud, SIGSTOP);
    usleep(1000000);
    kill(r.cloud, SIGKILL);
    reap(&r.cloud, 5);
    usleep(1000000);
    start_cloud(&r, 1, true);
    int re = wait_bounded(r.edge, 40), rc = wait_bounded(r.cloud, 30);
    EXPECT(re == 0 && rc == 0, "edge exit %d, second cloud exit %d", re, rc);
    expect_reconciled(&r, 2, "cloud SIGKILL + restart");
}
