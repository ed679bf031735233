/* test_detail_mask.c: Eq. 3's detail mask — regions measured against the WHOLE frame (then cropped), the exact `area < limit`, small boxes against the whole image, bad input refused before training, mask-stats. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "data/degrade.h"
#include "data/loader.h"
#include "nn/models/darknet.h"
#include "profile/mask_stats.h"
#include "profile/tail.h"
#include "tests/rune_exec.h"
#include "tests/test.h"
#include "train/finetune_asr.h"
#include "util/err.h"

/* ---- the threshold itself: a region is detail iff its area < small * frame area ---- */

/* A w x h label map of class 0 with one horizontal run of `len` pixels of class c at row y (x from
 * 1): each run is its own region; class 0 stays one large region around them (column 0). */
static void run_at(uint8_t *lab, int w, int y, int len, uint8_t c) {
    for (int x = 1; x <= len; x++) lab[y * w + x] = c;
}

/* The training path's mask (asr_frame_detail_mask) of a whole w x h label at `small`. */
static uint8_t *frame_mask(uint8_t *lab, int w, int h, double small) {
    Image im = {w, h, 1, lab};
    uint8_t *m = xmalloc((size_t)w * h);
    EXPECT(asr_frame_detail_mask(&im, m, &small) == 0, "%s", rn_errmsg());
    return m;
}

/* Whether the region of class c (its first pixel, in scan order) is in the mask. */
static int detail(const uint8_t *lab, const uint8_t *m, int n, uint8_t c) {
    for (int i = 0; i < n; i++)
        if (lab[i] == c) return m[i];
    return -1;
}

/* Limit 10 exactly (20x10 = 200 px at 0.05 and 16x16 = 256 px at 10/256, binary-exact): regions
 * of 9, 10 and 11 px. Only 9 is detail: `area <= limit` would take 10, `area < 2 * limit` 10 and 11. */
TEST(detail_mask_area_strictly_below_an_integer_limit) {
    struct { int w, h; double small; } cases[] = {{20, 10, 0.05}, {16, 16, 10.0 / 256}};
    for (int k = 0; k < 2; k++) {
        int w = cases[k].w, h = cases[k].h, n = w * h;
        EXPECT(cases[k].small * n == 10.0, "case %d: the limit is exactly 10", k);
        uint8_t *lab = xcalloc((size_t)n, 1);
        run_at(lab, w, 1, 9, 1), run_at(lab, w, 4, 10, 2), run_at(lab, w, 7, 11, 3);
        uint8_t *m = frame_mask(lab, w, h, cases[k].small);
        EXPECT(detail(lab, m, n, 1) == 1, "case %d: 9 px < 10 is detail", k);
        EXPECT(detail(lab, m, n, 2) == 0, "case %d: 10 px (= the limit) is not detail", k);
        EXPECT(detail(lab, m, n, 3) == 0, "case %d: 11 px is not detail", k);
        EXPECT(detail(lab, m, n, 0) == 0, "case %d: the background is not detail", k);
        free(lab), free(m);
    }
}

/* Limit 10.5 (16x16 at 21/512, binary-exact): 10 px is detail, 11 px is not (`2 * limit` = 21
 * would take it). And the default 1 % of a 100x100 frame (limit 100): 99 px yes, 100 and 101 no. */
TEST(detail_mask_area_below_a_fractional_and_a_decimal_limit) {
    uint8_t lab[256] = {0};
    run_at(lab, 16, 2, 10, 1), run_at(lab, 16, 6, 11, 2);
    uint8_t *m = frame_mask(lab, 16, 16, 21.0 / 512);
    EXPECT(detail(lab, m, 256, 1) == 1 && detail(lab, m, 256, 2) == 0, "10 px yes, 11 px no at limit 10.5: %d %d",
           detail(lab, m, 256, 1), detail(lab, m, 256, 2));
    free(m);
    uint8_t *big = xcalloc(100 * 100, 1);
    for (int y = 0; y < 10; y++) /* 99 = 9x11, 100 = 10x10, 101 = 10x10 + 1, apart from each other */
        for (int x = 0; x < 11; x++) {
            if (y < 9) big[(10 + y) * 100 + 10 + x] = 1;
            if (x < 10) big[(40 + y) * 100 + 10 + x] = 2, big[(70 + y) * 100 + 10 + x] = 3;
        }
    big[80 * 100 + 10] = 3;
    m = frame_mask(big, 100, 100, 0.01);
    EXPECT(detail(big, m, 10000, 1) == 1 && detail(big, m, 10000, 2) == 0 && detail(big, m, 10000, 3) == 0,
           "1 %% of 100x100: 99 px %d, 100 px %d, 101 px %d", detail(big, m, 10000, 1), detail(big, m, 10000, 2),
           detail(big, m, 10000, 3));
    size_t cnt = 0;
    for (int i = 0; i < 10000; i++) cnt += m[i];
    EXPECT(cnt == 99, "%zu pixels masked", cnt);
    free(big), free(m);
}

/* ---- crops: cut from the whole frame's mask ---- */

enum { FW = 40, FH = 30, CROP = 16 };

/* The frame: class 0 background; a 10-column band of class 1 down the left edge (300 px, large at
 * 5 % = 60 px, yet a crop that holds 1-3 of its columns sees 16-48 px of it); a 5x5 square of class
 * 2 (25 px, small); a 28x5 strip of class 3 at the bottom (140 px); a 4x4 ignore patch. */
static uint8_t frame_label(int x, int y) {
    if (x < 10) return 1;
    if (x >= 20 && x < 25 && y >= 10 && y < 15) return 2;
    if (y >= 25 && x >= 12) return 3;
    if (x >= 30 && x < 34 && y >= 2 && y < 6) return DS_IGNORE;
    return 0;
}

/* Frames whose pixels name their place (R = x, G = y), with the label above, in a temp folder. */
static void synth_frames(Dataset *ds, int n) {
    const char *dir = test_temp_dir("dm");
    dataset_init(ds, "synthetic-detail");
    for (int i = 0; i < n; i++) {
        char fp[300], lp[300];
        snprintf(fp, sizeof fp, "%s/f%d.png", dir, i), snprintf(lp, sizeof lp, "%s/l%d.png", dir, i);
        Image im = image_alloc(FW, FH, 3), lab = image_alloc(FW, FH, 1);
        for (int y = 0; y < FH; y++)
            for (int x = 0; x < FW; x++) {
                uint8_t *p = im.px + ((size_t)y * FW + x) * 3;
                p[0] = (uint8_t)x, p[1] = (uint8_t)y, p[2] = (uint8_t)i;
                lab.px[y * FW + x] = frame_label(x, y);
            }
        EXPECT(png_write(fp, &im) == 0 && png_write(lp, &lab) == 0, "%s", rn_errmsg());
        image_free(&im), image_free(&lab);
        dataset_add(ds, fp)->label = xstrdup(lp);
    }
}

static int px(const float *plane, int k) { return (int)(plane[k] * 255.0f + 0.5f); }

/* Batches of finetune-asr's loader settings (crops, flips) plus vflip/rot90 to try every view;
 * *masks gets the masks of all NB batches. */
static uint8_t *mask_batches(const Dataset *ds, bool prefetch, size_t cache, int nb, float **frames, uint8_t **labels) {
    double small = 0.05;
    LoaderCfg cfg = {.task = LOADER_SEG, .batch = 8, .patch = CROP, .hflip = true, .vflip = true, .rot90 = true,
                     .seed = 11, .prefetch = prefetch, .cache_bytes = cache, .label_mask = asr_frame_detail_mask,
                     .label_mask_ctx = &small};
    Loader *L = loader_open(ds, &cfg);
    EXPECT(L != NULL, "%s", rn_errmsg());
    size_t item = CROP * CROP, per = 8 * item;
    uint8_t *masks = xcalloc(nb * per, 1);
    *frames = xcalloc(nb * 3 * per, sizeof **frames), *labels = xcalloc(nb * per, 1);
    for (int b = 0; L && b < nb; b++) {
        EXPECT(loader_next(L, *frames + b * 3 * per, NULL, *labels + b * per) == 0, "%s", rn_errmsg());
        memcpy(masks + b * per, loader_masks(L), per);
    }
    loader_close(L);
    return masks;
}

TEST(detail_mask_of_a_crop_is_the_whole_frames_mask_cut_with_it) {
    Dataset ds;
    synth_frames(&ds, 2);
    uint8_t full[FW * FH], lab[FW * FH];
    for (int i = 0; i < FW * FH; i++) lab[i] = frame_label(i % FW, i / FW);
    double small = 0.05;
    Image li = {FW, FH, 1, lab};
    asr_frame_detail_mask(&li, full, &small);
    EXPECT(full[0] == 0 && full[12 * FW + 22] == 1 && full[27 * FW + 20] == 0, "whole frame: band no, square yes, strip no");
    int nb = 6, bad = 0, cut_band = 0, whole_square = 0, crop_would_differ = 0;
    float *x;
    uint8_t *labels, *m = mask_batches(&ds, true, 0, nb, &x, &labels), crop_mask[CROP * CROP];
    for (int it = 0; it < nb * 8; it++) {
        const float *R = x + (size_t)it * 3 * CROP * CROP, *G = R + CROP * CROP;
        const uint8_t *mi = m + (size_t)it * CROP * CROP, *li2 = labels + (size_t)it * CROP * CROP;
        int band = 0, square = 0;
        for (int k = 0; k < CROP * CROP; k++) {
            int sx = px(R, k), sy = px(G, k);
            bad += mi[k] != full[sy * FW + sx];
            band += li2[k] == 1, square += li2[k] == 2;
        }
        cut_band += band > 0 && band < 60; /* the crop holds < 5 % of the frame of the band */
        whole_square += square == 25;
        /* what the old code did: regions measured inside the crop, against the crop's area */
        small_region_mask(li2, CROP, CROP, small * FW * FH / (CROP * CROP), DS_IGNORE, crop_mask);
        for (int k = 0; k < CROP * CROP; k++) crop_would_differ += crop_mask[k] != mi[k];
    }
    EXPECT(bad == 0, "%d crop pixels whose mask is not their frame pixel's", bad);
    EXPECT(cut_band > 0 && whole_square > 0, "crops that cut the band: %d, that hold the square: %d", cut_band, whole_square);
    EXPECT(crop_would_differ > 0, "no crop where a crop-relative mask differs: the test would not see the old code");
    /* without prefetch and without the cache (the mask remade at each decode): the same masks */
    float *x2;
    uint8_t *l2, *m2 = mask_batches(&ds, false, 1, nb, &x2, &l2);
    EXPECT(!memcmp(m, m2, (size_t)nb * 8 * CROP * CROP) && !memcmp(labels, l2, (size_t)nb * 8 * CROP * CROP),
           "masks differ with prefetch / cache off");
    free(x), free(labels), free(m), free(x2), free(l2), free(m2);
    dataset_free(&ds);
}

TEST(detail_mask_only_for_segmentation_batches) {
    Dataset ds;
    synth_frames(&ds, 1);
    double small = 0.05;
    int quality = 0;
    LoaderCfg cfg = {.task = LOADER_DET, .batch = 1, .patch = 16, .scale = 4, .degrade = degrade_lr, .degrade_ctx = &quality,
                     .label_mask = asr_frame_detail_mask, .label_mask_ctx = &small};
    EXPECT(loader_open(&ds, &cfg) == NULL && strstr(rn_errmsg(), "segmentation batches only"), "%s", rn_errmsg());
    dataset_free(&ds);
}

/* ---- detection: a box's share of the whole image ---- */

/* One 64x32 image (2048 px) with three boxes: A 8x4 = 32 px (1/64 of the image, but 1/8 of a 16x16
 * input), B 16x16 = 256 px (1/8 of the image, but 2.8 % of a 96x96 input), C 8x3 = 24 px. */
static void synth_boxes(Dataset *ds) {
    const char *dir = test_temp_dir("db");
    char fp[300];
    snprintf(fp, sizeof fp, "%s/img.png", dir);
    Image im = image_alloc(64, 32, 3);
    memset(im.px, 120, (size_t)64 * 32 * 3);
    EXPECT(png_write(fp, &im) == 0, "%s", rn_errmsg());
    image_free(&im);
    dataset_init(ds, "synthetic-boxes");
    Sample *s = dataset_add(ds, fp);
    int cap = 0;
    box_push(&s->boxes, &s->nboxes, &cap, (Box){0, 0, 0, 8, 4, false});
    box_push(&s->boxes, &s->nboxes, &cap, (Box){1, 10, 10, 26, 26, false});
    box_push(&s->boxes, &s->nboxes, &cap, (Box){0, 30, 5, 38, 8, false});
}

/* Which of the loader's boxes (A, B, C; mirrored or not) are small at `frac`, as bits 1, 2, 4. */
static int small_boxes(const Dataset *ds, int side, double frac, int batch) {
    int quality = 0, bits = 0;
    LoaderCfg cfg = {.task = LOADER_DET, .batch = 1, .patch = side, .scale = 4, .hflip = true, .seed = 1,
                     .degrade = degrade_lr, .degrade_ctx = &quality};
    Loader *L = loader_open(ds, &cfg);
    EXPECT(L != NULL, "%s", rn_errmsg());
    if (!L) return -1;
    float *lr = xmalloc((size_t)3 * side * side * sizeof *lr), *hr = xmalloc((size_t)3 * side * side * sizeof *hr);
    loader_seek(L, batch);
    EXPECT(loader_next(L, lr, hr, NULL) == 0, "%s", rn_errmsg());
    int n;
    const Box *b = loader_boxes(L, 0, &n);
    EXPECT(n == 3, "%d boxes", n);
    for (int k = 0; k < n && k < 3; k++) {
        YoloTruth t = {b[k].cls, b[k].x0, b[k].y0, b[k].x1, b[k].y1};
        bits |= yolo_truth_small(&t, frac) << k;
    }
    loader_close(L);
    free(lr), free(hr);
    return bits;
}

TEST(detail_boxes_are_small_against_the_whole_image) {
    Dataset ds;
    synth_boxes(&ds);
    for (int batch = 0; batch < 4; batch++) /* seed 1 mirrors some of these: areas do not change */
        for (int side = 16; side <= 96; side += 80) {
            int at5 = small_boxes(&ds, side, 0.05, batch), at64 = small_boxes(&ds, side, 1.0 / 64, batch);
            EXPECT(at5 == (1 | 4), "input %d, batch %d, 5 %%: A and C small, B not (got %#x)", side, batch, at5);
            EXPECT(at64 == 4, "input %d, batch %d, 1/64: A (= 1/64) not small, C small (got %#x)", side, batch, at64);
        }
    dataset_free(&ds);
}

/* ---- bad input: refused before any model loads or any step runs ---- */

/* A CamVid-style root DIR with train.txt listing one frame 16x16 and its label of lw x lh (no label
 * file when lw = 0). */
static const char *camvid_root(int lw, int lh) {
    const char *dir = test_temp_dir("root");
    char p[400];
    snprintf(p, sizeof p, "%s/train", dir), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/train/seq_000.png", dir);
    Image im = image_alloc(16, 16, 3);
    memset(im.px, 77, (size_t)16 * 16 * 3);
    EXPECT(png_write(p, &im) == 0, "%s", rn_errmsg());
    image_free(&im);
    if (lw) {
        snprintf(p, sizeof p, "%s/trainannot", dir), mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/trainannot/seq_000.png", dir);
        Image lab = image_alloc(lw, lh, 1);
        memset(lab.px, 1, (size_t)lw * lh);
        EXPECT(png_write(p, &lab) == 0, "%s", rn_errmsg());
        image_free(&lab);
    }
    snprintf(p, sizeof p, "%s/train.txt", dir);
    FILE *f = fopen(p, "w");
    if (f) fputs("train/seq_000.png trainannot/seq_000.png\n", f), fclose(f);
    return dir;
}

/* finetune_asr on DATA with model files that do not exist: a data error must come first. */
static int run_on(const char *data, double small) {
    AsrCfg c;
    asr_defaults(&c);
    c.sr = "no_such_sr.h5", c.task = "no_such_task.h5", c.data = data, c.out = "no_such_out.h5", c.quiet = true;
    c.small = small;
    return finetune_asr(&c);
}

static bool msg_has(const char *s) { return strstr(rn_errmsg(), s) != NULL; }

TEST(finetune_asr_refuses_bad_data_and_thresholds_before_training) {
    double bad[] = {0, 1, -0.01, 1.5, NAN};
    for (int i = 0; i < 5; i++)
        EXPECT(run_on("no_such_dir", bad[i]) < 0 && msg_has("--small") && msg_has("between 0 and 1"), "small %g: %s", bad[i],
               rn_errmsg());
    const char *other = camvid_root(16, 8);
    EXPECT(run_on(other, 0.01) < 0 && msg_has("trainannot/seq_000.png is 16x8 but frame") && !msg_has("no_such"),
           "label of another size: %s", rn_errmsg());
    const char *noannot = camvid_root(0, 0);
    EXPECT(run_on(noannot, 0.01) < 0 && msg_has("1 of 1 label maps") && msg_has("trainannot/seq_000.png: cannot open"),
           "annotation folder missing: %s", rn_errmsg());
    char frames[400];
    snprintf(frames, sizeof frames, "%s/train", noannot); /* a plain folder of frames */
    EXPECT(run_on(frames, 0.01) < 0 && msg_has("no label maps"), "frames only: %s", rn_errmsg());
    const char *good = camvid_root(16, 16);
    EXPECT(run_on(good, 0.01) < 0 && msg_has("no_such_sr.h5"), "a good split gets as far as the SR model: %s", rn_errmsg());
}

TEST(finetune_asr_small_outside_0_1_is_a_usage_error) {
    static char out[8192];
    const char *base = "finetune-asr --sr nx.h5 --task nx.h5 --data nx --out nx.h5 --small ";
    const char *vals[] = {"0", "1", "1.5", "-0.2", "nan"}, *kinds[] = {"", " --task-kind det"};
    char args[300];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 5; i++) {
            snprintf(args, sizeof args, "%s%s%s", base, vals[i], kinds[k]);
            int rc = rune_exec(args, out, sizeof out);
            EXPECT(rc == 2 && strstr(out, "--small") && strstr(out, "between 0 and 1") && !strstr(out, "nx.h5:"),
                   "%s: exit %d: %s", args, rc, out);
        }
}

/* ---- the training run: a large region cut by the crop gives no detail loss ---- */

/* A CamVid-style root of 2 frames 48x32 (1536 px) in three vertical bands, each large at --small
 * 0.2 (limit 307 px): class 1 columns 0-16 (544 px), class 0 17-30 (448), class 2 31-47 (544). A
 * 32x32 crop keeps all of the middle band and a cut piece of an outer one, which is under 0.2 of
 * the crop (205 px) in 12 of the 17 crop positions: detail if regions were measured in the crop. */
static const char *banded_root(void) {
    const char *dir = test_temp_dir("bands");
    char p[400];
    snprintf(p, sizeof p, "%s/train", dir), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/trainannot", dir), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/train.txt", dir);
    FILE *list = fopen(p, "w");
    for (int i = 0; i < 2; i++) {
        Image im = image_alloc(48, 32, 3), lab = image_alloc(48, 32, 1);
        for (int k = 0; k < 48 * 32; k++) {
            int x = k % 48;
            lab.px[k] = x <= 16 ? 1 : x <= 30 ? 0 : 2;
            for (int ch = 0; ch < 3; ch++) im.px[3 * k + ch] = (uint8_t)(40 + 60 * lab.px[k] + 7 * ch + 13 * i + x);
        }
        snprintf(p, sizeof p, "%s/train/seq_%03d.png", dir, i);
        EXPECT(png_write(p, &im) == 0, "%s", rn_errmsg());
        snprintf(p, sizeof p, "%s/trainannot/seq_%03d.png", dir, i);
        EXPECT(png_write(p, &lab) == 0, "%s", rn_errmsg());
        if (list) fprintf(list, "train/seq_%03d.png trainannot/seq_%03d.png\n", i, i);
        image_free(&im), image_free(&lab);
    }
    if (list) fclose(list);
    return dir;
}

/* finetune-asr's settings for a run on the banded frames: CARN-M through ESPNet, 32x32 crops,
 * checkpoint and loss log under the frames' folder (out holds the checkpoint's path). */
static AsrCfg banded_cfg(char out[400]) {
    const char *data = banded_root();
    snprintf(out, 400, "%s/asr.h5", data);
    AsrCfg c;
    asr_defaults(&c);
    c.sr = "weights/carn_m.h5", c.task = "weights/espnet_camvid.h5", c.data = data, c.out = out;
    c.crop = 32, c.ckpt_every = 0, c.quiet = true;
    return c;
}

TEST(finetune_asr_large_regions_cut_by_the_crop_give_no_detail_loss) {
    char out[400];
    AsrCfg c = banded_cfg(out);
    const char *data = c.data;
    c.batch = 2, c.steps = 3, c.small = 0.2, c.beta = 0.5;
    EXPECT(finetune_asr(&c) == 0, "%s", rn_errmsg());
    char log[420];
    snprintf(log, sizeof log, "%s/asr_loss.csv", data);
    char *text = test_read_text(log);
    int steps = 0;
    for (const char *p = text ? strchr(text, '\n') : NULL; p && p[1]; p = strchr(p + 1, '\n')) {
        double step, loss, l1, la;
        if (sscanf(p + 1, "%lf,%lf,%lf,%lf", &step, &loss, &l1, &la) != 4) continue;
        steps++;
        EXPECT(la == 0 && l1 > 0, "step %g: L_a %g (no region is small against the frame), L1 %g", step, la, l1);
    }
    EXPECT(steps == 3, "%d steps logged:\n%s", steps, text ? text : "(none)");
    free(text);
}

/* A checkpoint that does not say its regions were measured on the frame (here: a --mask all run,
 * as every detail-mask checkpoint made before the change) is not resumed with the detail mask. */
TEST(finetune_asr_does_not_resume_a_crop_relative_detail_checkpoint) {
    char out[400];
    AsrCfg c = banded_cfg(out);
    c.batch = 1, c.steps = 1, c.loss = ASR_LOSS_ALL;
    EXPECT(finetune_asr(&c) == 0, "%s", rn_errmsg());
    c.loss = ASR_LOSS_DETAIL, c.steps = 2, c.resume = true;
    EXPECT(finetune_asr(&c) < 0 && msg_has("measured on training crops") && msg_has(out), "%s", rn_errmsg());
    c.resume = false; /* started again, it writes small_of = frame and then resumes */
    EXPECT(finetune_asr(&c) == 0, "%s", rn_errmsg());
    c.steps = 3, c.resume = true;
    EXPECT(finetune_asr(&c) == 0, "%s", rn_errmsg());
}

/* ---- mask-stats ---- */

TEST(mask_stats_counts_each_class_in_the_whole_frame_mask) {
    Dataset ds;
    synth_frames(&ds, 2);
    static const char *const names[] = {"bg", "band", "square", "strip"};
    dataset_set_classes(&ds, names, 4);
    double smalls[] = {0.05, 0.25, 0.5};
    MaskStats st[3];
    EXPECT(mask_stats(&ds, smalls, 3, st) == 0, "%s", rn_errmsg());
    /* 1200 px: bg 1200 - 300 - 25 - 140 - 16 = 719; limits 60, 300, 600 */
    long long px_want[4] = {2 * 719, 2 * 300, 2 * 25, 2 * 140};
    long long want[3][4] = {{0, 0, 50, 0}, {0, 0, 50, 280}, {0, 600, 50, 280}};
    for (int j = 0; j < 3; j++)
        for (int c = 0; c < 4; c++)
            EXPECT(st[j].pixels[c] == px_want[c] && st[j].masked[c] == want[j][c], "small %g class %d: %lld of %lld",
                   smalls[j], c, st[j].masked[c], st[j].pixels[c]);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mask_stats_csv(f, &ds, st, 3);
    fclose(f);
    EXPECT(strstr(buf, "small,class_id,class,pixels,mask_pixels,share\n0.05,0,bg,1438,0,0.000000\n") &&
               strstr(buf, "0.25,3,strip,280,280,1.000000\n") && strstr(buf, "0.5,-1,all,2368,930,0.392736\n"),
           "%s", buf);
    free(buf);
    mask_stats_free(st, 3);
    double zero = 0;
    EXPECT(mask_stats(&ds, &zero, 1, st) < 0 && msg_has("(0, 1)"), "%s", rn_errmsg());
    dataset_free(&ds);
}
