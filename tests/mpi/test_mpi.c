/* test_mpi.c: data-parallel training under mpirun (make test-mpi) — 2 ranks train as 1 process with the same global batch, resume, rank-0 files, clear errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/carn.h"
#include "nn/models/segmenter.h"
#include "tests/mpi/mpi_exec.h"
#include "tests/test.h"
#include "util/err.h"

/* Tolerances of N ranks vs one process with the same global batch, after `steps` Adam steps of
 * learning rate `lr`. Both compute the same gradient up to float rounding: a rank's GEMMs and
 * loss reductions run over half the items, and MPI adds the halves, so the sums are grouped
 * differently (relative error ~1e-7). Adam's update lr * m / (sqrt(v) + 1e-8) turns that into
 * parameter differences of ~1e-7 * lr, EXCEPT where a gradient entry is itself at rounding level
 * (|g| near eps, e.g. cancelling paths through the frozen segmenter): there the update is
 * lr * g / (|g| + eps), noise-sized, so single entries may differ by a good fraction of lr.
 * Hence two checks:
 *   rms of the differences <= RMS_TOL * lr * steps: measured 1.4e-6 (train-sr) and 2e-4
 *     (finetune-asr) of lr * steps; a missing gradient average gives 0.74, a cross-entropy without
 *     the pixel-count share 0.29 (measured by breaking each on purpose);
 *   max of the differences <= MAX_TOL * lr * steps: measured 1.5e-4 and 0.04; the same breakages
 *     give 2.0 and 2.0 (every entry moves by up to lr per step, in another direction).
 * Logged losses (means over ranks) agree to LOSS_RTOL relative: measured 8e-8; broken, 0.03 .. 1. */
#define RMS_TOL 2e-3
#define MAX_TOL 0.25
#define LOSS_RTOL 1e-5

/* The rms and max checks above for a run of `steps` steps at learning rate lr. */
static void expect_params_close(double rms, double mx, double lr, int steps) {
    EXPECT(rms <= RMS_TOL * lr * steps, "rms of parameter differences %.3g > %.3g", rms, RMS_TOL * lr * steps);
    EXPECT(mx <= MAX_TOL * lr * steps, "max parameter difference %.3g > %.3g", mx, MAX_TOL * lr * steps);
}

/* Largest |a - b| over two checkpoints' parameters (buffers included), CARN or a segmenter;
 * *rms gets the root mean square difference. */
static double max_param_diff(const char *a, const char *b, bool carn, double *rms) {
    double mx = -1, ss = 0;
    size_t cnt = 0;
    if (carn) {
        Carn *x = NULL, *y = NULL;
        EXPECT(carn_load(a, &x, NULL) == 0 && carn_load(b, &y, NULL) == 0, "%s", rn_errmsg());
        if (!x || !y) return INFINITY;
        EXPECT(x->ps.total == y->ps.total, "sizes %zu vs %zu", x->ps.total, y->ps.total);
        for (size_t i = 0; i < x->ps.total && i < y->ps.total; i++, cnt++) {
            double d = fabs((double)x->ps.data[i] - y->ps.data[i]);
            mx = fmax(mx, d), ss += d * d;
        }
        carn_free(x), carn_free(y);
    } else {
        Segmenter *x = segmenter_open(a, NULL, 0, NULL), *y = segmenter_open(b, NULL, 0, NULL);
        EXPECT(x && y, "%s", rn_errmsg());
        if (!x || !y) return INFINITY;
        for (size_t i = 0; i < x->ps->total && i < y->ps->total; i++, cnt++) {
            double d = fabs((double)x->ps->data[i] - y->ps->data[i]);
            mx = fmax(mx, d), ss += d * d;
        }
        segmenter_close(x), segmenter_close(y);
    }
    if (rms) *rms = cnt ? sqrt(ss / cnt) : 0;
    return mx;
}

/* Largest relative difference between two loss logs' values (same steps, same columns). */
static double max_log_rdiff(const char *a, const char *b) {
    char *x = test_read_text(a), *y = test_read_text(b);
    EXPECT(x && y, "logs %s, %s", a, b);
    double mx = x && y ? 0 : INFINITY;
    char *p = x ? strchr(x, '\n') : NULL, *q = y ? strchr(y, '\n') : NULL; /* past the headers */
    int rows = 0;
    while (p && q && p[1] && q[1]) {
        p++, q++;
        rows++;
        for (;;) {
            char *pe, *qe;
            double u = strtod(p, &pe), v = strtod(q, &qe);
            mx = fmax(mx, fabs(u - v) / fmax(fabs(u), 1e-12));
            p = pe, q = qe;
            if (*p != ',' || *q != ',') break;
            p++, q++;
        }
        if (*p != *q) mx = INFINITY; /* rows of other lengths */
        p = strchr(p, '\n'), q = strchr(q, '\n');
    }
    EXPECT(rows > 0 && (!p || !p[1]) && (!q || !q[1]), "logs of other lengths: %s vs %s", a, b);
    free(x), free(y);
    return mx;
}

#define SR_ARGS "train-sr --data data/samples/camvid --init weights/carn_m.h5 --scale 4 --lr-patch 8 --seed 3 --quiet"

TEST(mpi_train_sr_two_ranks_equal_one_process) {
    const char *d1 = test_temp_dir("one"), *d2 = test_temp_dir("two");
    char a[2048];
    snprintf(a, sizeof a, SR_ARGS " --batch 4 --steps 3 --ckpt-every 3 --out %s/sr.h5", d1);
    mpi_run_ok(0, a);
    snprintf(a, sizeof a, SR_ARGS " --batch 4 --steps 3 --ckpt-every 3 --out %s/sr.h5", d2);
    mpi_run_ok(2, a);
    char p1[512], p2[512], l1[512], l2[512];
    snprintf(p1, sizeof p1, "%s/sr.h5", d1), snprintf(p2, sizeof p2, "%s/sr.h5", d2);
    snprintf(l1, sizeof l1, "%s/sr_loss.csv", d1), snprintf(l2, sizeof l2, "%s/sr_loss.csv", d2);
    double rms, dp = max_param_diff(p1, p2, true, &rms), dl = max_log_rdiff(l1, l2);
    fprintf(stderr, "    train-sr 2 ranks vs 1: max |param diff| %.3g, rms %.3g, loss rel diff %.3g\n", dp, rms, dl);
    expect_params_close(rms, dp, 1e-4, 3); /* train-sr's default lr */
    EXPECT(dl <= LOSS_RTOL, "losses differ by %.3g (relative)", dl);
    EXPECT(strcmp(dir_listing(d2), "sr.h5 sr_loss.csv ") == 0, "rank 0 alone writes, no temp files left: %s", dir_listing(d2));
}

/* The segmentation ASR loss: cross-entropy over the small-region pixels of each rank's shard,
 * whose counts differ between the ranks: the share weighting (dist_share) makes it the global mean. */
TEST(mpi_finetune_asr_two_ranks_equal_one_process) {
    const char *d1 = test_temp_dir("one"), *d2 = test_temp_dir("two");
    char a[2048], p1[512], p2[512], l1[512], l2[512];
    const char *common = "finetune-asr --sr weights/carn_m.h5 --task weights/espnet_camvid.h5 --data data/samples/camvid "
                         "--crop 96 --batch 2 --steps 2 --ckpt-every 2 --small 0.05 --beta 0.5 --quiet";
    snprintf(a, sizeof a, "%s --out %s/asr.h5", common, d1);
    mpi_run_ok(0, a);
    snprintf(a, sizeof a, "%s --out %s/asr.h5", common, d2);
    mpi_run_ok(2, a);
    snprintf(p1, sizeof p1, "%s/asr.h5", d1), snprintf(p2, sizeof p2, "%s/asr.h5", d2);
    snprintf(l1, sizeof l1, "%s/asr_loss.csv", d1), snprintf(l2, sizeof l2, "%s/asr_loss.csv", d2);
    double rms, dp = max_param_diff(p1, p2, true, &rms), dl = max_log_rdiff(l1, l2);
    fprintf(stderr, "    finetune-asr 2 ranks vs 1: max |param diff| %.3g, rms %.3g, loss rel diff %.3g\n", dp, rms, dl);
    expect_params_close(rms, dp, 1e-5, 2); /* finetune-asr's default lr */
    EXPECT(dl <= LOSS_RTOL, "losses differ by %.3g (relative)", dl);
}

/* Under mpirun a run stopped and resumed gives the uninterrupted run's numbers exactly: the
 * shards, the reductions and their order are the same at every step. */
TEST(mpi_resume_is_exact) {
    const char *d = test_temp_dir("res");
    char a[2048], p1[512], p2[512], l1[512], l2[512];
    snprintf(a, sizeof a, SR_ARGS " --batch 4 --steps 4 --ckpt-every 2 --out %s/a.h5", d);
    mpi_run_ok(2, a);
    snprintf(a, sizeof a, SR_ARGS " --batch 4 --steps 2 --ckpt-every 2 --out %s/b.h5", d);
    mpi_run_ok(2, a);
    snprintf(a, sizeof a, SR_ARGS " --batch 4 --steps 4 --ckpt-every 2 --resume --out %s/b.h5", d);
    mpi_run_ok(2, a);
    snprintf(p1, sizeof p1, "%s/a.h5", d), snprintf(p2, sizeof p2, "%s/b.h5", d);
    snprintf(l1, sizeof l1, "%s/a_loss.csv", d), snprintf(l2, sizeof l2, "%s/b_loss.csv", d);
    char *x = test_read_text(l1), *y = test_read_text(l2);
    EXPECT(x && y && strcmp(x, y) == 0, "loss logs differ:\n%s\nvs\n%s", x ? x : "", y ? y : "");
    free(x), free(y);
    double dp = max_param_diff(p1, p2, true, NULL);
    EXPECT(dp == 0, "resumed parameters differ by %.3g", dp);
}

/* train-task: runs over 2 ranks and writes one checkpoint and log. Not compared with one process:
 * SwiftNet's batch norm normalises each rank's shard with its own statistics (as PyTorch's DDP
 * without SyncBatchNorm), so 2 ranks of 1 item are not 1 process of 2 items. */
TEST(mpi_train_task_runs_on_two_ranks) {
    const char *d = test_temp_dir("task");
    char a[2048], l[512];
    snprintf(a, sizeof a, "train-task --data data/samples/camvid --split test --batch 2 --crop 64 --width 0.05 --steps 2 "
                          "--ckpt-every 2 --quiet --out %s/t.h5", d);
    mpi_run_ok(2, a);
    EXPECT(strcmp(dir_listing(d), "t.h5 t_loss.csv ") == 0, "files: %s", dir_listing(d));
    snprintf(l, sizeof l, "%s/t_loss.csv", d);
    char *x = test_read_text(l);
    EXPECT(x && strstr(x, "\n2,") && !strstr(x, "nan"), "log: %s", x ? x : "(none)");
    free(x);
}

TEST(mpi_uneven_batch_is_a_clear_error) {
    const char *d = test_temp_dir("bad");
    char a[2048];
    snprintf(a, sizeof a, SR_ARGS " --batch 3 --steps 2 --out %s/x.h5", d);
    int rc = mpi_exec(2, a, mpi_out, sizeof mpi_out);
    EXPECT(rc != 0 && strstr(mpi_out, "the global batch 3 does not split evenly over 2 ranks"), "rc %d:\n%s", rc, mpi_out);
    EXPECT(strcmp(dir_listing(d), "") == 0, "nothing written: %s", dir_listing(d));
}
