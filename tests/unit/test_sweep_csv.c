/* test_sweep_csv.c: the profile sweep's per-(frame, config) CSV — its header, the exact round trip through --resume, a torn last frame measured again, an older log refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "profile/sweep.h"
#include "tests/test.h"
#include "util/err.h"

#define NF 3
#define K 3

/* A task without a model: frames are made up from the sample index, the prediction is a
 * threshold of the rebuilt frame, the soft stats and accuracy numbers with many digits (NaN
 * maxprob at x2, to see "nan" travel). */
typedef struct FakeCtx {
    int scored; /* score calls: a resumed frame must cost none */
} FakeCtx;

static int fake_load(void *ctx, const Dataset *ds, int i, Image *hr, void **gt) {
    (void)ctx, (void)ds;
    *hr = image_alloc(16, 16, 3);
    for (int p = 0; p < 16 * 16 * 3; p++) hr->px[p] = (uint8_t)((p * (7 + 2 * i) + 31 * i) % 256);
    *gt = NULL;
    return 0;
}

static void fake_score(void *ctx, const Frame *in, const void *gt, int scale, double small, SweepScore *out) {
    (void)gt;
    FakeCtx *c = ctx;
    c->scored++;
    size_t n = (size_t)in->w * in->h;
    uint8_t *pred = malloc(n);
    double mean = 0;
    for (size_t i = 0; i < n; i++) pred[i] = (uint8_t)((in->px[i] > 0.5f) + 2 * (in->px[n + i] > 0.5f)), mean += in->px[i];
    mean /= (double)n;
    SoftStats soft = {scale == 2 ? NAN : mean / 3, mean * M_PI};
    signals_compute(pred, in->w, in->h, scale, small, &soft, K, NULL, &out->sig);
    for (int k = 0; k < K; k++) out->tp[k] = out->sig.px[k] / 2, out->lab[k] = out->sig.px[k] + k;
    out->acc = sqrt(mean) / 7;
    out->t_task = 0;
    free(pred);
}

static void fake_gt_free(void *gt) { (void)gt; }

static void fake_task(SweepTask *t, FakeCtx *c) {
    *t = (SweepTask){.kind = "fake", .classes = 4, .per_class = K, .ctx = c, .load = fake_load, .score = fake_score,
                     .gt_free = fake_gt_free};
}

static void fake_data(Dataset *ds) {
    dataset_init(ds, "fake");
    char name[32];
    for (int i = 0; i < NF; i++) snprintf(name, sizeof name, "x/f%d.png", i), dataset_add(ds, name);
}

static const SweepConfig CFG[2] = {{1, 90}, {2, 50}};

static int run_stride(Sweep *s, const Dataset *ds, FakeCtx *c, const char *csv, bool resume, int stride) {
    SweepTask t;
    fake_task(&t, c);
    SweepModels m = {{NULL}}; /* x2 rebuilt bilinear */
    sweep_init(s, ds, stride, 0, CFG, 2, K);
    SweepOpts o = {.small = 0.05, .csv = csv, .resume = resume};
    return sweep_run(s, ds, &t, &m, &o);
}

static int run(Sweep *s, const Dataset *ds, FakeCtx *c, const char *csv, bool resume) {
    return run_stride(s, ds, c, csv, resume, 1);
}

static bool same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }
/* the ms columns are written to 6 digits */
static bool near6(double a, double b) { return (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-5 * fabs(a) + 1e-12; }

/* Every number of a equals b's: exactly, the timings to 6 digits (timings: false skips them, for
 * frames measured twice). */
static int sweeps_differ(const Sweep *a, const Sweep *b, bool timings) {
    int bad = 0;
    for (size_t i = 0; i < (size_t)NF * 2; i++) {
        bad += !same(a->bytes[i], b->bytes[i]) || !same(a->acc[i], b->acc[i]);
        for (int g = 0; g < SIG_N; g++) bad += !same(a->sig[g][i], b->sig[g][i]);
        bad += timings && (!near6(a->ratio_ms[i], b->ratio_ms[i]) || !near6(a->ratio_lr_ms[i], b->ratio_lr_ms[i]));
        for (int k = 0; k < K; k++)
            bad += a->px[i * K + k] != b->px[i * K + k] || a->tp[i * K + k] != b->tp[i * K + k] ||
                   a->lab[i * K + k] != b->lab[i * K + k];
    }
    return bad;
}

TEST(sweep_csv_header_and_exact_resume) {
    const char *dir = test_temp_dir("sweepcsv");
    char csv[1024];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    Dataset ds;
    fake_data(&ds);
    FakeCtx c1 = {0}, c2 = {0};
    Sweep a, b;
    EXPECT(run(&a, &ds, &c1, csv, false) == 0, "%s", rn_errmsg());
    EXPECT(c1.scored == NF * 2 && a.measured == NF, "measured %d", a.measured);
    EXPECT(isnan(a.sig[SIG_MAXPROB][1]) && !isnan(a.sig[SIG_MAXPROB][0]) && isnan(a.sig[SIG_TAIL_SHARE][0]), "NaNs where meant");
    EXPECT(a.sig[SIG_RATIO_LR][0] == a.sig[SIG_RATIO][0] && a.ratio == a.sig[SIG_RATIO], "HR ratio_lr; ratio = sig[ratio]");
    char *text = test_read_text(csv);
    const char *want = "frame_index,frame,scale,quality,bytes,acc,small_ratio,ratio_ms,small_ratio_lr,ratio_lr_ms,"
                       "small_count,maxprob,entropy,px0,px1,px2,tp0,tp1,tp2,lab0,lab1,lab2\n";
    EXPECT(text && !strncmp(text, want, strlen(want)), "header: %.200s", text ? text : "(none)");
    EXPECT(text && strstr(text, ",nan,"), "NaN written as nan");
    /* resume: every frame read back, none scored, every number the same */
    EXPECT(run(&b, &ds, &c2, csv, true) == 0, "%s", rn_errmsg());
    EXPECT(c2.scored == 0 && b.measured == 0, "resumed without scoring: %d", c2.scored);
    EXPECT(sweeps_differ(&a, &b, true) == 0, "%d numbers differ after the round trip", sweeps_differ(&a, &b, true));
    char *again = test_read_text(csv);
    EXPECT(again && text && !strcmp(again, text), "rewritten from what was read: the same text");
    sweep_free(&b), free(again);

    /* a torn last frame: its rows cut mid-number; that frame alone is measured again */
    char *last = text + strlen(text) - 1;
    while (last > text && last[-1] != '\n') last--; /* start of the last row */
    FILE *f = fopen(csv, "w");
    fprintf(f, "%.*s", (int)(last - text) + 20, text);
    fclose(f);
    FakeCtx c3 = {0};
    EXPECT(run(&b, &ds, &c3, csv, true) == 0, "%s", rn_errmsg());
    EXPECT(c3.scored == 2 && b.measured == 1 && b.done[2], "the last frame's 2 configs again: %d", c3.scored);
    EXPECT(sweeps_differ(&a, &b, false) == 0, "%d numbers differ", sweeps_differ(&a, &b, false));
    sweep_free(&b);
    free(text);
    sweep_free(&a);
    dataset_free(&ds);
}

/* A profile run in passes (--stride 2, then --stride 1 --resume): the denser sweep finds the sparser
 * log's frames by name at their new positions and measures only the others; the numbers equal a
 * single full run's. A sparser sweep cannot take a denser log (frames it lacks). */
TEST(sweep_csv_denser_stride_resumes_a_sparser_log) {
    const char *dir = test_temp_dir("sweepstride");
    char csv[1024], full[1024];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    snprintf(full, sizeof full, "%s/full.csv", dir);
    Dataset ds;
    fake_data(&ds);
    FakeCtx c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
    Sweep ref, half, all, sparse;
    EXPECT(run(&ref, &ds, &c0, full, false) == 0, "%s", rn_errmsg());
    EXPECT(run_stride(&half, &ds, &c1, csv, false, 2) == 0 && half.nframes == 2, "stride 2: %s", rn_errmsg());
    EXPECT(run_stride(&all, &ds, &c2, csv, true, 1) == 0, "stride 1 after stride 2: %s", rn_errmsg());
    EXPECT(c2.scored == 2 && all.measured == 1, "only frame 1 measured: %d scores", c2.scored);
    EXPECT(sweeps_differ(&ref, &all, false) == 0, "%d numbers differ from one full run", sweeps_differ(&ref, &all, false));
    EXPECT(run_stride(&sparse, &ds, &c3, csv, true, 2) < 0 && strstr(rn_errmsg(), "is not in this sweep"),
           "a stride-2 sweep refuses the stride-1 log: %s", rn_errmsg());
    sweep_free(&ref), sweep_free(&half), sweep_free(&all), sweep_free(&sparse);
    dataset_free(&ds);
}

TEST(sweep_csv_older_or_other_logs_refused) {
    const char *dir = test_temp_dir("sweepold");
    char csv[1024];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    Dataset ds;
    fake_data(&ds);
    /* the format before the signal columns */
    const char *old = "frame_index,frame,scale,quality,bytes,acc,small_ratio,ratio_ms\n"
                      "0,f0.png,1,90,5000,0.5,0.01,1.2\n0,f0.png,2,50,1500,0.4,0.02,1.1\n";
    FILE *f = fopen(csv, "w");
    fputs(old, f), fclose(f);
    FakeCtx c = {0};
    Sweep s;
    EXPECT(run(&s, &ds, &c, csv, true) < 0, "an old log is not resumed");
    EXPECT(strstr(rn_errmsg(), "written by an older rune profile") && strstr(rn_errmsg(), "start without --resume or remove it"),
           "%s", rn_errmsg());
    char *t = test_read_text(csv);
    EXPECT(c.scored == 0 && t && !strcmp(t, old), "nothing measured, the old log left as it was");
    free(t), sweep_free(&s);
    /* this format for another class count */
    f = fopen(csv, "w");
    char *h = sweep_csv_header(K + 1);
    fprintf(f, "%s\n", h), fclose(f), free(h);
    EXPECT(run(&s, &ds, &c, csv, true) < 0 && strstr(rn_errmsg(), "other settings"), "K + 1: %s", rn_errmsg());
    sweep_free(&s);
    /* a row short of its per-class columns (not the last line: not torn) */
    f = fopen(csv, "w");
    h = sweep_csv_header(K);
    fprintf(f, "%s\n0,f0.png,1,90,5000,0.5,0.01,1.2,0.01,1.2,3,0.9,0.3,1,2,3\n", h), fclose(f), free(h);
    EXPECT(run(&s, &ds, &c, csv, true) < 0 && strstr(rn_errmsg(), ":2: bad row"), "short row: %s", rn_errmsg());
    sweep_free(&s);
    /* ... or with one column too many */
    f = fopen(csv, "w");
    h = sweep_csv_header(K);
    fprintf(f, "%s\n0,f0.png,1,90,5000,0.5,0.01,1.2,0.01,1.2,3,0.9,0.3,1,2,3,1,1,1,2,2,2,7\n", h), fclose(f), free(h);
    EXPECT(run(&s, &ds, &c, csv, true) < 0 && strstr(rn_errmsg(), ":2: bad row"), "long row: %s", rn_errmsg());
    sweep_free(&s);
    dataset_free(&ds);
}
