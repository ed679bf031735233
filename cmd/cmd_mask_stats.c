/* cmd_mask_stats.c: rune mask-stats — the share of each class's pixels inside Eq. 3's detail mask, per --small. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "profile/mask_stats.h"
#include "util/args.h"
#include "util/err.h"

#define MAX_SMALLS 16

/* "0.0025,0.01" -> v[]; a usage error for anything that is not a list of fractions in (0, 1). */
static int parse_smalls(const ArgCmd *cmd, const char *list, double *v) {
    int n = 0;
    for (const char *p = list; *p;) {
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (errno || end == p || (*end && *end != ',') || !(x > 0 && x < 1) || n == MAX_SMALLS)
            args_usage_error(cmd, "--small %s: up to %d comma-separated fractions of the frame, each in (0, 1)", list, MAX_SMALLS);
        v[n++] = x;
        p = *end ? end + 1 : end;
    }
    if (!n) args_usage_error(cmd, "--small: give at least one fraction");
    return n;
}

static int write_csv(const char *path, const Dataset *ds, const MaskStats *s, int n) {
    FILE *f = fopen(path, "w");
    if (!f) return rn_fail("%s: cannot write: %s", path, strerror(errno));
    mask_stats_csv(f, ds, s, n);
    if (fclose(f) != 0) return rn_fail("%s: cannot write: %s", path, strerror(errno));
    return 0;
}

int cmd_mask_stats(int argc, char **argv) {
    const char *data = NULL, *kind = "camvid", *split = "train", *list = "0.0025,0.005,0.01,0.02,0.04", *csv = NULL;
    ArgSpec specs[] = {
        {"data", ARG_STR, &data, "DIR", "dataset root (labelled)"},
        {"dataset", ARG_STR, &kind, "KIND", "camvid or cityscapes"},
        {"split", ARG_STR, &split, "S", "split (train, val, test)"},
        {"small", ARG_STR, &list, "LIST", "comma-separated thresholds, fractions of the frame's area in (0, 1)"},
        {"csv", ARG_STR, &csv, "FILE", "also write small,class_id,class,pixels,mask_pixels,share rows to FILE"},
        {0},
    };
    ArgCmd cmd = {"mask-stats", "--data DIR [options]",
                  "For each --small threshold, the detail mask finetune-asr trains Eq. 3 on (pixels of\n"
                  "connected same-class regions, 4-connected, of each WHOLE frame's label whose area is below\n"
                  "that fraction of the frame) over every frame of the split: the share of each class's\n"
                  "labelled pixels the mask covers, and of all labelled pixels. Labels only: no model runs.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!data) args_usage_error(&cmd, "--data is required");
    double smalls[MAX_SMALLS];
    int n = parse_smalls(&cmd, list, smalls);
    Dataset ds;
    MaskStats st[MAX_SMALLS];
    int rc = dataset_open(kind, data, split, &ds);
    if (rc == 0) {
        rc = mask_stats(&ds, smalls, n, st);
        if (rc == 0) {
            printf("detail-mask share of each class's labelled pixels, %s (%d frames), regions of the whole frame:\n\n", ds.name, ds.n);
            mask_stats_table(stdout, &ds, st, n);
            if (csv) rc = write_csv(csv, &ds, st, n);
            mask_stats_free(st, n);
        }
        dataset_free(&ds);
    }
    if (rc < 0) {
        fprintf(stderr, "rune mask-stats: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
