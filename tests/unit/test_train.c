/* test_train.c: train-sr and finetune-asr on the embedded samples — losses fall, resume is exact, bad input fails cleanly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/finetune_asr.h"
#include "train/run.h"
#include "train/train_sr.h"
#include "tests/test.h"
#include "util/err.h"

static void sr_cfg(SrTrainCfg *c, const char *out, long long steps) {
    sr_train_defaults(c);
    c->data = "data/samples/camvid";
    c->init = "weights/carn_m.h5";
    c->out = out;
    c->scale = 4, c->lr_patch = 8, c->batch = 4;
    c->steps = steps, c->ckpt_every = 3;
    c->quiet = true;
}

TEST(train_sr_resume_gives_the_same_loss_curve) {
    const char *dir = test_temp_dir("train");
    char a[256], b[256], la[300], lb[300];
    snprintf(a, sizeof a, "%s/a.h5", dir), snprintf(b, sizeof b, "%s/b.h5", dir);
    snprintf(la, sizeof la, "%s/a_loss.csv", dir), snprintf(lb, sizeof lb, "%s/b_loss.csv", dir);
    SrTrainCfg c;
    sr_cfg(&c, a, 6);
    EXPECT(train_sr(&c) == 0, "%s", rn_errmsg());
    sr_cfg(&c, b, 3); /* stop after 3 steps ... */
    EXPECT(train_sr(&c) == 0, "%s", rn_errmsg());
    sr_cfg(&c, b, 6); /* ... and continue to 6 */
    c.resume = true;
    EXPECT(train_sr(&c) == 0, "%s", rn_errmsg());
    char *x = test_read_text(la), *y = test_read_text(lb);
    EXPECT(x && y && strcmp(x, y) == 0, "loss logs differ:\n%s\nvs\n%s", x ? x : "(none)", y ? y : "(none)");
    EXPECT(x && strchr(x, '\n') && strstr(x, "\n6,") != NULL, "six steps logged: %s", x ? x : "");
    free(x), free(y);
}

TEST(finetune_asr_runs_and_resumes_exactly) {
    const char *dir = test_temp_dir("asr");
    char a[256], b[256], la[300], lb[300];
    snprintf(a, sizeof a, "%s/a.h5", dir), snprintf(b, sizeof b, "%s/b.h5", dir);
    snprintf(la, sizeof la, "%s/a_loss.csv", dir), snprintf(lb, sizeof lb, "%s/b_loss.csv", dir);
    AsrCfg c;
    asr_defaults(&c);
    c.sr = "weights/carn_m.h5", c.task = "weights/espnet_camvid.h5", c.data = "data/samples/camvid";
    c.crop = 96, c.batch = 2, c.steps = 4, c.ckpt_every = 2, c.quiet = true, c.small = 0.05;
    c.out = a;
    EXPECT(finetune_asr(&c) == 0, "%s", rn_errmsg());
    c.out = b, c.steps = 2;
    EXPECT(finetune_asr(&c) == 0, "%s", rn_errmsg());
    c.steps = 4, c.resume = true;
    EXPECT(finetune_asr(&c) == 0, "%s", rn_errmsg());
    char *x = test_read_text(la), *y = test_read_text(lb);
    EXPECT(x && y && strcmp(x, y) == 0, "loss logs differ:\n%s\nvs\n%s", x ? x : "(none)", y ? y : "(none)");
    free(x), free(y);
}

TEST(train_sr_bad_input_is_a_clear_error) {
    SrTrainCfg c;
    sr_cfg(&c, "/tmp/rune_never.h5", 2);
    c.data = "/nonexistent/frames";
    EXPECT(train_sr(&c) < 0, "missing data must fail");
    EXPECT(strstr(rn_errmsg(), "/nonexistent/frames") != NULL, "names the folder: %s", rn_errmsg());
    sr_cfg(&c, "/tmp/rune_never.h5", 2);
    c.init = "weights/espnet_camvid.h5"; /* a checkpoint of another model */
    EXPECT(train_sr(&c) < 0, "wrong init model must fail");
    EXPECT(strstr(rn_errmsg(), "espnet") != NULL, "names the model kind: %s", rn_errmsg());
    EXPECT(access("/tmp/rune_never.h5", F_OK) != 0, "nothing written");
}

/* A 2-step train-sr config writing REL inside a fresh temp folder. */
static void sr_cfg_tmp(SrTrainCfg *c, const char *rel) {
    static char out[512];
    snprintf(out, sizeof out, "%s/%s", test_temp_dir("train"), rel);
    sr_cfg(c, out, 2);
}

/* A step's own error comes out once, whole, after the step number (it was formatted into itself). */
TEST(train_sr_step_error_is_named_once) {
    SrTrainCfg c;
    sr_cfg_tmp(&c, "p.h5");
    c.lr_patch = 1000; /* a 4000-pixel HR patch: larger than every frame */
    EXPECT(train_sr(&c) < 0, "an oversized patch must fail");
    const char *m = rn_errmsg();
    EXPECT(strncmp(m, "step 0: data/samples/camvid/", 28) == 0 && strstr(m + 1, "step 0:") == NULL &&
           strstr(m, "smaller than the 4000-pixel patch") != NULL, "%s", m);
}

TEST(train_sr_unwritable_log_says_why) {
    SrTrainCfg c;
    sr_cfg_tmp(&c, "no/such/folder/x.h5");
    EXPECT(train_sr(&c) < 0, "an unwritable --out must fail");
    EXPECT(strstr(rn_errmsg(), "x_loss.csv") && strstr(rn_errmsg(), "No such file or directory"), "%s", rn_errmsg());
}

/* train_loop's own failures: a step's error gains only the step number; a NaN loss says so. */
static int step_fails_at_2(void *ctx, long long step, double *vals, char *extra, size_t n) {
    (void)ctx, (void)extra, (void)n;
    vals[0] = 1.0;
    return step == 2 ? rn_fail("boom") : 0;
}

static int step_nan_at_1(void *ctx, long long step, double *vals, char *extra, size_t n) {
    (void)ctx, (void)extra, (void)n;
    vals[0] = step == 1 ? NAN : 1.0;
    return 0;
}

static int no_checkpoint(void *ctx, long long step) { return (void)ctx, (void)step, 0; }

TEST(train_loop_names_the_failing_step) {
    rn_fail("an older error"); /* must not leak into the NaN message */
    TrainLoop L = {.what = "t", .columns = "loss", .ncols = 1, .steps = 5, .quiet = true,
                   .step = step_fails_at_2, .checkpoint = no_checkpoint};
    EXPECT(train_loop(&L) < 0 && strcmp(rn_errmsg(), "step 2: boom") == 0, "%s", rn_errmsg());
    L.step = step_nan_at_1;
    EXPECT(train_loop(&L) < 0 && strcmp(rn_errmsg(), "step 1: the loss is NaN") == 0, "%s", rn_errmsg());
}
