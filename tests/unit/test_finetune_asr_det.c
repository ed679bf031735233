/* test_finetune_asr_det.c: detection ASR — coco128 split, a few steps through frozen Yolo-Fastest with exact resume, Table 6 smoke test, tail classes by hand. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile/det_coco_results.h"
#include "profile/eval_det_tables.h"
#include "train/finetune_asr_det.h"
#include "tests/test.h"
#include "util/err.h"

TEST(det_split_is_96_then_32_by_name) {
    char *root = xstrdup(test_shared_path("data/coco128"));
    Dataset tr, ev;
    EXPECT(dataset_open("yolo", root, "train", &tr) == 0, "%s", rn_errmsg());
    EXPECT(dataset_open("yolo", root, "eval", &ev) == 0, "%s", rn_errmsg());
    EXPECT(tr.n == 96 && ev.n == 32, "%d + %d", tr.n, ev.n);
    EXPECT(tr.nclasses == 80 && !strcmp(tr.class_names[0], "person"), "%d classes", tr.nclasses);
    for (int i = 1; i < tr.n; i++) EXPECT(strcmp(tr.samples[i - 1].frame, tr.samples[i].frame) < 0, "sorted at %d", i);
    EXPECT(strcmp(tr.samples[95].frame, ev.samples[0].frame) < 0, "eval images come after the training images");
    EXPECT(dataset_open("yolo", root, "test", &ev) < 0, "unknown split");
    dataset_free(&tr), dataset_free(&ev);
    free(root);
}

static void det_cfg(AsrCfg *c, const char *cfg, const char *weights, const char *data, const char *out, long long steps) {
    asr_det_defaults(c);
    c->sr = "weights/carn_m.h5", c->task = cfg, c->weights = weights, c->data = data, c->out = out;
    c->scale = 4, c->crop = 160, c->batch = 1; /* 160x160: a quarter of Yolo-Fastest's 320 */
    c->steps = steps, c->ckpt_every = 1, c->quiet = true, c->lr = 1e-4;
}

TEST(finetune_asr_det_runs_and_resumes_exactly) {
    char *cfg = xstrdup(test_shared_path("weights/darknet/yolo-fastest-1.1.cfg"));
    char *wts = xstrdup(test_shared_path("weights/darknet/yolo-fastest-1.1.weights"));
    char *data = xstrdup(test_shared_path("data/coco128"));
    const char *dir = test_temp_dir("asrdet");
    char a[256], b[256], la[300], lb[300];
    snprintf(a, sizeof a, "%s/a.h5", dir), snprintf(b, sizeof b, "%s/b.h5", dir);
    snprintf(la, sizeof la, "%s/a_loss.csv", dir), snprintf(lb, sizeof lb, "%s/b_loss.csv", dir);
    AsrCfg c;
    det_cfg(&c, cfg, wts, data, a, 2); /* two images, one a step */
    EXPECT(finetune_asr_det(&c) == 0, "%s", rn_errmsg());
    det_cfg(&c, cfg, wts, data, b, 1); /* stop after one step ... */
    EXPECT(finetune_asr_det(&c) == 0, "%s", rn_errmsg());
    det_cfg(&c, cfg, wts, data, b, 2); /* ... and continue */
    c.resume = true;
    EXPECT(finetune_asr_det(&c) == 0, "%s", rn_errmsg());
    char *x = test_read_text(la), *y = test_read_text(lb);
    EXPECT(x && y && strcmp(x, y) == 0, "loss logs differ:\n%s\nvs\n%s", x ? x : "(none)", y ? y : "(none)");
    /* rows "step,loss,l1,la,lr": finite, with a positive detection loss */
    const char *row = x ? strstr(x, "\n1,") : NULL;
    double loss = NAN, l1 = NAN, lav = NAN;
    int got = row ? sscanf(row + 1, "1,%lf,%lf,%lf", &loss, &l1, &lav) : 0;
    EXPECT(got == 3, "log: %s", x ? x : "");
    EXPECT(isfinite(loss) && l1 > 0 && l1 < 0.2 && lav > 0 && isfinite(lav), "loss %g l1 %g la %g", loss, l1, lav);
    EXPECT_NEAR(loss, 0.9 * l1 + 0.1 * lav, 1e-5 * fabs(loss));
    CkptAttrs at;
    EXPECT(ckpt_read_attrs(a, &at) == 0, "%s", rn_errmsg());
    EXPECT(!strcmp(attrs_get_str(&at, "task_kind", ""), "det") && attrs_get_int(&at, "step", 0) == 2, "attributes");
    free(x), free(y), free(cfg), free(wts), free(data);
}

TEST(eval_det_tables_smoke) {
    char *cfg = xstrdup(test_shared_path("weights/darknet/yolo-fastest-1.1.cfg"));
    char *wts = xstrdup(test_shared_path("weights/darknet/yolo-fastest-1.1.weights"));
    char *data = xstrdup(test_shared_path("data/coco128"));
    Dataset ds;
    Darknet net;
    EXPECT(dataset_open("yolo", data, "eval", &ds) == 0, "%s", rn_errmsg());
    EXPECT(darknet_open(&net, cfg, wts) == 0, "%s", rn_errmsg());
    Carn *sr = NULL;
    EXPECT(carn_load("weights/carn_m.h5", &sr, NULL) == 0, "%s", rn_errmsg());
    EvalMethod m[3] = {{.name = "bilinear", .scale = 4, .kind = EVAL_BILINEAR},
                       {.name = "asr", .scale = 4, .kind = EVAL_CARN, .carn = sr, .file = "weights/carn_m.h5"},
                       {.name = "hr", .scale = 1, .kind = EVAL_HR}};
    DetTablesOpts o = {.quality = 0, .max_images = 2, .thresh = 0.005, .nms = 0.45, .iou = 0.5};
    DetTables t;
    EXPECT(det_tables_run(&ds, &net, m, 3, &o, &t) == 0, "%s", rn_errmsg());
    EXPECT(t.nimages == 2 && t.size == 320, "%d images at %d", t.nimages, t.size);
    for (int k = 0; k < 3; k++) {
        double map = det_tables_map(&t, k);
        EXPECT(map >= 0 && map <= 1, "%s mAP %g", m[k].name, map);
    }
    EXPECT(t.psnr[0] > 18 && t.psnr[0] < 40 && t.ssim[0] > 0.3 && t.ssim[0] < 1, "bilinear %g dB %g", t.psnr[0], t.ssim[0]);
    EXPECT(t.psnr[1] > t.psnr[0], "CARN-M beats bilinear in PSNR: %g vs %g", t.psnr[1], t.psnr[0]);
    EXPECT(isnan(t.psnr[2]) && isnan(t.ssim[2]), "hr has no PSNR");
    const char *dir = test_temp_dir("dettab");
    EXPECT(det_tables_write(&t, dir, NULL, NULL) == 0, "%s", rn_errmsg());
    char p[1024];
    snprintf(p, sizeof p, "%s/table6.csv", dir);
    char *csv = test_read_text(p);
    EXPECT(csv && strstr(csv, "scale,method,map50") && strstr(csv, "\n4,asr,") && strstr(csv, "\n1,hr,"), "%s", csv ? csv : "");
    snprintf(p, sizeof p, "%s/table6.md", dir);
    EXPECT(access(p, F_OK) == 0, "table6.md written");
    free(csv);
    snprintf(p, sizeof p, "%s/diffs.csv", dir);
    csv = test_read_text(p);
    EXPECT(csv && strstr(csv, "\n4,asr,bilinear,") && strstr(csv, "\n4,asr,hr,"), "%s", csv ? csv : "");
    free(csv);
    /* explicit pairs: only those, hr found at any scale, absent names skipped */
    EXPECT(det_tables_write(&t, dir, "bilinear-hr,asr-nosuch", NULL) == 0, "%s", rn_errmsg());
    csv = test_read_text(p);
    EXPECT(csv && !strcmp(strchr(csv, '\n') + 1, strstr(csv, "4,bilinear,hr,")) && !strstr(csv, "asr"), "%s", csv ? csv : "");
    free(csv);
    /* --json: one COCO results file per method holding exactly its detections, and the image ids */
    EXPECT(det_tables_write_coco(&t, &ds, dir) == 0, "%s", rn_errmsg());
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s/%s_x%d.json", dir, m[k].name, m[k].scale);
        csv = test_read_text(p);
        int n = 0, want = t.ndets[k * t.nimages] + t.ndets[k * t.nimages + 1];
        for (const char *q = csv; q && (q = strstr(q, "\"image_id\"")); q++) n++;
        EXPECT(csv && csv[0] == '[' && n == want, "%s: %d detections, %d expected", p, n, want);
        free(csv);
    }
    snprintf(p, sizeof p, "%s/images.json", dir);
    csv = test_read_text(p);
    char ids[64];
    snprintf(ids, sizeof ids, "[%ld, %ld]\n", det_coco_image_id(&ds, 0), det_coco_image_id(&ds, 1));
    EXPECT(csv && !strcmp(csv, ids), "images.json %s, expected %s", csv ? csv : "", ids);
    free(csv);
    double lo, hi, d = det_tables_bootstrap(&t, 1, 1, 50, 3, &lo, &hi);
    EXPECT(d == 0 && lo == 0 && hi == 0, "a method against itself: %g [%g, %g]", d, lo, hi);
    d = det_tables_bootstrap(&t, 1, 0, 50, 3, &lo, &hi);
    EXPECT_NEAR(d, det_tables_map(&t, 1) - det_tables_map(&t, 0), 1e-12);
    EXPECT(lo <= hi && lo >= -1 && hi <= 1, "[%g, %g]", lo, hi);
    det_tables_free(&t);
    carn_free(sr), darknet_free(&net), dataset_free(&ds);
    free(cfg), free(wts), free(data);
}

/* Class APs by hand: 0 -> 1, 1 -> 0, 2 no ground truth, 3 -> 0.5 (detections TP/FP... see below). */
TEST(det_tail_classes_are_the_worse_half_with_ground_truth) {
    DetTables t = {0};
    EvalMethod m = {.name = "hr", .scale = 1, .kind = EVAL_HR};
    t.nclasses = 4, t.nmethods = 1, t.methods = &m;
    DetEval ev;
    det_eval_init(&ev, 4, 0.5);
    t.ev = &ev;
    Box g[4] = {{0, 0, 0, 10, 10, false}, {1, 20, 20, 30, 30, false}, {3, 40, 40, 50, 50, false}, {3, 60, 60, 70, 70, false}};
    DetBox d[3] = {{0, 0, 0, 10, 10, 0.9f}, {1, 80, 80, 90, 90, 0.9f}, {3, 40, 40, 50, 50, 0.8f}};
    det_eval_add(&ev, d, 3, g, 4); /* class 3: one of two found at precision 1 -> AP 51/101 */
    int tail[4];
    int n = det_tail_classes(&t, 0, tail);
    EXPECT(n == 1 && tail[0] == 1, "n %d, worst %d", n, tail[0]);
    EXPECT(tail[1] == 3 && tail[2] == 0, "ranked by AP: %d %d", tail[1], tail[2]);
    EXPECT_NEAR(det_tables_tail_map(&t, 0, tail, 2), (0 + 51.0 / 101) / 2, 1e-12);
    det_eval_free(&ev);
}
