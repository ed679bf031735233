/* run.c: the loop every trainer runs (train_loop), its loss logs, and file naming beside checkpoints. */
#include "train/run.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/dist.h"
#include "util/err.h"

/* Keeps the header and the rows with step <= keep; rewrites the file through a temp + rename. */
static int truncate_log(const char *path, long long keep) {
    FILE *in = fopen(path, "r");
    if (!in) return 0; /* nothing logged yet */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        int e = errno; /* before fclose can change it */
        fclose(in);
        return rn_fail("%s: cannot rewrite the loss log: %s", tmp, strerror(e));
    }
    char line[4096];
    bool header = true;
    while (fgets(line, sizeof line, in)) {
        if (header || atoll(line) <= keep) fputs(line, out);
        header = false;
    }
    fclose(in);
    if (fclose(out) != 0 || rename(tmp, path) != 0)
        return rn_fail("%s: cannot rewrite the loss log: %s", path, strerror(errno));
    return 0;
}

int trainlog_open(TrainLog *lg, const char *path, const char *columns, long long resume_step) {
    lg->path = path;
    lg->f = NULL;
    if (!path) return 0;
    if (resume_step > 0) TRY(truncate_log(path, resume_step));
    lg->f = fopen(path, resume_step > 0 ? "a" : "w");
    if (!lg->f) return rn_fail("%s: cannot open the loss log for writing: %s", path, strerror(errno));
    if (resume_step <= 0) fprintf(lg->f, "step,%s\n", columns);
    fflush(lg->f);
    return 0;
}

void trainlog_row(TrainLog *lg, long long step, const double *vals, int n) {
    if (!lg->f) return;
    fprintf(lg->f, "%lld", step);
    for (int i = 0; i < n; i++) fprintf(lg->f, ",%.9g", vals[i]);
    fputc('\n', lg->f);
    fflush(lg->f);
}

void trainlog_close(TrainLog *lg) {
    if (lg->f) fclose(lg->f);
    lg->f = NULL;
}

const char *run_sibling(const char *ckpt_path, const char *suffix, char *buf, size_t n) {
    size_t len = strlen(ckpt_path);
    if (len > 3 && strcmp(ckpt_path + len - 3, ".h5") == 0) len -= 3;
    snprintf(buf, n, "%.*s%s", (int)len, ckpt_path, suffix);
    return buf;
}

int train_loop(const TrainLoop *L) {
    /* data-parallel ranks (nn/dist.h) all step; rank 0 alone writes the log, the progress line and
     * the checkpoints (the step functions hand it values already averaged over ranks) */
    bool root = dist_is_root(), quiet = L->quiet || !root;
    TrainLog log;
    TRY(trainlog_open(&log, root ? L->log_path : NULL, L->columns, L->start));
    if (!quiet && dist_size() > 1)
        fprintf(stderr, "%s: data-parallel over %d ranks (%s)\n", L->what, dist_size(), dist_backend_name());
    Progress pg;
    progress_start(&pg, L->what, "steps", L->steps, L->start);
    char extra[256] = "";
    double vals[16];
    RN_CHECK(L->ncols >= 1 && L->ncols <= 16, "1..16 log columns");
    int rc = 0;
    for (long long step = L->start; step < L->steps && rc == 0; step++) {
        if (L->step(L->ctx, step, vals, extra, sizeof extra) < 0) {
            rc = rn_fail("step %lld: %s", step, rn_errmsg());
            break;
        }
        if (isnan(vals[0])) { /* the step itself succeeded: rn_errmsg() holds nothing of this */
            rc = rn_fail("step %lld: the loss is NaN", step);
            break;
        }
        trainlog_row(&log, step + 1, vals, L->ncols);
        if (!quiet) progress_update(&pg, step + 1, extra, false);
        bool due = (L->ckpt_every > 0 && (step + 1) % L->ckpt_every == 0) || step + 1 == L->steps;
        if (due && root) rc = L->checkpoint(L->ctx, step + 1);
    }
    if (rc == 0 && !quiet) progress_end(&pg, L->steps, extra);
    trainlog_close(&log);
    return rc;
}
