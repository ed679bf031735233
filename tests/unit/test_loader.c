/* test_loader.c: batch loader — determinism with prefetch, crop/flip alignment of frame+label and LR+HR, the detection stream, cache, errors. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/degrade.h"
#include "data/loader.h"
#include "tests/test.h"
#include "util/err.h"

static const char *g_tmp; /* the current test's scratch folder */

static void tmp_dir(void) { g_tmp = test_temp_dir("ld"); }

/* Frame pixels encode their own position: R = x, G = y, B = 10*sample; the label is a function of
 * (x, y) so a misaligned crop or flip shows. */
static uint8_t label_at(int x, int y) { return (uint8_t)((3 * x + 7 * y) % 250); }

static void synth_seg(Dataset *ds, int n, int w, int h) {
    tmp_dir();
    dataset_init(ds, "synthetic-seg");
    for (int i = 0; i < n; i++) {
        char fp[128], lp[128];
        snprintf(fp, sizeof fp, "%s/f%d.png", g_tmp, i), snprintf(lp, sizeof lp, "%s/l%d.png", g_tmp, i);
        Image im = image_alloc(w, h, 3), lab = image_alloc(w, h, 1);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint8_t *p = im.px + ((size_t)y * w + x) * 3;
                p[0] = (uint8_t)x, p[1] = (uint8_t)y, p[2] = (uint8_t)(10 * i);
                lab.px[(size_t)y * w + x] = label_at(x, y);
            }
        EXPECT(png_write(fp, &im) == 0 && png_write(lp, &lab) == 0, "%s", rn_errmsg());
        image_free(&im), image_free(&lab);
        dataset_add(ds, fp)->label = xstrdup(lp);
    }
}

static int px(const float *plane, int k) { return (int)(plane[k] * 255.0f + 0.5f); }

TEST(loader_seg_crop_flip_alignment) {
    Dataset ds;
    synth_seg(&ds, 3, 40, 30);
    LoaderCfg cfg = {.task = LOADER_SEG, .batch = 8, .patch = 16, .hflip = true, .vflip = true, .rot90 = true, .seed = 7};
    Loader *L = loader_open(&ds, &cfg);
    EXPECT(L != NULL, "%s", rn_errmsg());
    if (!L) return;
    int S = 16, n = 8 * S * S, seen_h = 0, seen_v = 0, seen_t = 0, seen_plain = 0, bad = 0;
    float *x = xmalloc((size_t)n * 3 * sizeof *x);
    uint8_t *lab = xmalloc((size_t)n);
    for (int b = 0; b < 4; b++) {
        EXPECT(loader_next(L, x, NULL, lab) == 0, "%s", rn_errmsg());
        for (int i = 0; i < 8; i++) {
            const float *R = x + (size_t)i * 3 * S * S, *G = R + S * S;
            for (int k = 0; k < S * S; k++) bad += lab[i * S * S + k] != label_at(px(R, k), px(G, k));
            /* which symmetry: along an output row, does x or y of the source change, and which way */
            int dxr = px(R, 1) - px(R, 0), dyr = px(G, 1) - px(G, 0), dyc = px(G, S) - px(G, 0), dxc = px(R, S) - px(R, 0);
            if (dyr) seen_t++;
            if ((dyr ? dxc : dxr) < 0) seen_h++;
            if ((dyr ? dyr : dyc) < 0) seen_v++;
            if (dxr == 1 && dyc == 1) seen_plain++;
            EXPECT(abs(dxr) + abs(dyr) == 1 && abs(dxc) + abs(dyc) == 1, "item %d is not a rigid crop", i);
        }
    }
    EXPECT(bad == 0, "%d label pixels misaligned with their frame pixels", bad);
    EXPECT(seen_h && seen_v && seen_t && seen_plain, "h %d v %d t %d plain %d of 32", seen_h, seen_v, seen_t, seen_plain);
    EXPECT(loader_cached(L) == 3, "%d frames cached", loader_cached(L));
    loader_close(L);
    free(x), free(lab);
    dataset_free(&ds);
}

/* Runs NB batches through a fresh loader and returns them concatenated. */
static float *run_batches(const Dataset *ds, LoaderCfg cfg, int nb, int64_t start, uint8_t **labels) {
    Loader *L = loader_open(ds, &cfg);
    EXPECT(L != NULL, "%s", rn_errmsg());
    if (!L) return NULL;
    int ih, iw, oh, ow;
    loader_dims(L, &ih, &iw, &oh, &ow);
    size_t items = (size_t)(cfg.shard_items ? cfg.shard_items : cfg.batch); /* a shard holds only its own */
    size_t in = items * 3 * ih * iw, out = items * oh * ow;
    float *x = xcalloc((size_t)nb * in, sizeof *x);
    *labels = xcalloc((size_t)nb * out, 1);
    if (start) loader_seek(L, start);
    for (int b = 0; b < nb; b++) EXPECT(loader_next(L, x + b * in, NULL, *labels + b * out) == 0, "%s", rn_errmsg());
    EXPECT(loader_position(L) == start + nb);
    loader_close(L);
    return x;
}

TEST(loader_same_seed_same_batches_with_prefetch) {
    Dataset ds;
    synth_seg(&ds, 5, 24, 20);
    LoaderCfg cfg = {.task = LOADER_SEG, .batch = 3, .patch = 12, .hflip = true, .vflip = true, .seed = 42, .prefetch = true};
    int nb = 7; /* 21 items over 5 frames: crosses four epoch boundaries, one inside a batch */
    size_t in = (size_t)3 * 3 * 12 * 12, out = (size_t)3 * 12 * 12;
    uint8_t *la = NULL, *lb = NULL, *lc = NULL, *ld = NULL, *le = NULL;
    float *a = run_batches(&ds, cfg, nb, 0, &la), *b = run_batches(&ds, cfg, nb, 0, &lb);
    LoaderCfg sync = cfg, other = cfg, nocache = cfg;
    sync.prefetch = false;
    other.seed = 43;
    nocache.cache_bytes = 1;
    float *c = run_batches(&ds, sync, nb, 0, &lc), *d = run_batches(&ds, other, nb, 0, &ld);
    float *e = run_batches(&ds, nocache, 3, 4, &le); /* resumed at batch 4, decoding every time */
    if (!a || !b || !c || !d || !e) return;
    EXPECT(memcmp(a, b, nb * in * sizeof *a) == 0 && memcmp(la, lb, nb * out) == 0, "two prefetched runs differ");
    EXPECT(memcmp(a, c, nb * in * sizeof *a) == 0 && memcmp(la, lc, nb * out) == 0, "prefetch on/off differ");
    EXPECT(memcmp(a + 4 * in, e, 3 * in * sizeof *a) == 0 && memcmp(la + 4 * out, le, 3 * out) == 0, "seek/no cache differ");
    EXPECT(memcmp(a, d, nb * in * sizeof *a) != 0, "seed 43 gave seed 42's batches");
    /* every frame appears once per epoch: items 0..4 are a permutation of the 5 frames (B = 10*i) */
    int seen = 0;
    for (int k = 0; k < 5; k++) seen |= 1 << (px(a + (size_t)(k / 3) * in + (size_t)(k % 3) * 3 * 144 + 2 * 144, 0) / 10);
    EXPECT(seen == 31, "first epoch covered frames mask %#x", seen);
    free(a), free(b), free(c), free(d), free(e), free(la), free(lb), free(lc), free(ld), free(le);
    dataset_free(&ds);
}

/* LR = HR sampled at the top-left pixel of every s x s block: then each LR pixel's (x, y) code must
 * lie inside the HR block that the loader put at the same place, whatever the flips did. */
static int subsample(const Image *hr, int s, Image *lr, void *ctx) {
    (void)ctx;
    *lr = image_alloc(hr->w / s, hr->h / s, 3);
    for (int y = 0; y < lr->h; y++)
        for (int x = 0; x < lr->w; x++) memcpy(lr->px + ((size_t)y * lr->w + x) * 3, hr->px + ((size_t)y * s * hr->w + x * s) * 3, 3);
    return 0;
}

TEST(loader_sr_lr_hr_alignment) {
    Dataset ds;
    synth_seg(&ds, 2, 50, 45); /* 50 x 45 trims to 48 x 45 at x3 */
    LoaderCfg cfg = {.task = LOADER_SR, .batch = 6, .patch = 24, .scale = 3, .hflip = true, .vflip = true,
                     .rot90 = true, .seed = 1, .prefetch = true, .degrade = subsample};
    Loader *L = loader_open(&ds, &cfg);
    EXPECT(L != NULL, "%s", rn_errmsg());
    if (!L) return;
    int ih, iw, oh, ow, bad = 0, maxx = 0;
    loader_dims(L, &ih, &iw, &oh, &ow);
    EXPECT(ih == 8 && iw == 8 && oh == 24 && ow == 24);
    float *lr = xmalloc(6 * 3 * 64 * sizeof *lr), *hr = xmalloc(6 * 3 * 576 * sizeof *hr);
    for (int b = 0; b < 5; b++) {
        EXPECT(loader_next(L, lr, hr, NULL) == 0, "%s", rn_errmsg());
        for (int i = 0; i < 6; i++)
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++) {
                    const float *L0 = lr + i * 192, *H0 = hr + i * 1728;
                    int lx = px(L0, y * 8 + x), ly = px(L0 + 64, y * 8 + x), found = 0;
                    for (int dy = 0; dy < 3; dy++)
                        for (int dx = 0; dx < 3; dx++) {
                            int k = (3 * y + dy) * 24 + 3 * x + dx;
                            found |= px(H0, k) == lx && px(H0 + 576, k) == ly;
                            if (px(H0, k) > maxx) maxx = px(H0, k);
                        }
                    bad += !found;
                }
    }
    EXPECT(bad == 0, "%d LR pixels not inside their HR block", bad);
    EXPECT(maxx <= 47 && maxx > 30, "HR crops reach x = %d (trimmed width 48)", maxx);
    loader_close(L);
    free(lr), free(hr);
    dataset_free(&ds);
}

TEST(loader_errors_name_the_file) {
    Dataset ds;
    synth_seg(&ds, 2, 20, 20);
    char gone[128];
    snprintf(gone, sizeof gone, "%s", ds.samples[1].frame);
    remove(gone);
    LoaderCfg cfg = {.task = LOADER_SEG, .batch = 2, .patch = 8, .seed = 3, .prefetch = true};
    Loader *L = loader_open(&ds, &cfg);
    EXPECT(L != NULL, "%s", rn_errmsg());
    if (!L) return;
    float x[2 * 3 * 64];
    uint8_t lab[2 * 64];
    EXPECT(loader_next(L, x, NULL, lab) == -1 && strstr(rn_errmsg(), gone), "%s", rn_errmsg());
    EXPECT(loader_position(L) == 0);
    loader_close(L);
    LoaderCfg big = cfg;
    big.patch = 32;
    L = loader_open(&ds, &big);
    EXPECT(L && loader_next(L, x, NULL, lab) == -1 && strstr(rn_errmsg(), "smaller than"), "%s", rn_errmsg());
    loader_close(L);
    LoaderCfg sr = {.task = LOADER_SR, .batch = 1, .patch = 8, .scale = 3};
    EXPECT(loader_open(&ds, &sr) == NULL && strstr(rn_errmsg(), "multiple"), "%s", rn_errmsg());
    sr.patch = 9;
    EXPECT(loader_open(&ds, &sr) == NULL && strstr(rn_errmsg(), "no LR image"), "%s", rn_errmsg());
    dataset_free(&ds);
}

TEST(loader_camvid_and_set5) {
    const char *root = test_shared_path("data/camvid");
    Dataset ds;
    EXPECT(ds_camvid(root, "train", &ds) == 0, "%s", rn_errmsg());
    LoaderCfg cfg = {.task = LOADER_SEG, .batch = 4, .patch = 64, .hflip = true, .seed = 5, .prefetch = true};
    Loader *L = loader_open(&ds, &cfg);
    EXPECT(L != NULL, "%s", rn_errmsg());
    float *x = xmalloc(4 * 3 * 64 * 64 * sizeof *x);
    uint8_t lab[4 * 64 * 64];
    int bad = 0;
    for (int b = 0; L && b < 2; b++) {
        EXPECT(loader_next(L, x, NULL, lab) == 0, "%s", rn_errmsg());
        for (int k = 0; k < 4 * 64 * 64; k++) bad += lab[k] > 10 && lab[k] != 255;
    }
    EXPECT(bad == 0, "%d labels outside 0..10 and 255", bad);
    loader_close(L);
    dataset_free(&ds);
    EXPECT(ds_srpairs(test_shared_path("data/sr-bench/Set5"), 4, &ds) == 0, "%s", rn_errmsg());
    LoaderCfg sr = {.task = LOADER_SR, .batch = 5, .patch = 48, .scale = 4, .hflip = true, .vflip = true, .seed = 9};
    L = loader_open(&ds, &sr);
    float lr[5 * 3 * 144], *hr = xmalloc(5 * 3 * 48 * 48 * sizeof *hr);
    EXPECT(L && loader_next(L, lr, hr, NULL) == 0, "%s", rn_errmsg());
    /* MATLAB-bicubic LR: each LR pixel is near the mean of its 4x4 HR block (smooth images) */
    double err = 0;
    for (int i = 0; i < 5 * 3 * 144; i++) {
        int p = i % 144, c = i / 144, y = p / 12, xx = p % 12;
        double m = 0;
        for (int dy = 0; dy < 4; dy++)
            for (int dx = 0; dx < 4; dx++) m += hr[(size_t)c * 2304 + (4 * y + dy) * 48 + 4 * xx + dx] / 16.0;
        err += fabs(m - lr[i]);
    }
    err /= 5 * 3 * 144;
    EXPECT(err < 0.03, "mean |LR - box(HR)| = %.4f", err);
    loader_close(L);
    free(x), free(hr);
    dataset_free(&ds);
}

/* ---- DET: whole frames resized, mirrored with their boxes, degraded after the mirror ---- */

/* Items of the stream finetune-asr det drew before the loader had a detection mode (printed by
 * that code for 5 images, batch 2, seed 3, steps 0..5): {sample, mirrored}. The loader must keep
 * drawing exactly these, so that runs begun before resume exactly. */
static const int OLD_DET_STREAM[12][2] = {{4, 0}, {3, 1}, {0, 1}, {2, 1}, {1, 1}, {4, 0},
                                          {0, 0}, {2, 1}, {1, 1}, {3, 0}, {2, 0}, {4, 1}};

/* Five frames of 40 x 30 with the synthetic pattern, each with two object boxes, an ignored region
 * and an empty box (the last two never reach a batch). */
static void synth_det(Dataset *ds) {
    synth_seg(ds, 5, 40, 30);
    for (int i = 0; i < 5; i++) {
        Sample *s = &ds->samples[i];
        int cap = 0;
        box_push(&s->boxes, &s->nboxes, &cap, (Box){i % 3, 4, 3, 20 + i, 15, false});
        box_push(&s->boxes, &s->nboxes, &cap, (Box){-1, 0, 0, 10, 10, true});
        box_push(&s->boxes, &s->nboxes, &cap, (Box){1, 30, 20, 30, 25, false});
        box_push(&s->boxes, &s->nboxes, &cap, (Box){2, 22, 5, 39, 29, false});
    }
}

/* What item (sample, flip) must be: the square frame mirrored, planar v / 255; its LR degraded
 * from the mirrored frame; its boxes mirrored. Counts mismatches. */
static int check_det_item(const Dataset *ds, int sample, bool flip, int quality, const float *lr, const float *hr,
                          const Box *boxes, int nb) {
    Image sq, m = image_alloc(16, 16, 3), small;
    Box *want;
    int nw, bad = 0;
    EXPECT(dataset_load_square(ds, sample, 16, &sq, &want, &nw) == 0, "%s", rn_errmsg());
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) memcpy(m.px + (y * 16 + x) * 3, sq.px + (y * 16 + (flip ? 15 - x : x)) * 3, 3);
    float *p = xmalloc(3 * 256 * sizeof *p);
    image_to_planar(&m, PIXEL_DIV, p);
    bad += memcmp(p, hr, 3 * 256 * sizeof *p) != 0;
    EXPECT(degrade_lr(&m, 4, &small, &quality) == 0, "%s", rn_errmsg());
    image_to_planar(&small, PIXEL_DIV, p);
    bad += memcmp(p, lr, 3 * 16 * sizeof *p) != 0;
    bad += nb != nw || nw != 2;
    for (int k = 0; k < nb && k < nw; k++) {
        Box b = want[k], g = boxes[k];
        if (flip) b = (Box){b.cls, 1 - b.x1, b.y0, 1 - b.x0, b.y1, false};
        bad += b.cls != g.cls || b.x0 != g.x0 || b.y0 != g.y0 || b.x1 != g.x1 || b.y1 != g.y1 || g.ignore;
    }
    image_free(&sq), image_free(&m), image_free(&small);
    free(p), free(want);
    return bad;
}

TEST(loader_det_keeps_the_old_finetune_det_stream) {
    Dataset ds;
    synth_det(&ds);
    int quality = 60;
    LoaderCfg cfg = {.task = LOADER_DET, .batch = 2, .patch = 16, .scale = 4, .hflip = true, .seed = 3,
                     .prefetch = true, .degrade = degrade_lr, .degrade_ctx = &quality};
    for (int pass = 0; pass < 2; pass++) { /* with prefetch, then without, resumed at step 2 */
        Loader *L = loader_open(&ds, &cfg);
        EXPECT(L != NULL, "%s", rn_errmsg());
        if (!L) return;
        int ih, iw, oh, ow, bad = 0, from = pass ? 2 : 0;
        loader_dims(L, &ih, &iw, &oh, &ow);
        EXPECT(ih == 4 && iw == 4 && oh == 16 && ow == 16, "%dx%d -> %dx%d", ih, iw, oh, ow);
        float lr[2 * 3 * 16], hr[2 * 3 * 256];
        loader_seek(L, from);
        for (int b = from; b < 6; b++) {
            EXPECT(loader_next(L, lr, hr, NULL) == 0, "%s", rn_errmsg());
            for (int i = 0; i < 2; i++) {
                int nb;
                const Box *boxes = loader_boxes(L, i, &nb);
                const int *want = OLD_DET_STREAM[b * 2 + i];
                int e = check_det_item(&ds, want[0], want[1], quality, lr + i * 48, hr + i * 768, boxes, nb);
                EXPECT(e == 0, "pass %d batch %d item %d: not sample %d%s", pass, b, i, want[0], want[1] ? " mirrored" : "");
                bad += e;
            }
        }
        EXPECT(bad == 0, "%d mismatches", bad);
        loader_close(L);
        cfg.prefetch = false;
    }
    dataset_free(&ds);
}

TEST(loader_det_refuses_what_it_does_not_do) {
    Dataset ds;
    synth_det(&ds);
    int quality = 0;
    LoaderCfg cfg = {.task = LOADER_DET, .batch = 1, .patch = 18, .scale = 4, .degrade = degrade_lr, .degrade_ctx = &quality};
    EXPECT(loader_open(&ds, &cfg) == NULL && strstr(rn_errmsg(), "multiple of the scale"), "%s", rn_errmsg());
    cfg.patch = 16, cfg.vflip = true;
    EXPECT(loader_open(&ds, &cfg) == NULL && strstr(rn_errmsg(), "left-right only"), "%s", rn_errmsg());
    cfg.vflip = false, cfg.degrade = NULL;
    EXPECT(loader_open(&ds, &cfg) == NULL && strstr(rn_errmsg(), "degrade function"), "%s", rn_errmsg());
    dataset_free(&ds);
}

/* Data-parallel shards (LoaderCfg.shard_*): items [first, first+k) of every batch are exactly those
 * items of the whole batch, frames, crops and flips alike, for segmentation and SR batches. */
TEST(loader_shards_are_slices_of_the_whole_batch) {
    Dataset ds;
    synth_seg(&ds, 5, 40, 36);
    LoaderCfg whole = {.task = LOADER_SEG, .batch = 4, .patch = 12, .hflip = true, .vflip = true, .rot90 = true,
                       .seed = 9, .prefetch = true};
    int nb = 4;
    size_t in = (size_t)3 * 12 * 12, out = (size_t)12 * 12; /* per item */
    uint8_t *lw = NULL, *ls = NULL;
    float *w = run_batches(&ds, whole, nb, 1, &lw);
    int firsts[] = {0, 1, 2, 3, 0}, counts[] = {2, 2, 2, 1, 4};
    for (int t = 0; t < 5 && w; t++) {
        LoaderCfg sh = whole;
        sh.shard_first = firsts[t], sh.shard_items = counts[t];
        float *x = run_batches(&ds, sh, nb, 1, &ls);
        int bad = 0;
        for (int b = 0; x && b < nb; b++)
            bad += memcmp(x + (size_t)b * counts[t] * in, w + ((size_t)b * 4 + firsts[t]) * in, counts[t] * in * sizeof *x) != 0 ||
                   memcmp(ls + (size_t)b * counts[t] * out, lw + ((size_t)b * 4 + firsts[t]) * out, counts[t] * out) != 0;
        EXPECT(x && bad == 0, "shard %d+%d: %d of %d batches differ from the whole batch's items", firsts[t], counts[t], bad, nb);
        free(x), free(ls);
    }
    /* SR: LR and HR patches of the shard equal the whole batch's */
    LoaderCfg sr = {.task = LOADER_SR, .batch = 4, .patch = 12, .scale = 3, .hflip = true, .vflip = true, .rot90 = true,
                    .seed = 5, .degrade = subsample};
    LoaderCfg srs = sr;
    srs.shard_first = 2, srs.shard_items = 2;
    Loader *A = loader_open(&ds, &sr), *B = loader_open(&ds, &srs);
    EXPECT(A && B, "%s", rn_errmsg());
    float lra[4 * 3 * 16], hra[4 * 3 * 144], lrb[2 * 3 * 16], hrb[2 * 3 * 144];
    for (int b = 0; A && B && b < 3; b++) {
        EXPECT(loader_next(A, lra, hra, NULL) == 0 && loader_next(B, lrb, hrb, NULL) == 0, "%s", rn_errmsg());
        EXPECT(memcmp(lrb, lra + 2 * 3 * 16, sizeof lrb) == 0 && memcmp(hrb, hra + 2 * 3 * 144, sizeof hrb) == 0,
               "SR batch %d: shard 2+2 differs", b);
    }
    loader_close(A), loader_close(B);
    LoaderCfg bad = whole;
    bad.shard_first = 3, bad.shard_items = 2;
    EXPECT(loader_open(&ds, &bad) == NULL && strstr(rn_errmsg(), "outside the batch of 4"), "%s", rn_errmsg());
    free(w), free(lw);
    dataset_free(&ds);
}
