/* test_profile.c: `rune profile` — Pareto choice on a hand-built frame set, tail marks / regression / recall-precision by hand, profile.json round trip and resume on real sample frames, bad input refused before the sweep. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "profile/pareto.h"
#include "profile/profile_json.h"
#include "profile/profile_run.h"
#include "profile/tail_threshold.h"
#include "tests/rune_exec.h"
#include "tests/test.h"
#include "util/err.h"

/* A sweep filled by hand: nf frames x nc configs. */
static void hand_sweep(Sweep *s, int nf, const SweepConfig *cfg, int nc, const double *bytes, const double *acc,
                       const double *ratio) {
    memset(s, 0, sizeof *s);
    s->nframes = nf, s->nconfigs = nc;
    memcpy(s->cfg, cfg, (size_t)nc * sizeof *cfg);
    size_t m = (size_t)nf * nc;
    s->bytes = malloc(m * sizeof(double)), s->acc = malloc(m * sizeof(double));
    s->ratio = calloc(m, sizeof(double)), s->ratio_ms = calloc(m, sizeof(double));
    memcpy(s->bytes, bytes, m * sizeof(double)), memcpy(s->acc, acc, m * sizeof(double));
    if (ratio) memcpy(s->ratio, ratio, m * sizeof(double));
}

static void hand_free(Sweep *s) { free(s->bytes), free(s->acc), free(s->ratio), free(s->ratio_ms); }

/* Three configurations, four frames: frames 0-1 standard, 2-3 tail. Standard frames are happy at
 * the cheap x4 q90; tail frames gain only from x2 q30, which costs about the same. */
TEST(profile_pareto_hand_built) {
    SweepConfig cfg[3] = {{4, 90}, {2, 30}, {2, 90}};
    /* rows = frames, columns = configs */
    double bytes[12] = {1000, 1100, 4000, 1000, 1100, 4000, 1000, 1000, 4000, 1000, 1000, 4000};
    double acc[12] = {0.80, 0.70, 0.85, 0.70, 0.60, 0.75, 0.20, 0.40, 0.50, 0.30, 0.50, 0.60};
    Sweep s;
    hand_sweep(&s, 4, cfg, 3, bytes, acc, NULL);
    bool std[4] = {1, 1, 0, 0}, tail[4] = {0, 0, 1, 1};
    GroupMean g = pareto_group_mean(&s, tail, 1);
    EXPECT_NEAR(g.bytes, 1000, 1e-9);
    EXPECT_NEAR(g.acc, 0.45, 1e-12);
    /* 1100 bytes x 8 x 30 fps = 264 kbit/s: everything but x2 q90 fits */
    EXPECT(pareto_pick(&s, std, NULL, 264000, 30) == 0, "standard: x4 q90 (0.75 > 0.65)");
    EXPECT(pareto_pick(&s, tail, NULL, 264000, 30) == 1, "tail: x2 q30 (0.45 > 0.25)");
    EXPECT(pareto_pick(&s, std, NULL, 1e9, 30) == 2 && pareto_pick(&s, tail, NULL, 1e9, 30) == 2, "no limit: x2 q90");
    EXPECT(pareto_pick(&s, std, NULL, 1000 * 8 * 30 - 1, 30) == -1, "nothing fits below the cheapest");
    EXPECT(pareto_pick(&s, std, NULL, 1050 * 8 * 30, 30) == 0, "x2 q30 costs 1050 for standard frames: only x4 fits");
    int fr[3], n = pareto_frontier(&s, tail, NULL, fr);
    EXPECT(n == 2 && fr[0] == 1 && fr[1] == 2, "tail frontier x2 q30, x2 q90 (x4 q90 dominated): %d", n);
    hand_free(&s);
}

TEST(profile_tail_marks_and_regression) {
    double acc[10] = {0.5, 0.1, 0.9, NAN, 0.3, 0.3, 0.8, 0.7, 0.6, 0.4};
    bool t[10];
    EXPECT(tail_mark(acc, 10, 10, t) == 1 && t[1], "10 %% of 9 finite: ceil(0.9) = 1, frame 1");
    EXPECT(tail_mark(acc, 10, 25, t) == 3 && t[1] && t[4] && t[5] && !t[3], "25 %%: frames 1, 4, 5 (tie: both 0.3)");
    double x[4] = {0, 1, 2, 3}, y[4] = {1, 3, 5, 7};
    LinFit f = linfit(x, y, 4);
    EXPECT_NEAR(f.a, 1, 1e-12);
    EXPECT_NEAR(f.b, 2, 1e-12);
    EXPECT_NEAR(f.r2, 1, 1e-12);
}

/* Recall and precision worked out by hand: 8 frames, 2 tail; threshold 0.01 predicts 4 of them. */
TEST(profile_recall_precision_by_hand) {
    double ratio[8] = {0.002, 0.02, 0.005, 0.03, 0.008, 0.009, 0.04, 0.05};
    bool tail[8] = {1, 1, 0, 0, 0, 0, 0, 0};
    TailDetect d = tail_detect(ratio, tail, 8, 0.01);
    /* predicted: frames 0, 2, 4, 5; hits: frame 0 -> recall 1/2, precision 1/4 */
    EXPECT(d.ntail == 2 && d.npred == 4 && d.hits == 1, "%d %d %d", d.ntail, d.npred, d.hits);
    EXPECT_NEAR(d.recall, 0.5, 1e-12);
    EXPECT_NEAR(d.precision, 0.25, 1e-12);
    d = tail_detect(ratio, tail, 8, 0.001);
    EXPECT(d.npred == 0 && isnan(d.precision) && d.recall == 0, "nothing predicted");

    /* the regression threshold on a sweep with one scale: acc = ratio exactly, worst 25 % = 2 of 8
     * frames; cut-off = acc of the better tail frame = 0.005; the line y = x - 0.005 meets 0 at 0.005 */
    SweepConfig cfg[1] = {{4, 90}};
    double bytes[8] = {0};
    double a8[8] = {0.002, 0.02, 0.005, 0.03, 0.008, 0.009, 0.04, 0.05};
    Sweep s;
    hand_sweep(&s, 8, cfg, 1, bytes, a8, ratio);
    int scales[1] = {4};
    LinFit fit;
    double thr = tail_threshold_fit(&s, scales, 1, 90, 25, &fit);
    EXPECT_NEAR(fit.b, 1, 1e-9);
    EXPECT_NEAR(thr, 0.005, 1e-9);
    double r90 = tail_threshold_for_recall(&s, scales, 1, 90, 25, 0.9);
    EXPECT(r90 > 0.005 && r90 < 0.0051, "recall 90 %%: just above the larger tail ratio: %g", r90);
    hand_free(&s);
}

static const char *SAMPLE_ARGS = "profile --data data/samples/camvid --split test --val-split test "
                                 "--task weights/espnet_camvid.h5 --sr x4=weights/carn_m.h5,x8=bilinear --scales 4,8 "
                                 "--qualities 50,90 --hr-qualities 90 --targets 0.5,1,4 --tail-pct 25 --val-frames 2 --no-figures --quiet";

/* The real thing on the four sample frames: the JSON reads back and writes back identically. */
TEST(profile_json_round_trip_on_sample_frames) {
    const char *dir = test_temp_dir("profile");
    char args[2048], out[8192], path[1024], path2[1024];
    snprintf(args, sizeof args, "%s -o %s/p.json", SAMPLE_ARGS, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    EXPECT(strstr(out, "| target Mbps |") != NULL, "summary printed: %.300s", out);
    snprintf(path, sizeof path, "%s/p.json", dir);
    ProfileDoc d;
    EXPECT(profile_json_read(path, &d) == 0, "%s", rn_errmsg());
    EXPECT(d.version == PROFILE_VERSION && d.ncfg == 5 && d.nframes == 4 && d.ntail == 1 && d.ntargets == 3, "doc %d %d %d %d",
           d.ncfg, d.nframes, d.ntail, d.ntargets);
    EXPECT(d.nsr == 2 && d.sr[0].scale == 4 && strlen(d.sr[0].checksum) == 16 && !strcmp(d.sr[1].file, "bilinear"), "sr %s",
           d.sr[0].checksum);
    /* the default reference is HR at its highest quality (issue 22) */
    EXPECT(d.ref_scale == 1 && d.ref_quality == 90 && d.nval == 2 && d.ntrain == 2, "reference x%d q%d", d.ref_scale, d.ref_quality);
    EXPECT(d.ndet == 5 && d.det[4].scale == 1 && d.det[0].val_n == 2 && !strcmp(d.bytes_model, "all") &&
           !strcmp(d.signal, "ratio") && d.recall_target == 0.9, "v2: %d detectors, val %d, %s, %s, %g", d.ndet,
           d.det[0].val_n, d.bytes_model, d.signal, d.recall_target);
    EXPECT(d.cfg[4].scale == 1 && d.cfg[4].bytes_std > 10 * d.cfg[0].bytes_std, "HR q90 costs more than x4 q50");
    for (int i = 0; i < d.ncfg; i++) EXPECT(d.cfg[i].acc_std > 0 && d.cfg[i].acc_std < 1, "cfg %d acc %g", i, d.cfg[i].acc_std);
    EXPECT(d.val[0].ratio_ms >= 0 && d.val[0].frames == 2 && d.val[0].tail == 1, "val check");
    EXPECT(strstr(d.command, "--sr x4=weights/carn_m.h5") != NULL, "command recorded: %s", d.command);
    snprintf(path2, sizeof path2, "%s/p2.json", dir);
    EXPECT(profile_json_write(&d, path2) == 0, "%s", rn_errmsg());
    ProfileDoc e;
    EXPECT(profile_json_read(path2, &e) == 0, "%s", rn_errmsg());
    char *t1 = test_read_text(path), *t2 = test_read_text(path2);
    EXPECT(t1 && t2 && !strcmp(t1, t2), "written, read, written again: identical text");
    EXPECT(e.ntail == 1 && !strcmp(e.tail_frames[0], d.tail_frames[0]), "tail frame names kept");
    free(t1), free(t2);
    profile_doc_free(&d), profile_doc_free(&e);
    snprintf(path, sizeof path, "%s/p_train.csv", dir);
    char *csv = test_read_text(path);
    char *hdr = sweep_csv_header(11); /* ESPNet-CamVid: 11 classes counted per frame */
    EXPECT(csv && !strncmp(csv, hdr, strlen(hdr)) && csv[strlen(hdr)] == '\n', "per-frame CSV");
    free(hdr);
    int rows = 0;
    for (char *c = csv; c && *c; c++) rows += *c == '\n';
    EXPECT(rows == 1 + 4 * 5, "4 frames x 5 configs + header: %d", rows);

    /* resume: drop the last frame's rows (and tear a line); the rerun measures only that frame
     * and ends with the same JSON numbers */
    char *cut = csv;
    for (int i = 0; i < 1 + 3 * 5; i++) cut = strchr(cut, '\n') + 1;
    FILE *f = fopen(path, "w");
    fprintf(f, "%.*s3,Seq05VD_f000", (int)(cut - csv), csv);
    fclose(f);
    free(csv);
    snprintf(args, sizeof args, "%s -o %s/p.json --resume", SAMPLE_ARGS, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/p.json", dir);
    EXPECT(profile_json_read(path, &e) == 0, "%s", rn_errmsg());
    EXPECT(e.t_train.measured == 1 && e.t_train.frames == 4 && e.t_val.measured == 0, "resumed: measured %d val %d",
           e.t_train.measured, e.t_val.measured);
    EXPECT(profile_json_read(path2, &d) == 0, "%s", rn_errmsg());
    for (int i = 0; i < d.ncfg; i++) {
        EXPECT_NEAR(e.cfg[i].acc_std, d.cfg[i].acc_std, 1e-6);
        EXPECT_NEAR(e.cfg[i].bytes_std, d.cfg[i].bytes_std, 1e-6);
    }
    profile_doc_free(&d), profile_doc_free(&e);
    /* a resume log from other settings is refused */
    snprintf(args, sizeof args, "%s -o %s/p.json --resume --scales 4 --sr x4=weights/carn_m.h5", SAMPLE_ARGS, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "other settings"), "%s", out);
}

/* Bad input stops before the first frame is measured. */
TEST(profile_bad_input_before_the_sweep) {
    const char *dir = test_temp_dir("profbad");
    char args[2048], out[8192];
    const char *base = "profile --data data/samples/camvid --split test --task weights/espnet_camvid.h5 --no-figures";
    snprintf(args, sizeof args, "%s --scales 4,8 --sr x4=weights/carn_m.h5 -o %s/p.json", base, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "no SR model for x8"), "missing model: %s", out);
    snprintf(args, sizeof args, "%s --scales 7 --sr x7=bilinear -o %s/p.json", base, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "not divisible by scale 7") && !strstr(out, "frames/s"),
           "frame size: %s", out);
    snprintf(args, sizeof args, "%s --scales 8 --sr x8=weights/carn_m.h5 -o %s/p.json", base, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "no x8 head"), "head: %s", out);
    snprintf(args, sizeof args, "%s --scales 4 --sr x4=bilinear -o /proc/rune-no/p.json", base);
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "/proc/rune-no"), "unwritable: %s", out);
    snprintf(args, sizeof args, "%s --scales 4 --sr x4=bilinear --reference 4:77 -o %s/p.json", base, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "--reference"), "reference: %s", out);
    /* ESPNet-CamVid (11 classes) on coco128 (80) */
    const char *coco = test_shared_path("data/coco128");
    snprintf(args, sizeof args, "profile --data %s --dataset yolo --split train --task weights/espnet_camvid.h5 "
             "--scales 4 --sr x4=bilinear --no-figures -o %s/p.json", coco, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "predicts 11 classes but") && strstr(out, "has 80"),
           "class count: %s", out);
}

/* Detection: Yolo-Fastest on a few coco128 images, bilinear rebuilds. */
TEST(profile_detection_on_coco128) {
    /* test_shared_path answers in one buffer: keep copies */
    char *coco = strdup(test_shared_path("data/coco128"));
    char *cfg = strdup(test_shared_path("weights/darknet/yolo-fastest-1.1.cfg"));
    char *wts = strdup(test_shared_path("weights/darknet/yolo-fastest-1.1.weights"));
    const char *dir = test_temp_dir("profdet");
    char args[4096], out[8192], path[1024];
    snprintf(args, sizeof args, "profile --task-kind det --dataset yolo --data %s --split train --val-split eval --task %s "
             "--weights %s --sr x2=bilinear,x4=bilinear --scales 2,4 --qualities 50,90 --hr-qualities 90 --frames 6 "
             "--val-frames 4 --tail-pct 20 --small 0.05 --no-figures --quiet -o %s/d.json", coco, cfg, wts, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/d.json", dir);
    ProfileDoc d;
    EXPECT(profile_json_read(path, &d) == 0, "%s", rn_errmsg());
    EXPECT(!strcmp(d.task_kind, "detection") && d.classes == 80 && d.nframes == 6 && d.ncfg == 5 && d.nval == 2,
           "%s %d %d %d", d.task_kind, d.classes, d.nframes, d.ncfg);
    EXPECT(strlen(d.task_weights_checksum) == 16, "weights checksum");
    EXPECT(d.cfg[1].acc_std > d.cfg[2].acc_std, "x2 q90 AP %g > x4 q50 AP %g", d.cfg[1].acc_std, d.cfg[2].acc_std);
    EXPECT(d.cfg[4].bytes_std > d.cfg[1].bytes_std && d.cfg[1].bytes_std > d.cfg[3].bytes_std, "bytes: HR > x2 > x4");
    profile_doc_free(&d);
    /* 320 is not divisible by 6: refused before the sweep */
    snprintf(args, sizeof args, "profile --task-kind det --dataset yolo --data %s --split train --task %s --weights %s "
             "--sr x6=bilinear --scales 6 --no-figures -o %s/e.json", coco, cfg, wts, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "not divisible by scale 6"), "%s", out);
    free(coco), free(cfg), free(wts);
}
