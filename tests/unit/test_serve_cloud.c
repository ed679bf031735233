/* test_serve_cloud.c: a real `rune serve-cloud` process on loopback, driven by a scripted edge in the test (wire +
 * transport + degrade): HELLO, frames on a simulated 200 kbit/s link, FEEDBACK, CAC switching, malformed messages
 * counted, an edge that disappears freed, the per-frame CSV checked row by row. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/degrade.h"
#include "serve/cloud.h"
#include "serve/transport.h"
#include "tests/rune_exec.h"
#include "tests/serve_harness.h"
#include "tests/test.h"
#include "util/progress.h"

TEST(serve_cloud_loopback_cac) {
    if (access("weights/espnet_camvid.h5", R_OK) || access("weights/carn_m.h5", R_OK)) SKIP("weights/ not here");
    const char *dir = test_temp_dir("serve_cloud");
    char csv[512], log[512], ep[64], epc[64];
    snprintf(csv, sizeof csv, "%s/cloud.csv", dir), snprintf(log, sizeof log, "%s/cloud.log", dir);
    int port = test_port();
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port), snprintf(epc, sizeof epc, "tcp://127.0.0.1:%d", port);
    char *args[] = {"serve-cloud", "--listen", ep, "--profile", "data/samples/serve_profile.json", "--threshold", "0.085",
                    "--data", "data/samples/camvid", "--dataset", "camvid", "--split", "test", "--csv", csv,
                    "--edges", "1", "--duration", "120", "--edge-timeout", "3", NULL};
    pid_t cloud = spawn_rune(log, args);
    Dataset ds;
    EXPECT(dataset_open("camvid", "data/samples/camvid", "test", &ds) == 0, "samples");
    Transport *t = edge_connect(epc, "edgeA");
    EXPECT(t && transport_connected(t), "edge connected to the cloud");
    if (!t || !transport_connected(t)) {
        wait_bounded(cloud, 1);
        return;
    }
    /* garbage and a wrong-version message: counted, never a crash */
    EXPECT(transport_send_raw(t, NULL, "hello there, not a wire message", 31) == 0, "raw sent");
    uint8_t buf[256];
    WireMsg h = {.type = WIRE_HELLO};
    snprintf(h.edge_id, sizeof h.edge_id, "edgeA");
    h.u.hello = (WireHello){.hr_w = 480, .hr_h = 360, .fps = 2, .cfg = {.scale = 4, .quality = 30}, .frames = 4};
    long n = wire_encode(&h, buf, sizeof buf);
    EXPECT(n > 0, "encode");
    buf[4] = 99; /* version 99 */
    EXPECT(transport_send_raw(t, NULL, buf, (size_t)n) == 0, "raw v99 sent");

    send_hello(t, "edgeA", 2);
    WireFeedback fb = {0};
    EXPECT(wait_feedback(t, 0, 30, &fb) == 1, "feedback to hello");
    WireConfig cfg = fb.next;
    EXPECT(cfg.scale == 4 && cfg.quality == 30, "start: the smallest target's standard pick, x4 q30 (got x%d q%d)", cfg.scale, cfg.quality);
    const int N = 6;
    WireConfig sent[6];
    for (int i = 0; i < N; i++) {
        sent[i] = cfg;
        send_frame(t, "edgeA", &ds, (uint64_t)i, cfg, 200e3);
        EXPECT(wait_feedback(t, (uint64_t)i, 60, &fb) == 1, "feedback to frame %d", i);
        cfg = fb.next;
        /* 200 kbit/s at 2 fps = 100 kbit per frame, x 0.9 headroom: the 2 Mbps@30 fps target (66.7 kbit/frame) */
        EXPECT(fb.bw_kbps > 150 && fb.bw_kbps < 250, "estimate %u kbit/s from a 200 kbit/s link", fb.bw_kbps);
    }
    /* a ghost edge: one hello, then silence -> freed after --edge-timeout (3 s) while edgeA keeps
     * talking (a hello a second) */
    Transport *g = edge_connect(epc, "ghost");
    if (g) send_hello(g, "ghost", 2);
    for (int k = 0; k < 5; k++) {
        send_hello(t, "edgeA", 2);
        wait_feedback(t, UINT64_MAX, 1, &fb);
        usleep(900000);
    }
    WireMsg bye = {.type = WIRE_BYE};
    snprintf(bye.edge_id, sizeof bye.edge_id, "edgeA");
    bye.u.bye = (WireBye){.captured = N, .sent = N, .dropped = 0};
    EXPECT(transport_send(t, NULL, &bye) == 0, "bye");
    int rc = wait_bounded(cloud, 30);
    EXPECT(rc == 0, "cloud exits 0 after the bye (rc %d)", rc);
    transport_close(t);
    if (g) transport_close(g);
    dataset_free(&ds);

    char *text = test_read_text(csv), *lg = test_read_text(log);
    EXPECT(text != NULL, "csv written");
    if (!text || !lg) return;
    EXPECT(!strncmp(text, CLOUD_CSV_HEADER "\n", strlen(CLOUD_CSV_HEADER) + 1), "header");
    /* rows: edge,frame_id,src_index,controller,config,scale,quality,skip,tail_cfg,probe,bytes,... */
    int rows = 0, first_tail = -1, tail_after = -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "edge,", 5)) continue;
        char *f[48];
        int nf = 0;
        for (char *p = line; nf < 48;) {
            f[nf++] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = 0, p = c + 1;
        }
        EXPECT(nf == 42, "42 columns, got %d", nf);
        if (nf != 42) break;
        int id = atoi(f[1]);
        EXPECT(!strcmp(f[0], "edgeA") && id == rows, "row %d is edgeA frame %d", rows, id);
        EXPECT(atoi(f[5]) == sent[id].scale && atoi(f[6]) == sent[id].quality, "row %d config as sent", rows);
        EXPECT(!strcmp(f[34], "processed"), "status %s", f[34]);
        double acc_l = atof(f[28]), acc_h = atof(f[29]), ratio = atof(f[26]);
        EXPECT(acc_l > 0.1 && acc_l < 1 && acc_h > 0.1 && acc_h <= 1, "accuracies %g %g", acc_l, acc_h);
        EXPECT(ratio > 0 && ratio < 0.5, "ratio %g", ratio);
        EXPECT(atoi(f[27]) == (ratio < 0.085), "tail flag follows the threshold");
        /* appended columns: the signal (the sample profile's: the ratio) and the detector of the frame's own
         * configuration (the sample has them at q30 and q70 of x2 and x4), its threshold --threshold's */
        EXPECT(!strcmp(f[35], "ratio") && atof(f[36]) == ratio, "signal %s = %s, the ratio %g", f[35], f[36], ratio);
        EXPECT(atoi(f[37]) == sent[id].scale && (atoi(f[38]) == 30 || atoi(f[38]) == 70) && atof(f[39]) == 0.085 &&
                   atoi(f[40]) == 1,
               "detector: the frame's scale, 0.085, low = tail (%s %s %s %s)", f[37], f[38], f[39], f[40]);
        EXPECT(!strcmp(f[41], "nan"), "acc_ref only for cac-oracle: %s", f[41]);
        EXPECT(atof(f[21]) > 0 && atof(f[22]) > 0 && atof(f[25]) > 0, "SR, inference and e2e times");
        if (atoi(f[27]) && first_tail < 0) first_tail = id;
        if (first_tail >= 0 && id == first_tail + 1) tail_after = atoi(f[8]);
        rows++;
    }
    EXPECT(rows == N, "%d rows for %d frames", rows, N);
    EXPECT(first_tail >= 0 && first_tail < N - 1, "a tail frame was detected (first %d)", first_tail);
    EXPECT(tail_after == 1, "the frame after the first tail frame was sent with the tail configuration");
    EXPECT(strstr(lg, "bad_magic 1") && strstr(lg, "bad_version 1"), "malformed messages counted:\n%s", lg);
    EXPECT(strstr(lg, "edge ghost silent for"), "the ghost edge is freed after the timeout");
    EXPECT(strstr(lg, "| edgeA | cac | 6 | 6 | 0 |"), "summary line for edgeA:\n%s", lg);
    free(text), free(lg);
}

/* ---------------- both processes for real: rune serve-cloud + rune serve-edge ---------------- */

TEST(serve_cloud_and_edge_processes) {
    if (access("weights/espnet_camvid.h5", R_OK) || access("weights/carn_m.h5", R_OK)) SKIP("weights/ not here");
    const char *dir = test_temp_dir("serve_both");
    char ccsv[512], ecsv[512], clog[512], elog[512], ep[64];
    snprintf(ccsv, sizeof ccsv, "%s/cloud.csv", dir), snprintf(ecsv, sizeof ecsv, "%s/edge.csv", dir);
    snprintf(clog, sizeof clog, "%s/cloud.log", dir), snprintf(elog, sizeof elog, "%s/edge.log", dir);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", test_port() + 1);
    char *cargs[] = {"serve-cloud", "--listen", ep, "--profile", "data/samples/serve_profile.json", "--threshold", "0.085",
                     "--data", "data/samples/camvid", "--csv", ccsv, "--edges", "1", "--duration", "150", NULL};
    char *eargs[] = {"serve-edge", "--connect", ep, "--id", "robot", "--frames", "data/samples/camvid", "--dataset", "frames",
                     "--fps", "2", "--max-frames", "4", "--bandwidth", "0:0.3", "--deadline-ms", "3000", "--csv", ecsv,
                     "--wait-cloud", "60", "--linger", "20", NULL};
    pid_t pc = spawn_rune(clog, cargs);
    pid_t pe = spawn_rune(elog, eargs);
    int re = wait_bounded(pe, 150), rc = wait_bounded(pc, 60);
    char *lg = test_read_text(clog);
    EXPECT(re == 0 && rc == 0, "edge exit %d, cloud exit %d; cloud log:\n%s", re, rc, lg ? lg : "");
    free(lg);
    /* the edge accounts for each captured frame; the cloud for each frame that reached it */
    int captured = csv_count(ecsv, 4, "frame") - csv_count(ecsv, 5, "unconfirmed"), sent = csv_count(ecsv, 5, "sent"),
        dropped = csv_count(ecsv, 5, "dropped");
    EXPECT(captured == 4 && sent + dropped == 4, "edge rows: %d frames, %d sent, %d dropped", captured, sent, dropped);
    int got = csv_count(ccsv, 0, NULL), proc = csv_count(ccsv, 34, "processed"), stale = csv_count(ccsv, 34, "stale");
    EXPECT(got == sent && proc + stale == got && proc >= 1, "cloud rows %d (processed %d, stale %d) for %d sent", got, proc,
           stale, sent);
}

/* Kill the cloud mid-stream and start another: the edge reconnects (HELLO) and carries on; every
 * captured frame is in the edge's CSV as sent or dropped with a reason, and the new cloud serves it. */
TEST(serve_cloud_killed_and_restarted) {
    if (access("weights/espnet_camvid.h5", R_OK) || access("weights/carn_m.h5", R_OK)) SKIP("weights/ not here");
    const char *dir = test_temp_dir("serve_restart");
    char c1[512], c2[512], ecsv[512], l1[512], l2[512], elog[512], ep[64];
    snprintf(c1, sizeof c1, "%s/cloud1.csv", dir), snprintf(c2, sizeof c2, "%s/cloud2.csv", dir);
    snprintf(l1, sizeof l1, "%s/cloud1.log", dir), snprintf(l2, sizeof l2, "%s/cloud2.log", dir);
    snprintf(ecsv, sizeof ecsv, "%s/edge.csv", dir), snprintf(elog, sizeof elog, "%s/edge.log", dir);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", test_port() + 2);
    char *c1args[] = {"serve-cloud", "--listen", ep, "--profile", "data/samples/serve_profile.json", "--sr", "x2=bilinear,x4=bilinear",
                      "--threshold", "0.085", "--csv", c1, "--duration", "120", NULL};
    char *c2args[] = {"serve-cloud", "--listen", ep, "--profile", "data/samples/serve_profile.json", "--sr", "x2=bilinear,x4=bilinear",
                      "--threshold", "0.085", "--csv", c2, "--edges", "1", "--duration", "120", NULL};
    char *eargs[] = {"serve-edge", "--connect", ep, "--id", "robot", "--frames", "data/samples/camvid", "--dataset", "frames",
                     "--fps", "2", "--loop", "--max-frames", "16", "--bandwidth", "0:0.5", "--deadline-ms", "2000",
                     "--csv", ecsv, "--wait-cloud", "60", "--linger", "20", NULL};
    pid_t pc = spawn_rune(l1, c1args);
    pid_t pe = spawn_rune(elog, eargs);
    /* wait until the first cloud has processed two frames, then kill it */
    double t0 = now_seconds();
    while (csv_count(c1, 34, "processed") < 2 && now_seconds() - t0 < 90) usleep(100000);
    EXPECT(csv_count(c1, 34, "processed") >= 2, "the first cloud processed frames");
    kill(pc, SIGKILL);
    waitpid(pc, NULL, 0);
    usleep(1500000);
    pid_t pc2 = spawn_rune(l2, c2args);
    int re = wait_bounded(pe, 150), rc = wait_bounded(pc2, 60);
    char *lg = test_read_text(elog);
    EXPECT(re == 0 && rc == 0, "edge exit %d, second cloud exit %d; edge log:\n%s", re, rc, lg ? lg : "");
    EXPECT(lg && strstr(lg, "reconnect"), "the edge logged its reconnect:\n%s", lg ? lg : "");
    free(lg);
    /* an "unconfirmed" row is a sent frame's second row (lost in flight at the kill?): not a capture */
    int rows = csv_count(ecsv, 4, "frame") - csv_count(ecsv, 5, "unconfirmed"), sent = csv_count(ecsv, 5, "sent"),
        dropped = csv_count(ecsv, 5, "dropped");
    EXPECT(rows == 16 && sent + dropped == 16, "every captured frame accounted for: %d rows, %d sent, %d dropped", rows, sent,
           dropped);
    int p2 = csv_count(c2, 34, "processed");
    EXPECT(p2 >= 1, "the restarted cloud processed the edge's frames (%d)", p2);
}

/* A profile names the SR files it measured, with their checksums: a file changed since (re-trained,
 * replaced) must stop serve-cloud before it listens, naming the file; --sr still overrides. */
TEST(serve_cloud_refuses_a_model_the_profile_did_not_measure) {
    const char *dir = test_temp_dir("cloudck");
    char model[600], prof[600], args[1600], out[4096];
    snprintf(model, sizeof model, "%s/carn_m_changed.h5", dir);
    snprintf(prof, sizeof prof, "%s/profile.json", dir);
    FILE *f = fopen(model, "w"); /* not the bytes the profile's checksum was taken of */
    if (f) fputs("another model\n", f), fclose(f);
    char *p = test_read_text("data/samples/serve_profile.json");
    const char *name = "\"weights/carn_m.h5\"";
    char *at = p ? strstr(p, name) : NULL; /* x2's entry comes first */
    EXPECT(at != NULL, "the sample profile names weights/carn_m.h5");
    if (!at) {
        free(p);
        return;
    }
    f = fopen(prof, "w");
    if (f) fprintf(f, "%.*s\"%s\"%s", (int)(at - p), p, model, at + strlen(name)), fclose(f);
    free(p);
    snprintf(args, sizeof args, "serve-cloud --listen tcp://127.0.0.1:%d --profile %s --threshold 0.085", test_port(), prof);
    int rc = rune_exec(args, out, sizeof out);
    EXPECT(rc != 0 && strstr(out, "is not the file the profile measured") && strstr(out, "carn_m_changed.h5"),
           "rc %d: %s", rc, out);
    test_remove_tree(dir);
}
