/* test_finetune_asr.c: ASR through either frozen segmenter (ESPNet, SwiftNet), its classes and normalisation from the file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/io/checkpoint.h"
#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "train/finetune_asr.h"
#include "tests/test.h"
#include "util/err.h"

/* A small randomly initialised SwiftNet (11 CamVid classes, width 0.25) saved as rune saves one,
 * with input statistics that are not SwiftNet's default: the run must take them from the file. */
static void save_small_swiftnet(const char *path) {
    Segmenter *s = segmenter_new("swiftnet", 11, 0.25);
    swiftnet_init_weights(s->swiftnet, 7);
    EXPECT(swiftnet_set_norm_named(s->swiftnet, "imagenet") == 0, "%s", rn_errmsg());
    CkptAttrs at = {0};
    attrs_set_str(&at, "model", "swiftnet");
    EXPECT(ckpt_save(path, s->ps, &at, NULL) == 0, "%s", rn_errmsg());
    segmenter_close(s);
}

/* Three steps of Eq. 3 on 96x96 crops of the embedded frames; the loss log is <out>_loss.csv. */
static int run_asr(const char *task, const char *norm, int classes, const char *out) {
    AsrCfg c;
    asr_defaults(&c);
    c.sr = "weights/carn_m.h5", c.task = task, c.data = "data/samples/camvid", c.out = out;
    c.norm = norm, c.task_classes = classes;
    c.crop = 96, c.batch = 1, c.steps = 3, c.ckpt_every = 0, c.quiet = true, c.small = 0.05, c.lr = 1e-4;
    return finetune_asr(&c);
}

static char *loss_log(const char *out) {
    char path[300];
    snprintf(path, sizeof path, "%.*s_loss.csv", (int)(strlen(out) - 3), out);
    return test_read_text(path);
}

/* The la column (step,loss,l1,la,lr) of every step into la[]; returns the number of steps read. */
static int task_losses(const char *log, double *la, int max) {
    int n = 0;
    for (const char *p = log ? strchr(log, '\n') : NULL; p && p[1] && n < max; p = strchr(p + 1, '\n')) {
        double step, loss, l1;
        if (sscanf(p + 1, "%lf,%lf,%lf,%lf", &step, &loss, &l1, &la[n]) == 4) n++;
    }
    return n;
}

static bool same_weights(const char *a, const char *b) {
    Carn *x = NULL, *y = NULL;
    EXPECT(carn_load(a, &x, NULL) == 0, "%s", rn_errmsg());
    EXPECT(carn_load(b, &y, NULL) == 0, "%s", rn_errmsg());
    bool same = x && y && x->ps.total == y->ps.total && !memcmp(x->ps.data, y->ps.data, x->ps.total * sizeof(real_t));
    if (x) carn_free(x);
    if (y) carn_free(y);
    return same;
}

/* Fine-tunes through `task` with the checkpoint's settings, with its own normalisation named
 * (must change nothing) and with another one (must change the task loss and, through the
 * frozen segmenter, the SR weights). */
static void check_through(const char *task, const char *own_norm, const char *dir, const char *tag) {
    char a[256], b[256], c[256];
    snprintf(a, sizeof a, "%s/%s_a.h5", dir, tag), snprintf(b, sizeof b, "%s/%s_b.h5", dir, tag);
    snprintf(c, sizeof c, "%s/%s_c.h5", dir, tag);
    EXPECT(run_asr(task, NULL, 0, a) == 0, "%s: %s", tag, rn_errmsg());
    EXPECT(run_asr(task, own_norm, 0, b) == 0, "%s: %s", tag, rn_errmsg());
    EXPECT(run_asr(task, "cityscapes", 0, c) == 0, "%s: %s", tag, rn_errmsg());
    char *la = loss_log(a), *lb = loss_log(b), *lc = loss_log(c);
    double va[3], vc[3];
    EXPECT(task_losses(la, va, 3) == 3 && task_losses(lc, vc, 3) == 3, "%s: three steps logged:\n%s", tag, la ? la : "");
    for (int i = 0; i < 3; i++) EXPECT(isfinite(va[i]) && va[i] > 0, "%s: task loss at step %d is %g", tag, i + 1, va[i]);
    EXPECT(va[0] != va[1] || va[1] != va[2], "%s: the task loss does not move: %g %g %g", tag, va[0], va[1], va[2]);
    EXPECT(la && lb && !strcmp(la, lb), "%s: naming the checkpoint's own normalisation changed the run", tag);
    EXPECT(va[0] != vc[0], "%s: another normalisation left the task loss at %g", tag, va[0]);
    EXPECT(!same_weights(a, c), "%s: the task loss did not reach the SR weights", tag);
    free(la), free(lb), free(lc);
}

TEST(finetune_asr_through_espnet) {
    check_through("weights/espnet_camvid.h5", "camvid", test_temp_dir("asr_esp"), "espnet");
}

TEST(finetune_asr_through_swiftnet) {
    const char *dir = test_temp_dir("asr_sw");
    char task[256];
    snprintf(task, sizeof task, "%s/swiftnet.h5", dir);
    save_small_swiftnet(task);
    check_through(task, "imagenet", dir, "swiftnet");
}

TEST(finetune_asr_classes_must_match_the_checkpoint) {
    const char *dir = test_temp_dir("asr_cls");
    char task[256], out[256];
    snprintf(task, sizeof task, "%s/swiftnet.h5", dir), snprintf(out, sizeof out, "%s/asr.h5", dir);
    save_small_swiftnet(task);
    EXPECT(run_asr(task, NULL, 12, out) < 0, "12 classes asked of an 11-output SwiftNet");
    EXPECT(strstr(rn_errmsg(), task) && strstr(rn_errmsg(), "11 outputs"), "names the file and its outputs: %s", rn_errmsg());
    EXPECT(run_asr("weights/carn_m.h5", NULL, 0, out) < 0, "an SR checkpoint is no segmenter");
    EXPECT(strstr(rn_errmsg(), "carn"), "names what the file holds: %s", rn_errmsg());
}
