/* test_eval.c: `rune eval` — the engine on the sample CamVid frames, report files, episodes, paired bootstrap. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "profile/bootstrap.h"
#include "profile/eval_seg.h"
#include "profile/pairs.h"
#include "profile/report.h"
#include "tests/rune_exec.h"
#include "tests/test.h"
#include "util/err.h"

static char *read_all(const char *dir, const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *text;
    size_t len;
    if (read_text_file(p, &text, &len) < 0) return NULL;
    return text;
}

static void expect_header(const char *dir, const char *name, const char *header) {
    char *t = read_all(dir, name);
    EXPECT(t != NULL, "%s/%s missing", dir, name);
    if (!t) return;
    size_t n = strlen(header);
    EXPECT(strncmp(t, header, n) == 0 && t[n] == '\n', "%s starts %.60s", name, t);
    free(t);
}

/* The four sample frames at x4 with bilinear, the published CARN-M and HR. */
TEST(eval_engine_on_sample_frames) {
    Dataset ds;
    EXPECT(ds_camvid("data/samples/camvid", "test", &ds) == 0, "%s", rn_errmsg());
    EvalTask task;
    EXPECT(eval_task_open(&task, "weights/espnet_camvid.h5", NULL, NULL, true) == 0, "%s", rn_errmsg());
    Carn *carn = NULL;
    EXPECT(carn_load("weights/carn_m.h5", &carn, NULL) == 0, "%s", rn_errmsg());
    EvalMethod ms[3] = {{.name = "hr", .scale = 1, .kind = EVAL_HR},
                        {.name = "bilinear", .scale = 4, .kind = EVAL_BILINEAR},
                        {.name = "sr", .scale = 4, .kind = EVAL_CARN, .carn = carn, .file = "weights/carn_m.h5"}};
    EvalOpts o = {.quality = 0};
    EvalResult r;
    EXPECT(eval_seg_run(&ds, &task, ms, 3, &o, &r) == 0, "%s", rn_errmsg());
    EXPECT(r.nframes == 4 && r.k == 12 && r.nclasses == 11, "%d frames, k %d", r.nframes, r.k);
    double hr = eval_miou(&r, &r.total[0]), bl = eval_miou(&r, &r.total[1]), sr = eval_miou(&r, &r.total[2]);
    printf("    mIoU hr %.2f  bilinear %.2f  sr %.2f\n", 100 * hr, 100 * bl, 100 * sr);
    EXPECT(isfinite(hr) && isfinite(bl) && isfinite(sr), "finite mIoU");
    EXPECT(hr > sr && hr > bl, "HR is the best");
    double pb = 0, ps = 0;
    for (int f = 0; f < 4; f++) {
        pb += r.psnr[1 * 4 + f], ps += r.psnr[2 * 4 + f];
        EXPECT(isfinite(r.psnr[4 + f]) && isfinite(r.ssim[8 + f]) && r.ssim[8 + f] > 0 && r.ssim[8 + f] <= 1, "frame %d", f);
        EXPECT(isnan(r.psnr[f]), "hr has no PSNR");
        EXPECT(r.bytes[4 + f] == r.bytes[8 + f] && r.bytes[4 + f] < r.bytes[f] / 4, "bytes: x4 frame shared, < HR/4");
    }
    EXPECT(ps > pb, "SR PSNR %.2f > bilinear %.2f", ps / 4, pb / 4);
    /* the void output is kept as a column: every labelled pixel is counted whatever is predicted */
    long long labelled = 0;
    for (int f = 0; f < 4; f++) {
        Image lab;
        EXPECT(dataset_load_label(&ds, f, NULL, &lab) == 0, "%s", rn_errmsg());
        for (int i = 0; i < lab.w * lab.h; i++) labelled += lab.px[i] != DS_IGNORE;
        image_free(&lab);
    }
    for (int m = 0; m < 3; m++) {
        long long counted = 0;
        for (int i = 0; i < 12 * 12; i++) counted += r.total[m].m[i];
        EXPECT(counted == labelled, "method %d counts %lld of %lld labelled pixels", m, counted, labelled);
    }

    const char *dir = test_temp_dir("eval");
    ReportOpts ro = {.table2_scale = 4, .episode = 2, .boot_reps = 100, .seed = 7, .figures = false};
    EXPECT(report_write(&r, dir, &ro) == 0, "%s", rn_errmsg());
    expect_header(dir, "table3.csv", "scale,method,tail_miou,miou");
    expect_header(dir, "table2.csv", "class,tail,size_pct,method,iou,iou_norm");
    expect_header(dir, "table4.csv", "scale,method,episodes,p90,p99,mean");
    expect_header(dir, "table5.csv", "scale,method,miou,psnr,ssim,bytes_per_frame");
    expect_header(dir, "diffs.csv", "scale,a,b,metric,diff,lo,hi,reps");
    const char *more[] = {"table2.md", "table3.md", "table4.md", "table5.md", "diffs.md", "results.json",
                          "fig9.gp", "fig9.dat", "fig13_x4.gp", "fig13_x4.dat", "fig14.gp", "fig14.dat"};
    for (size_t i = 0; i < sizeof more / sizeof *more; i++) {
        char *t = read_all(dir, more[i]);
        EXPECT(t && strlen(t) > 20, "%s", more[i]);
        free(t);
    }
    char *t3 = read_all(dir, "table3.csv");
    EXPECT(t3 && strstr(t3, "\n4,bilinear,") && strstr(t3, "\n4,sr,") && strstr(t3, "\n1,hr,") && !strstr(t3, "nan"),
           "%s", t3);
    free(t3);
    test_remove_tree(dir);
    EvalTask no_void;
    EXPECT(eval_task_open(&no_void, "weights/espnet_camvid.h5", NULL, NULL, false) == 0, "%s", rn_errmsg());
    EXPECT(no_void.k == 11, "without the void channel k = the 11 CamVid classes, got %d", no_void.k);
    eval_task_close(&no_void);
    eval_result_free(&r);
    carn_free(carn);
    eval_task_close(&task);
    dataset_free(&ds);
}

/* Episodes never span two sequences and a partial one is dropped. */
TEST(eval_episodes_stay_inside_sequences) {
    EvalResult r = {0};
    r.nclasses = r.k = 2, r.nmethods = 1, r.nframes = 7;
    char *seq[7] = {"A", "A", "A", "B", "B", "B", "B"};
    r.seq = seq;
    r.frame_conf = calloc(7 * 4, sizeof *r.frame_conf);
    for (int f = 0; f < 7; f++) {
        long long *m = r.frame_conf + f * 4;
        m[0] = 10, m[3] = 10, m[1] = f; /* f class-0 pixels predicted 1: later frames are worse */
    }
    double v[8];
    EXPECT(eval_episodes(&r, 0, 2, v) == 3, "A01, B34, B56");
    /* episode B34: tp0 20, fn0 7, tp1 20, fp1 7 -> IoU 20/27 for both */
    EXPECT_NEAR(v[1], 20.0 / 27.0, 1e-12);
    EXPECT(eval_episodes(&r, 0, 4, v) == 1, "only B3456 is whole");
    EXPECT(eval_episodes(&r, 0, 5, v) == 0, "no sequence is 5 frames long");
    free(r.frame_conf);
}

/* Per-frame 3-class confusions with `wrong` of each class's 100 pixels predicted as the next class. */
static void synth(long long *m, int nframes, const int *wrong) {
    for (int f = 0; f < nframes; f++)
        for (int c = 0; c < 3; c++) {
            long long *row = m + (size_t)f * 9 + c * 3;
            row[0] = row[1] = row[2] = 0;
            row[c] = 100 - wrong[f * 3 + c];
            row[(c + 1) % 3] += wrong[f * 3 + c];
        }
}

TEST(bootstrap_identical_methods_give_zero) {
    enum { F = 30 };
    int wrong[F * 3];
    for (int i = 0; i < F * 3; i++) wrong[i] = (i * 37) % 60;
    long long a[F * 9];
    synth(a, F, wrong);
    int cls[3] = {0, 1, 2};
    BootCI ci;
    bootstrap_miou_diff(a, a, F, 3, cls, 3, 500, 1, &ci);
    EXPECT(ci.reps == 500, "%d", ci.reps);
    EXPECT(ci.diff == 0 && ci.lo <= 0 && ci.hi >= 0 && ci.hi - ci.lo < 1e-12, "[%g, %g]", ci.lo, ci.hi);
}

TEST(bootstrap_better_on_every_frame_excludes_zero) {
    enum { F = 30 };
    int wa[F * 3], wb[F * 3];
    for (int i = 0; i < F * 3; i++) wb[i] = 10 + (i * 37) % 60, wa[i] = wb[i] - 5 - (i % 4); /* a: fewer errors */
    long long a[F * 9], b[F * 9];
    synth(a, F, wa), synth(b, F, wb);
    int cls[3] = {0, 1, 2};
    BootCI ci, again;
    bootstrap_miou_diff(a, b, F, 3, cls, 3, 500, 42, &ci);
    printf("    diff %.4f, 95%% CI [%.4f, %.4f]\n", ci.diff, ci.lo, ci.hi);
    EXPECT(ci.diff > 0 && ci.lo > 0 && ci.lo <= ci.diff && ci.diff <= ci.hi, "[%g, %g] around %g", ci.lo, ci.hi, ci.diff);
    bootstrap_miou_diff(a, b, F, 3, cls, 3, 500, 42, &again);
    EXPECT(again.lo == ci.lo && again.hi == ci.hi, "same seed, same interval");
    bootstrap_miou_diff(b, a, F, 3, cls, 3, 500, 42, &again);
    EXPECT(again.hi < 0 && fabs(again.lo + ci.hi) < 1e-12, "swapped: the mirror interval");
}

/* The binary end to end on one sample frame, and a malformed --method. */
TEST(method_pairs_parse_and_skip_malformed) {
    const char *pairs[MAX_PAIRS][2];
    char buf[64];
    int n = parse_pairs("asr-sr,-x,y-,nodash,asrall-hr", "unused-default", buf, sizeof buf, pairs);
    EXPECT(n == 2, "%d pairs", n);
    EXPECT(!strcmp(pairs[0][0], "asr") && !strcmp(pairs[0][1], "sr"), "%s-%s", pairs[0][0], pairs[0][1]);
    EXPECT(!strcmp(pairs[1][0], "asrall") && !strcmp(pairs[1][1], "hr"), "%s-%s", pairs[1][0], pairs[1][1]);
    n = parse_pairs(NULL, "a-b", buf, sizeof buf, pairs);
    EXPECT(n == 1 && !strcmp(pairs[0][0], "a") && !strcmp(pairs[0][1], "b"), "default: %d", n);
}

TEST(eval_cli_end_to_end) {
    const char *dir = test_temp_dir("eval");
    char args[512], out[8192];
    snprintf(args, sizeof args,
             "eval --task weights/espnet_camvid.h5 --data data/samples/camvid --scales 4 "
             "--method sr:4:weights/carn_m.h5 --frames 1 --episode 1 --bootstrap 20 --no-figures --quiet --out %s",
             dir);
    int rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 0, "rc %d: %s", rc, out);
    EXPECT(strstr(out, "Table 3") && strstr(out, "| x4 | sr |"), "tables printed: %s", out);
    expect_header(dir, "table3.csv", "scale,method,tail_miou,miou");
    test_remove_tree(dir);
    rc = rune_exec("eval --task weights/espnet_camvid.h5 --data data/samples/camvid --method sr:3 --out /tmp/x", out,
                   sizeof out);
    EXPECT(rc != 0 && strstr(out, "NAME:SCALE:FILE"), "rc %d: %s", rc, out);
    rc = rune_exec("eval --task weights/espnet_camvid.h5 --data data/samples/camvid --method sr:8:weights/carn_m.h5 "
                   "--scales 8 --out /tmp/x",
                   out, sizeof out);
    EXPECT(rc != 0 && strstr(out, "no x8 head"), "rc %d: %s", rc, out);
    rc = rune_exec("eval --task weights/espnet_camvid.h5 --data data/samples/camvid --scales 4 "
                   "--method sr:2:weights/carn_m.h5 --out /tmp/x",
                   out, sizeof out);
    EXPECT(rc != 0 && strstr(out, "x2 is not in --scales"), "rc %d: %s", rc, out);
    rc = rune_exec("eval-det-asr --model m.h5 --data d --scales 4 --sr weights/carn_m.h5 "
                   "--method sr:4:weights/carn_m.h5 --out /tmp/x",
                   out, sizeof out);
    EXPECT(rc != 0 && strstr(out, "sr at x4 given twice"), "rc %d: %s", rc, out);
}
