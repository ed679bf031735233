/* test_serve_edge_source.c: serve-edge --source — a video made here paced by its timestamps or as fast as it goes, a folder, a truncated video, bad flags, and a real serve-edge -> serve-cloud run on loopback that sends every frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/edge.h"
#include "tests/rune_exec.h"
#include "tests/serve_harness.h"
#include "tests/test.h"
#include "tests/video_fixture.h"
#include "util/err.h"

#define MAX_ROWS 64

typedef struct Row {
    long long fid, capture_us;
    int src;
    char frame[64], status[16], reason[16];
} Row;

/* The edge CSV's frame rows (columns of EDGE_CSV_HEADER; "unconfirmed" second rows left out). */
static int read_rows(const char *path, Row *rows) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    if (!fgets(line, sizeof line, f)) n = -1;
    while (n >= 0 && n < MAX_ROWS && fgets(line, sizeof line, f)) {
        char *fld[32];
        int nf = 0;
        for (char *p = line, *q; nf < 32; p = q + 1) {
            fld[nf++] = p;
            if (!(q = strchr(p, ','))) break;
            *q = 0;
        }
        if (nf < 14 || !strcmp(fld[5], "unconfirmed")) continue;
        Row *r = &rows[n++];
        r->fid = atoll(fld[1]), r->src = atoi(fld[2]), r->capture_us = atoll(fld[13]);
        snprintf(r->frame, sizeof r->frame, "%s", fld[3]);
        snprintf(r->status, sizeof r->status, "%s", fld[5]);
        snprintf(r->reason, sizeof r->reason, "%s", fld[6]);
    }
    fclose(f);
    return n;
}

/* DIR/NAME: the 4 sample frames twice (8 frames) encoded losslessly at fps. */
static const char *make_clip(const char *dir, const char *name, int fps) {
    static char path[4][600];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, 600, "%s/%s", dir, name);
    Image fr[VIDEO_FIXTURE_SAMPLES];
    if (!video_fixture_samples(fr)) SKIP("no sample frames");
    if (video_fixture_write(p, "ffv1", fr, VIDEO_FIXTURE_SAMPLES, 8, fps) < 0) SKIP(rn_errmsg());
    for (int i = 0; i < VIDEO_FIXTURE_SAMPLES; i++) image_free(&fr[i]);
    return p;
}

/* An edge with no cloud (every frame dropped as no_link at once, so nothing queues): the CSV's rows. */
static int run_no_cloud(const char *source, int pace, double fps, const char *csv, Row *rows, int *rc) {
    EdgeOpts o;
    edge_opts_default(&o);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", test_port() + 7); /* nothing listens there */
    o.connect = ep, o.source = source, o.pace = pace, o.fps = fps, o.csv = csv;
    o.quiet = true, o.wait_cloud = 0, o.linger = 0;
    EdgeSummary s;
    *rc = edge_run(&o, &s);
    return read_rows(csv, rows);
}

/* --pace stream: frame k of a 10 fps video is captured exactly 100 ms after frame k-1, named and
 * indexed by its number in the video; a folder plays at --fps with its file names. */
TEST(edge_source_stream_pace_follows_timestamps) {
    const char *dir = test_temp_dir("src");
    const char *clip = make_clip(dir, "clip.mkv", 10);
    char csv[700];
    snprintf(csv, sizeof csv, "%s/edge.csv", dir);
    Row r[MAX_ROWS];
    int rc, n = run_no_cloud(clip, EDGE_PACE_STREAM, 30, csv, r, &rc);
    EXPECT(n == 8, "%d rows for 8 frames (edge_run %d: %s)", n, rc, rn_errmsg());
    for (int k = 0; k < n; k++) {
        char want[32];
        snprintf(want, sizeof want, "clip.mkv#%d", k);
        EXPECT(r[k].fid == k && r[k].src == k && !strcmp(r[k].frame, want), "row %d: frame %lld, src %d, %s", k, r[k].fid,
               r[k].src, r[k].frame);
        EXPECT(r[k].capture_us - r[0].capture_us == 100000LL * k, "frame %d captured %lld us after frame 0", k,
               r[k].capture_us - r[0].capture_us);
    }
    n = run_no_cloud("data/samples/camvid", EDGE_PACE_STREAM, 4, csv, r, &rc);
    EXPECT(n == 4 && !strcmp(r[1].frame, "Seq05VD_f00030.png") && r[3].src == 3 && r[3].capture_us - r[0].capture_us == 750000,
           "folder: %d rows, frame 1 %s, frame 3 src %d at %lld us", n, n > 1 ? r[1].frame : "", n > 3 ? r[3].src : -1,
           n > 3 ? r[3].capture_us - r[0].capture_us : -1);
}

/* --pace fast: a 2 fps video (3.5 s from first to last frame when paced) goes through in well
 * under that, every frame in order. */
TEST(edge_source_fast_pace_does_not_wait) {
    const char *dir = test_temp_dir("src");
    const char *clip = make_clip(dir, "slow.mkv", 2);
    char csv[700];
    snprintf(csv, sizeof csv, "%s/edge.csv", dir);
    Row r[MAX_ROWS];
    int rc, n = run_no_cloud(clip, EDGE_PACE_FAST, 30, csv, r, &rc);
    EXPECT(n == 8, "%d rows for 8 frames", n);
    long long span = n == 8 ? r[7].capture_us - r[0].capture_us : -1;
    EXPECT(span >= 0 && span < 1500000, "frames 0..7 captured over %lld us (paced: 3500000)", span);
    for (int k = 0; k < n; k++) EXPECT(r[k].src == k, "row %d is frame %d", k, r[k].src);
}

/* A video that breaks off midway: the frames before the cut are captured, then the edge stops with
 * the reader's error (serve-edge exits 1 with it). */
TEST(edge_source_truncated_video_ends_the_run_with_its_error) {
    const char *dir = test_temp_dir("src");
    const char *clip = make_clip(dir, "cut.mkv", 10);
    EXPECT(video_fixture_truncate(clip, video_fixture_size(clip) * 6 / 10) == 0, "%s", rn_errmsg());
    char csv[700];
    snprintf(csv, sizeof csv, "%s/edge.csv", dir);
    Row r[MAX_ROWS];
    int rc, n = run_no_cloud(clip, EDGE_PACE_STREAM, 30, csv, r, &rc);
    EXPECT(rc < 0 && strstr(rn_errmsg(), "truncated") && strstr(rn_errmsg(), "cut.mkv"), "edge_run %d: %s", rc, rn_errmsg());
    EXPECT(n >= 1 && n < 8, "%d frames captured before the cut", n);
}

TEST(edge_source_cli_refusals) {
    static char out[8192];
    const char *bad[][2] = {
        {"--frames data/samples/camvid --source data/samples/camvid", "give one"},
        {"--source data/samples/camvid --seq Seq05VD", "--seq"},
        {"--source data/samples/camvid --pace slow", "--pace slow"},
        {"--source data/samples/camvid --size 480", "--size 480"},
        {"--source data/samples/camvid --size 0x360", "--size 0x360"},
    };
    char args[512];
    for (int i = 0; i < 5; i++) {
        snprintf(args, sizeof args, "serve-edge --connect tcp://127.0.0.1:1 %s", bad[i][0]);
        EXPECT(rune_exec(args, out, sizeof out) == 2 && strstr(out, bad[i][1]), "%s: %s", args, out);
    }
    EXPECT(rune_exec("serve-edge --connect tcp://127.0.0.1:1", out, sizeof out) == 2 && strstr(out, "--source"),
           "neither --frames nor --source: %s", out);
    EXPECT(rune_exec("serve-edge --connect tcp://127.0.0.1:1 --source /nonexistent/clip.mp4", out, sizeof out) == 1 &&
               strstr(out, "/nonexistent/clip.mp4: no such file"),
           "missing video: %s", out);
}

/* "0:sent 1:dropped/edge_busy ..." for a failure message. */
static const char *statuses(const Row *r, int n) {
    static char buf[1024];
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < n && len < sizeof buf - 64; k++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%d:%s%s%s ", r[k].src, r[k].status, r[k].reason[0] ? "/" : "",
                                r[k].reason);
    return buf;
}

/* The whole loop for real: rune serve-edge --source clip.mkv --size 240x180 against rune serve-cloud on
 * loopback. Every frame is sent, in order, at the asked size (the cloud's HELLO line), and the cloud
 * has a row for each (processed, or stale when it was busy). The clip plays at 2 fps: the cloud's
 * inference shares the test machine's cores, and an edge starved past max(2 / fps, 0.1 s) behind its
 * clock drops frames as edge_busy, rightly, but this test is about the source. */
TEST(edge_source_video_to_cloud_every_frame_sent) {
    if (access("weights/espnet_camvid.h5", R_OK)) SKIP("weights/ not here");
    const char *dir = test_temp_dir("src_loop");
    const char *clip = make_clip(dir, "clip.mkv", 2);
    char ccsv[700], ecsv[700], clog[700], elog[700], ep[64];
    snprintf(ccsv, sizeof ccsv, "%s/cloud.csv", dir), snprintf(ecsv, sizeof ecsv, "%s/edge.csv", dir);
    snprintf(clog, sizeof clog, "%s/cloud.log", dir), snprintf(elog, sizeof elog, "%s/edge.log", dir);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", test_port() + 9);
    char *cargs[] = {"serve-cloud", "--listen", ep, "--profile", "data/samples/serve_profile.json", "--threshold", "0.085",
                     "--sr", "x2=bilinear,x4=bilinear", "--csv", ccsv, "--edges", "1", "--duration", "120", NULL};
    char *eargs[] = {"serve-edge", "--connect", ep, "--id", "cam", "--source", (char *)clip, "--size", "240x180",
                     "--deadline-ms", "0", "--csv", ecsv, "--wait-cloud", "60", "--linger", "10", NULL};
    pid_t pc = spawn_rune(clog, cargs);
    pid_t pe = spawn_rune(elog, eargs);
    int re = wait_bounded(pe, 120), rc = wait_bounded(pc, 60);
    char *cl = test_read_text(clog), *el = test_read_text(elog);
    EXPECT(re == 0 && rc == 0, "edge exit %d, cloud exit %d; edge log:\n%s\ncloud log:\n%s", re, rc, el ? el : "", cl ? cl : "");
    EXPECT(el && strstr(el, "clip.mkv 240x180, ~8 frames at 2 fps, paced by its timestamps"), "edge log:\n%s", el ? el : "");
    EXPECT(cl && strstr(cl, "edge cam hello: 240x180 at 2 fps, 8 frames"), "cloud log:\n%s", cl ? cl : "");
    free(cl), free(el);
    Row r[MAX_ROWS];
    int n = read_rows(ecsv, r), sent = csv_count(ecsv, 5, "sent");
    EXPECT(n == 8 && sent == 8, "edge: %d rows, %d sent of 8 frames: %s", n, sent, statuses(r, n > 0 ? n : 0));
    for (int k = 0; k < n; k++) EXPECT(r[k].src == k, "row %d carries src_index %d", k, r[k].src);
    int got = csv_count(ccsv, 0, NULL), proc = csv_count(ccsv, 34, "processed"), stale = csv_count(ccsv, 34, "stale");
    EXPECT(got == 8 && proc + stale == 8 && proc >= 1, "cloud rows %d (processed %d, stale %d)", got, proc, stale);
}
