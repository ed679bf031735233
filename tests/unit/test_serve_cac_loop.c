/* test_serve_cac_loop.c: a real serve-cloud on a version-2 profile — each frame flagged by its own configuration's detector, cac-oracle flagged by the reference accuracy (SKIPs until profile.json version 2 is written and read). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "profile/profile_json.h"
#include "serve/cloud.h"
#include "tests/serve_harness.h"
#include "tests/test.h"

#define PORT_OFFSET 691 /* this file's ports: test_port() + PORT_OFFSET + k */
#define SAMPLE "data/samples/serve_profile.json"
#define NF 4

/* The sample profile (its models, classes, fps 30) with detectors for x4 q30 (threshold 1: flags every frame, ratio < 1) and x2 q30
 * (threshold 0: flags none), signal ratio, tail_cutoff `cutoff`, written as the current version. */
static int write_v2(const char *path, double cutoff) {
    static ProfileDoc d;
    if (profile_json_read(SAMPLE, &d) < 0) return -1;
    d.version = PROFILE_VERSION;
    /* one target, whatever the sample's are: 2 Mbps at its fps, standard x4 q70, tail x2 q30; reference x4 q70 */
    d.ntargets = 1, d.nshare = 0, d.ref_scale = 4, d.ref_quality = 70;
    d.target[0] = (ProfileTarget){.mbps = 2, .standard = {.scale = 4, .quality = 70, .mbps = 1.5},
                                  .tail = {.scale = 2, .quality = 30, .mbps = 1.5}};
    snprintf(d.signal, sizeof d.signal, "ratio");
    d.recall_target = 0.9, d.tail_cutoff = cutoff, d.tail5_cutoff = cutoff;
    d.ndet = 2;
    d.det[0] = (ProfileDetector){.scale = 4, .quality = 30, .direction = 1, .threshold = 1.0};
    d.det[1] = (ProfileDetector){.scale = 2, .quality = 30, .direction = 1, .threshold = 0.0};
    int rc = profile_json_write(&d, path);
    profile_doc_free(&d);
    return rc;
}

/* A scripted edge sends NF frames on a 200 kbit/s link (the 2 Mbps@30 fps target at 2 fps: standard
 * x4 q70, tail x2 q30), each with the configuration of the previous feedback. */
static void stream(const char *ep, WireConfig *sent) {
    Dataset ds;
    EXPECT(dataset_open("camvid", "data/samples/camvid", "test", &ds) == 0, "samples");
    Transport *t = edge_connect(ep, "edgeV2");
    EXPECT(t && transport_connected(t), "connected");
    if (!t || !transport_connected(t)) return;
    send_hello(t, "edgeV2", 2);
    WireFeedback fb = {0};
    EXPECT(wait_feedback(t, 0, 30, &fb) == 1, "feedback to hello");
    for (int i = 0; i < NF; i++) {
        sent[i] = fb.next;
        send_frame(t, "edgeV2", &ds, (uint64_t)i, fb.next, 200e3);
        EXPECT(wait_feedback(t, (uint64_t)i, 60, &fb) == 1, "feedback to frame %d", i);
    }
    WireMsg bye = {.type = WIRE_BYE};
    snprintf(bye.edge_id, sizeof bye.edge_id, "edgeV2");
    bye.u.bye = (WireBye){.captured = NF, .sent = NF};
    EXPECT(transport_send(t, NULL, &bye) == 0, "bye");
    transport_close(t);
    dataset_free(&ds);
}

/* The CSV's rows split into fields (f[row][col]); returns the row count. */
static int read_rows(const char *csv, char *f[][48], char **text) {
    *text = test_read_text(csv);
    int n = 0;
    char *save = NULL;
    for (char *line = *text ? strtok_r(*text, "\n", &save) : NULL; line && n < NF; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "edge,", 5)) continue;
        int nf = 0;
        for (char *p = line; nf < 48;) {
            f[n][nf++] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = 0, p = c + 1;
        }
        EXPECT(nf == 42, "42 columns, got %d", nf);
        n++;
    }
    return n;
}

static pid_t start_cloud(const char *ep, const char *prof, const char *ctl, const char *csv, const char *log) {
    char *args[] = {"serve-cloud", "--listen", (char *)ep, "--profile", (char *)prof, "--controller", (char *)ctl, "--data",
                    "data/samples/camvid", "--dataset", "camvid", "--split", "test", "--sr", "x2=bilinear,x4=bilinear",
                    "--csv", (char *)csv, "--edges", "1",
                    "--duration", "120", NULL};
    return spawn_rune(log, args);
}

/* Frames at x4 are flagged by x4 q30's detector (exact, then x4 q70 by the nearest quality), frames at
 * x2 q30 by x2 q30's (never): CAC enters at x4, leaves after the default hold of 2 at x2. */
TEST(serve_cac_loop_detector_per_configuration) {
    if (PROFILE_VERSION < 2) SKIP("profile.json version 2 not written yet (helper B): detectors are not read");
    if (access("weights/espnet_camvid.h5", R_OK)) SKIP("weights/ not here");
    const char *dir = test_temp_dir("cac_v2");
    char prof[512], csv[512], log[512], ep[64];
    snprintf(prof, sizeof prof, "%s/profile.json", dir), snprintf(csv, sizeof csv, "%s/cloud.csv", dir);
    snprintf(log, sizeof log, "%s/cloud.log", dir);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", test_port() + PORT_OFFSET);
    EXPECT(write_v2(prof, 0.5) == 0, "v2 profile written");
    pid_t cloud = start_cloud(ep, prof, "cac", csv, log);
    WireConfig sent[NF] = {0};
    stream(ep, sent);
    EXPECT(wait_bounded(cloud, 30) == 0, "cloud exits 0");
    static char *f[NF][48];
    char *text;
    int n = read_rows(csv, f, &text);
    EXPECT(n == NF, "%d rows", n);
    for (int i = 0; i < n; i++) {
        int s = atoi(f[i][5]), x4 = s == 4;
        EXPECT(atoi(f[i][37]) == s && atoi(f[i][38]) == 30, "row %d at x%d q%s: detector x%s q%s", i, s, f[i][6], f[i][37], f[i][38]);
        EXPECT(atoi(f[i][27]) == x4, "row %d: flagged iff at x4 (%s)", i, f[i][27]);
        EXPECT(atof(f[i][39]) == (x4 ? 1.0 : 0.0) && atoi(f[i][40]) == 1, "row %d: threshold %s direction %s", i, f[i][39], f[i][40]);
    }
    /* start x4 q30 (flagged) -> x2 q30 tail, calm, calm -> x4 q70 */
    EXPECT(sent[0].scale == 4 && sent[1].scale == 2 && (sent[1].flags & WIRE_CFG_TAIL) && sent[2].scale == 2 && sent[3].scale == 4 &&
               sent[3].quality == 70, "configurations x%d x%d x%d x%d q%d", sent[0].scale, sent[1].scale, sent[2].scale,
           sent[3].scale, sent[3].quality);
    free(text);
}

/* cac-oracle: acc_ref (accuracy at the sample's reference x4 q70, rebuilt bilinearly here, against the label) in every row;
 * with tail_cutoff 1 every frame is flagged and the frame after the first is sent in the tail pick. */
TEST(serve_cac_loop_oracle) {
    if (PROFILE_VERSION < 2) SKIP("profile.json version 2 not written yet (helper B): tail_cutoff is not read");
    if (access("weights/espnet_camvid.h5", R_OK)) SKIP("weights/ not here");
    const char *dir = test_temp_dir("cac_oracle");
    char prof[512], csv[512], log[512], ep[64];
    snprintf(prof, sizeof prof, "%s/profile.json", dir), snprintf(csv, sizeof csv, "%s/cloud.csv", dir);
    snprintf(log, sizeof log, "%s/cloud.log", dir);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", test_port() + PORT_OFFSET + 1);
    EXPECT(write_v2(prof, 1.0) == 0, "v2 profile written");
    pid_t cloud = start_cloud(ep, prof, "cac-oracle", csv, log);
    WireConfig sent[NF] = {0};
    stream(ep, sent);
    EXPECT(wait_bounded(cloud, 30) == 0, "cloud exits 0");
    static char *f[NF][48];
    char *text;
    int n = read_rows(csv, f, &text);
    EXPECT(n == NF, "%d rows", n);
    for (int i = 0; i < n; i++) {
        double acc = atof(f[i][41]);
        EXPECT(acc > 0.05 && acc <= 1 && atoi(f[i][27]) == 1, "row %d: acc_ref %s, flagged %s", i, f[i][41], f[i][27]);
    }
    EXPECT(n > 1 && (sent[1].flags & WIRE_CFG_TAIL) && sent[1].scale == 2 && sent[1].quality == 30, "tail pick after frame 0");
    free(text);
}
