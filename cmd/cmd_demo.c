/* cmd_demo.c: rune demo — the whole chain on the embedded sample frames: SR -> ASR -> the paper's tables -> the online loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "data/dataset.h"
#include "profile/eval_seg.h"
#include "profile/report.h"
#include "serve/demo_online.h"
#include "train/finetune_asr.h"
#include "train/train_sr.h"
#include "util/args.h"
#include "util/err.h"
#include "util/progress.h"

typedef struct Demo {
    const char *data, *sr_init, *task, *out, *profile;
    int scale, sr_steps, asr_steps;
    char sr[4096], asr[4096], eval[4096], online_dir[4096];
    bool online;
} Demo;

static int need(const char *path, const char *what) {
    if (access(path, R_OK) == 0) return 0;
    return rn_fail("%s not found (%s); run from the repository root or pass its flag", path, what);
}

static int stage_sr(Demo *d) {
    SrTrainCfg c;
    sr_train_defaults(&c);
    c.data = d->data, c.init = d->sr_init, c.out = d->sr;
    c.scale = d->scale, c.batch = 8, c.steps = d->sr_steps, c.ckpt_every = 0;
    printf("\n[1/4] standard SR: fine-tune the published CARN-M x%d on the sample frames (L1, %d steps)\n", d->scale, d->sr_steps);
    fflush(stdout);
    return train_sr(&c);
}

static int stage_asr(Demo *d) {
    AsrCfg c;
    asr_defaults(&c);
    c.sr = d->sr, c.task = d->task, c.data = d->data, c.out = d->asr;
    c.scale = d->scale, c.batch = 1, c.steps = d->asr_steps, c.ckpt_every = 0;
    printf("\n[2/4] ASR: %.2f * L1 + %.2f * cross-entropy on small regions (< %.0f%% of the frame) through frozen ESPNet-CamVid (%d steps)\n",
           c.alpha, c.beta, 100 * c.small, d->asr_steps);
    fflush(stdout);
    return finetune_asr(&c);
}

static int stage_eval(Demo *d) {
    printf("\n[3/4] eval: bilinear / SR / ASR / HR at x%d through ESPNet-CamVid\n", d->scale);
    fflush(stdout);
    Dataset ds;
    TRY(dataset_open("camvid", d->data, "test", &ds));
    EvalTask task;
    Carn *sr = NULL, *asr = NULL;
    int rc = eval_task_open(&task, d->task, "espnet", "camvid", false);
    if (rc == 0) rc = carn_load(d->sr, &sr, NULL);
    if (rc == 0) rc = carn_load(d->asr, &asr, NULL);
    if (rc == 0) {
        EvalMethod m[4] = {{"bilinear", d->scale, EVAL_BILINEAR, NULL, ""},
                           {"sr", d->scale, EVAL_CARN, sr, ""},
                           {"asr", d->scale, EVAL_CARN, asr, ""},
                           {"hr", 1, EVAL_HR, NULL, ""}};
        EvalOpts o = {0};
        EvalResult r;
        rc = eval_seg_run(&ds, &task, m, 4, &o, &r);
        ReportOpts ro = {.table2_scale = d->scale, .episode = 2, .boot_reps = 200, .seed = 1, .figures = true, .echo = stdout};
        if (rc == 0) rc = report_write(&r, d->eval, &ro);
        if (rc == 0) eval_result_free(&r);
    }
    if (task.close) eval_task_close(&task);
    if (sr) carn_free(sr);
    if (asr) carn_free(asr);
    dataset_free(&ds);
    return rc;
}

static int stage_online(Demo *d) {
    printf("\n[4/4] online: rune serve-cloud (CAC, x4 = the ASR above, x2 = CARN-M) and rune serve-edge on loopback,\n"
           "      the sample frames at 1 fps on an uplink of 0.2 Mbps dropping to 0.1 Mbps at 4 s\n");
    fflush(stdout);
    OnlineDemo o = {.dir = d->online_dir, .profile = d->profile, .task = d->task, .data = d->data,
                    .sr_x2 = d->sr_init, .sr_x4 = d->asr};
    return online_demo_run(&o);
}

int cmd_demo(int argc, char **argv) {
    Demo d = {.data = "data/samples/camvid", .sr_init = "weights/carn_m.h5", .task = "weights/espnet_camvid.h5",
              .out = "runs/demo", .profile = "data/samples/serve_profile.json", .scale = 4, .sr_steps = 30, .asr_steps = 20,
              .online = true};
    ArgSpec specs[] = {
        {"data", ARG_STR, &d.data, "DIR", "labelled frames (CamVid layout)"},
        {"sr-init", ARG_STR, &d.sr_init, "FILE", "SR weights to start from (published CARN-M)"},
        {"task", ARG_STR, &d.task, "FILE", "frozen segmenter (published ESPNet-CamVid)"},
        {"out", ARG_STR, &d.out, "DIR", "where checkpoints, logs, tables and figures go"},
        {"scale", ARG_INT, &d.scale, "S", "the edge's downscaling factor (2, 3 or 4 with the published heads)"},
        {"sr-steps", ARG_INT, &d.sr_steps, "N", "SR fine-tuning steps"},
        {"asr-steps", ARG_INT, &d.asr_steps, "N", "ASR fine-tuning steps"},
        {"profile", ARG_STR, &d.profile, "FILE", "profile.json of the online run (data/samples/README.md says how it was made)"},
        {"online", ARG_BOOL, &d.online, NULL, "end with the online run (--no-online: skip it)"},
        {0},
    };
    ArgCmd cmd = {"demo", "[options]",
                  "Runs rune's main job end to end on the sample frames in the repository: fine-tunes the\n"
                  "published CARN-M into a standard SR model and then into ASR through the frozen published\n"
                  "ESPNet-CamVid, and prints the paper's tables (per-class IoU, tail-class and overall mIoU,\n"
                  "frame-wise tail, PSNR/SSIM) for bilinear, SR, ASR and HR; then runs the online loop for a\n"
                  "few seconds: rune serve-cloud (CAC) and rune serve-edge as two processes on loopback, the\n"
                  "frames looping at 1 fps through a shaped uplink that drops from 0.2 to 0.1 Mbps, and prints\n"
                  "the cloud's per-frame timeline (CAC switching to the tail configuration). A few frames and\n"
                  "steps: it shows the machinery, not the paper's numbers (scripts/repro.sh does the real runs).",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    double t0 = now_seconds();
    if (need(d.data, "sample frames") < 0 || need(d.sr_init, "CARN-M weights") < 0 || need(d.task, "ESPNet weights") < 0) {
        fprintf(stderr, "rune demo: %s\n", rn_errmsg());
        return 1;
    }
    mkdir("runs", 0755);
    mkdir(d.out, 0755);
    snprintf(d.sr, sizeof d.sr, "%s/sr_x%d.h5", d.out, d.scale);
    snprintf(d.asr, sizeof d.asr, "%s/asr_x%d.h5", d.out, d.scale);
    snprintf(d.eval, sizeof d.eval, "%s/eval", d.out);
    snprintf(d.online_dir, sizeof d.online_dir, "%s/online", d.out);
    bool online = d.online;
    if (online && need(d.profile, "the online run's profile") < 0) {
        fprintf(stderr, "rune demo: %s\n", rn_errmsg());
        return 1;
    }
    if (stage_sr(&d) < 0 || stage_asr(&d) < 0 || stage_eval(&d) < 0 || (online && stage_online(&d) < 0)) {
        fprintf(stderr, "rune demo: %s\n", rn_errmsg());
        return 1;
    }
    char dur[32];
    printf("\nrune demo: done in %s. Checkpoints %s, %s; tables, results.json and figures in %s/%s%s%s\n",
           format_duration(now_seconds() - t0, dur, sizeof dur), d.sr, d.asr, d.eval, online ? "; online run in " : "",
           online ? d.online_dir : "", online ? "/" : "");
    return 0;
}
