/* test_det_metrics.c: AP@IoU with COCO 101-point interpolation, greedy matching, ignored regions, mAP. */
#include <math.h>

#include <stdlib.h>

#include "profile/det_metrics.h"
#include "profile/eval_det.h"
#include "tests/test.h"

static Box gt(int cls, float x0, float y0, float x1, float y1, bool ignore) { return (Box){cls, x0, y0, x1, y1, ignore}; }
static DetBox det(int cls, float x0, float y0, float x1, float y1, float s) { return (DetBox){cls, x0, y0, x1, y1, s}; }

TEST(det_ap_perfect_and_empty) {
    DetEval e;
    det_eval_init(&e, 2, 0.5);
    Box g[2] = {gt(0, 0, 0, 10, 10, false), gt(0, 20, 20, 30, 30, false)};
    DetBox d[2] = {det(0, 0, 0, 10, 10, 0.9f), det(0, 21, 21, 31, 31, 0.8f)}; /* IoU 81/119 > .5 */
    det_eval_add(&e, d, 2, g, 2);
    EXPECT_NEAR(det_eval_ap(&e, 0), 1.0, 1e-12);
    EXPECT(isnan(det_eval_ap(&e, 1)), "a class without ground truth has no AP");
    double ap[2];
    EXPECT_NEAR(det_eval_map(&e, ap), 1.0, 1e-12); /* class 1 is left out of the mean */
    det_eval_free(&e);
}

/* Sorted TP FP TP FP TP over 4 ground truths: precision 1 .5 .667 .5 .6, recall .25 .25 .5 .5 .75;
 * envelope 1 .667 .667 .6 .6; 101 points: 26 at 1, 25 at 2/3, 25 at .6, 25 at 0. */
TEST(det_ap_101_point_by_hand) {
    DetEval e;
    det_eval_init(&e, 1, 0.5);
    Box g1[2] = {gt(0, 0, 0, 10, 10, false), gt(0, 50, 50, 60, 60, false)};
    Box g2[2] = {gt(0, 0, 0, 10, 10, false), gt(0, 80, 80, 90, 90, false)};
    DetBox d1[3] = {det(0, 0, 0, 10, 10, 0.95f), det(0, 30, 30, 40, 40, 0.9f), det(0, 50, 50, 60, 60, 0.85f)};
    DetBox d2[2] = {det(0, 0, 0, 10, 10, 0.8f), det(0, 0, 0, 10, 10, 0.82f)}; /* the 0.8 one is a duplicate */
    det_eval_add(&e, d1, 3, g1, 2);
    det_eval_add(&e, d2, 2, g2, 2);
    /* order: .95 TP, .9 FP, .85 TP, .82 TP, .8 FP (duplicate) -> TP FP TP TP FP: recompute by hand:
     * precision 1 .5 .667 .75 .6, recall .25 .25 .5 .75 .75; envelope 1 .75 .75 .75 .6 */
    EXPECT_NEAR(det_eval_ap(&e, 0), (26 + 50 * 0.75) / 101.0, 1e-12);
    int tp, fp;
    det_eval_counts(&e, 0, 0.84f, &tp, &fp);
    EXPECT(tp == 2 && fp == 1, "%d %d", tp, fp);
    det_eval_free(&e);

    det_eval_init(&e, 1, 0.5);
    DetBox d3[5] = {det(0, 0, 0, 10, 10, 0.9f), det(0, 30, 30, 40, 40, 0.8f), det(0, 50, 50, 60, 60, 0.7f),
                    det(0, 30, 0, 40, 10, 0.6f), det(0, 80, 80, 90, 90, 0.5f)};
    Box g3[4] = {gt(0, 0, 0, 10, 10, false), gt(0, 50, 50, 60, 60, false), gt(0, 80, 80, 90, 90, false),
                 gt(0, 100, 100, 110, 110, false)};
    det_eval_add(&e, d3, 5, g3, 4);
    EXPECT_NEAR(det_eval_ap(&e, 0), (26 + 25 * (2.0 / 3) + 25 * 0.6) / 101.0, 1e-12);
    det_eval_free(&e);
}

TEST(det_ignored_regions_are_neither_hits_nor_misses) {
    DetEval e;
    det_eval_init(&e, 2, 0.5);
    Box g[3] = {gt(0, 0, 0, 10, 10, false), gt(-1, 100, 100, 200, 200, true), gt(1, 300, 300, 310, 310, true)};
    DetBox d[4] = {det(0, 0, 0, 10, 10, 0.9f),
                   det(0, 110, 110, 130, 130, 0.95f), /* inside the any-class region: dropped */
                   det(0, 190, 190, 230, 230, 0.97f), /* IoF 100/1600 with it: a false positive */
                   det(1, 300, 300, 310, 310, 0.5f)}; /* inside a class-1 crowd box: dropped */
    det_eval_add(&e, d, 4, g, 3);
    EXPECT(e.npos[0] == 1 && e.npos[1] == 0 && e.n[0] == 2 && e.n[1] == 0, "npos %d %d kept %d %d", e.npos[0], e.npos[1],
           e.n[0], e.n[1]);
    /* FP at .97 then TP at .9: precision .5 at recall 1 -> AP .5 */
    EXPECT_NEAR(det_eval_ap(&e, 0), 0.5, 1e-12);
    det_eval_free(&e);
}

TEST(det_match_prefers_highest_iou_unmatched) {
    DetEval e;
    det_eval_init(&e, 1, 0.5);
    Box g[2] = {gt(0, 0, 0, 10, 10, false), gt(0, 2, 0, 12, 10, false)};
    /* the first detection overlaps both, best with the second; the next takes the first */
    DetBox d[2] = {det(0, 2, 0, 12, 10, 0.9f), det(0, 0, 0, 10, 10, 0.8f)};
    det_eval_add(&e, d, 2, g, 2);
    EXPECT_NEAR(det_eval_ap(&e, 0), 1.0, 1e-12);
    det_eval_free(&e);
}

/* Model classes onto dataset classes: by name without case, spaces, '_' or '-', then aliases;
 * without model names, by index. */
TEST(det_class_map_by_name_alias_and_index) {
    Dataset ds;
    dataset_init(&ds, "visdrone-like");
    const char *cls[4] = {"pedestrian", "dining_table", "motor", "van"};
    dataset_set_classes(&ds, cls, 4);
    char *names[5] = {"person", "Dining Table", "motorbike", "zebra", "tvmonitor"};
    bool mapped[4] = {false};
    int *map = det_class_map(names, 5, 6, &ds, mapped);
    EXPECT(map[0] == 0 && map[1] == 1 && map[2] == 2 && map[3] == -1 && map[4] == -1 && map[5] == -1,
           "map %d %d %d %d %d %d", map[0], map[1], map[2], map[3], map[4], map[5]);
    EXPECT(mapped[0] && mapped[1] && mapped[2] && !mapped[3], "van has no model class");
    free(map);
    bool by_index[4] = {false};
    map = det_class_map(NULL, 0, 3, &ds, by_index);
    EXPECT(map[0] == 0 && map[2] == 2 && by_index[2] && !by_index[3], "identity without names");
    free(map);
    dataset_free(&ds);
}

/* darknet's detector map: a detection whose best ground truth was taken is a false positive, with no
 * second choice (COCO would give it the other box); the mean counts classes without ground truth as 0. */
TEST(det_darknet_matching_area_and_mean) {
    Box g[2] = {gt(0, 0, 0, 10, 10, false), gt(0, 2, 0, 12, 10, false)};
    /* the second detection: IoU .905 with the taken box, .739 with the free one */
    DetBox d[2] = {det(0, 2, 0, 12, 10, 0.9f), det(0, 1.5f, 0, 11.5f, 10, 0.8f)};
    DetEval e;
    det_eval_init(&e, 2, 0.5);
    det_eval_add(&e, d, 2, g, 2);
    EXPECT_NEAR(det_eval_ap(&e, 0), 1.0, 1e-12);
    det_eval_free(&e);
    det_eval_init_def(&e, 2, 0.5, (DetApDef){DET_AP_DARKNET, 0, 0});
    det_eval_add(&e, d, 2, g, 2);
    /* TP then FP over 2 boxes: recall .5 at precision 1 -> area .5 */
    EXPECT_NEAR(det_eval_ap(&e, 0), 0.5, 1e-12);
    bool counted[2] = {true, true};
    EXPECT_NEAR(det_eval_map_darknet(&e, counted), 0.25, 1e-12); /* class 1 (no ground truth) counts 0 */
    det_eval_free(&e);
    /* 11 points: precision 1 up to recall .5 (points 0 .. .5: 6 of them), 0 after */
    det_eval_init_def(&e, 2, 0.5, (DetApDef){DET_AP_DARKNET, 11, 0});
    det_eval_add(&e, d, 2, g, 2);
    EXPECT_NEAR(det_eval_ap(&e, 0), 6 / 11.0, 1e-12);
    det_eval_free(&e);
}

/* darknet needs IoU > the threshold, COCO >= it: a box at exactly IoU .5 is a hit for COCO alone. */
TEST(det_darknet_strict_iou_and_coco_cap) {
    Box g[1] = {gt(0, 0, 0, 10, 10, false)};
    DetBox d[1] = {det(0, 0, 0, 20, 10, 0.9f)}; /* IoU 100/200 */
    DetEval e;
    det_eval_init(&e, 1, 0.5);
    det_eval_add(&e, d, 1, g, 1);
    EXPECT_NEAR(det_eval_ap(&e, 0), 1.0, 1e-12);
    det_eval_free(&e);
    det_eval_init_def(&e, 1, 0.5, (DetApDef){DET_AP_DARKNET, 0, 0});
    det_eval_add(&e, d, 1, g, 1);
    EXPECT_NEAR(det_eval_ap(&e, 0), 0.0, 1e-12);
    det_eval_free(&e);
    /* max_dets 1: only the best-scored detection of the class counts, so the hit scored lower is cut */
    DetBox two[2] = {det(0, 50, 50, 60, 60, 0.9f), det(0, 0, 0, 10, 10, 0.5f)};
    det_eval_init_def(&e, 1, 0.5, (DetApDef){DET_AP_COCO, 101, 1});
    det_eval_add(&e, two, 2, g, 1);
    EXPECT(e.n[0] == 1, "kept %d", e.n[0]);
    EXPECT_NEAR(det_eval_ap(&e, 0), 0.0, 1e-12);
    det_eval_free(&e);
}

/* darknet's binaries (built -Ofast) ask for recall >= k * (1.0/(N-1)): with 11 points, 6 * 0.1 =
 * 0.6000000000000001, so three hits of five boxes (recall exactly 0.6) miss the seventh point. */
TEST(det_darknet_points_follow_the_ofast_binary) {
    Box g[5] = {gt(0, 0, 0, 10, 10, false), gt(0, 20, 0, 30, 10, false), gt(0, 40, 0, 50, 10, false),
                gt(0, 60, 0, 70, 10, false), gt(0, 80, 0, 90, 10, false)};
    DetBox d[3] = {det(0, 0, 0, 10, 10, 0.9f), det(0, 20, 0, 30, 10, 0.8f), det(0, 40, 0, 50, 10, 0.7f)};
    DetEval e;
    det_eval_init_def(&e, 1, 0.5, (DetApDef){DET_AP_DARKNET, 11, 0});
    det_eval_add(&e, d, 3, g, 5);
    EXPECT_NEAR(det_eval_ap(&e, 0), 6 / 11.0, 1e-12); /* points 0 .. 0.5; exact division would give 7/11 */
    det_eval_free(&e);
}
