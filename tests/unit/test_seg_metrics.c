/* test_seg_metrics.c: confusion/IoU, small-region masks, tail classes and percentiles on hand-checked cases. */
#include <math.h>
#include <string.h>

#include "profile/seg_metrics.h"
#include "profile/tail.h"
#include "tests/test.h"

TEST(confusion_iou_hand_example) {
    /* labels 0 0 1 1 2 255 ; preds 0 1 1 1 0 2 -> class0: tp1 fp1 fn1 -> 1/3; class1: tp2 fp1 -> 2/3;
     * class2: tp0 fn1 -> 0; the ignored pixel does not count */
    uint8_t lab[6] = {0, 0, 1, 1, 2, 255}, pred[6] = {0, 1, 1, 1, 0, 2};
    Confusion c;
    confusion_init(&c, 3);
    confusion_add(&c, pred, lab, 6, 255);
    EXPECT_NEAR(confusion_iou(&c, 0), 1.0 / 3, 1e-12);
    EXPECT_NEAR(confusion_iou(&c, 1), 2.0 / 3, 1e-12);
    EXPECT_NEAR(confusion_iou(&c, 2), 0.0, 1e-12);
    EXPECT_NEAR(confusion_miou(&c), 1.0 / 3, 1e-12);
    EXPECT_NEAR(confusion_pixel_acc(&c), 3.0 / 5, 1e-12);
    Confusion d;
    confusion_init(&d, 4);
    confusion_add(&d, pred, lab, 6, 255);
    EXPECT(isnan(confusion_iou(&d, 3)), "absent class has undefined IoU");
    EXPECT_NEAR(confusion_miou(&d), 1.0 / 3, 1e-12);
    confusion_free(&c), confusion_free(&d);
}

TEST(argmax_ties_go_low) {
    float logits[2 * 3] = {1, 5, 2, /* class 1: */ 1, 4, 3};
    uint8_t p[3];
    argmax_channels(logits, 2, 3, p);
    EXPECT(p[0] == 0 && p[1] == 0 && p[2] == 1, "got %d %d %d", p[0], p[1], p[2]);
}

TEST(small_region_mask_components) {
    /* 6x4 frame, 24 px: a 2-px region of class 1 (small at frac 0.1 -> limit 2.4), a 3-px diagonal
     * pair that is NOT 4-connected (two 1-px regions, class 2), class 0 background (big) */
    uint8_t lab[24] = {0, 0, 0, 0, 0, 0,
                       0, 1, 1, 0, 2, 0,
                       0, 0, 0, 0, 0, 2,
                       0, 0, 0, 0, 0, 255};
    uint8_t mask[24];
    size_t n = small_region_mask(lab, 6, 4, 0.1, 255, mask);
    EXPECT(n == 4, "masked %zu", n);
    EXPECT(mask[7] && mask[8] && mask[10] && mask[17] && !mask[0] && !mask[23], "mask layout");
    long long cnt[3] = {0}, area[3] = {0};
    region_stats(lab, 6, 4, 3, 255, cnt, area);
    EXPECT(cnt[0] == 1 && area[0] == 19, "background %lld %lld", cnt[0], area[0]);
    EXPECT(cnt[1] == 1 && area[1] == 2, "class 1");
    EXPECT(cnt[2] == 2 && area[2] == 2, "class 2 is two regions");
    EXPECT_NEAR(small_region_ratio(lab, 6, 4, 0.1, 255), 4.0 / 23, 1e-12);
}

TEST(tail_classes_worst_half) {
    Confusion c;
    confusion_init(&c, 5);
    /* diagonal-heavy: class i has IoU increasing with i */
    for (int i = 0; i < 5; i++) {
        c.m[i * 5 + i] = 10 + 10 * i;
        c.m[i * 5 + (i + 1) % 5] = 10;
    }
    int tail[5];
    int n = tail_classes(&c, 5, tail);
    EXPECT(n == 2, "5 classes -> 2 tail classes, got %d", n);
    EXPECT(confusion_iou(&c, tail[0]) <= confusion_iou(&c, tail[1]), "sorted worst first");
    double m = mean_iou_over(&c, tail, n);
    EXPECT(m < confusion_miou(&c), "tail mean below overall");
    confusion_free(&c);
}

/* The one tail rule: classes without a score are not ranked, ties go by class id, the whole
 * ranking comes back and the worse half of it (rounded down) is the tail. */
TEST(tail_worse_half_ranks_scored_classes) {
    const double score[7] = {0.5, NAN, 0.2, 0.5, 0.9, 0.1, NAN};
    int ranked[7] = {-1, -1, -1, -1, -1, -1, -1};
    int n = tail_worse_half(score, 7, ranked);
    const int want[5] = {5, 2, 0, 3, 4};
    EXPECT(n == 2, "5 scored classes -> 2 in the tail, got %d", n);
    EXPECT(memcmp(ranked, want, sizeof want) == 0 && ranked[5] == -1, "ranking %d %d %d %d %d", ranked[0], ranked[1],
           ranked[2], ranked[3], ranked[4]);
    EXPECT(tail_worse_half(score + 1, 1, ranked) == 0, "no scored class, no tail");
}

TEST(percentile_matches_numpy_linear) {
    /* numpy.percentile(range(1, 11), [10, 1, 50]) = 1.9, 1.09, 5.5 */
    double v[10];
    for (int i = 0; i < 10; i++) v[i] = 10 - i;
    EXPECT_NEAR(percentile(v, 10, 10), 1.9, 1e-12);
    EXPECT_NEAR(percentile(v, 10, 1), 1.09, 1e-12);
    EXPECT_NEAR(percentile(v, 10, 50), 5.5, 1e-12);
}
