/* test_mpi_profile.c: `rune profile` under mpirun (make test-mpi) — 2 ranks split the frames and write what 1 process writes, apart from timings; resume splits the frames still to do and ends as one process's resume. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/mpi/mpi_exec.h"
#include "tests/test.h"

/* The 4 sample frames x (2 scales x 2 qualities + HR q90) = 5 configurations; the held-out sweep
 * runs every configuration too (profile.json v2: each configuration's detector is checked on it).
 * x2 and x4 both rebuilt by CARN-M. */
#define PROFILE_ARGS                                                                                                         \
    "profile --data data/samples/camvid --split test --val-split test --task weights/espnet_camvid.h5 "                        \
    "--sr x2=weights/carn_m.h5,x4=weights/carn_m.h5 --scales 2,4 --qualities 50,90 --hr-qualities 90 --targets 0.5,1,4 "   \
    "--tail-pct 25 --no-figures --quiet"
#define FRAMES 4
#define CONFIGS 5
#define VAL_CONFIGS 5

/* Removes every "ratio_ms" (a time) found in v, at any depth. */
static void drop_ratio_ms(json_t *v) {
    const char *k;
    json_t *c;
    size_t i;
    if (json_is_object(v)) {
        json_object_del(v, "ratio_ms");
        json_object_foreach(v, k, c) drop_ratio_ms(c);
    } else if (json_is_array(v))
        json_array_foreach(v, i, c) drop_ratio_ms(c);
}

/* profile.json as data, less what may differ between runs of the same sweep: the timing block,
 * the checks' ratio_ms and the creation time. NULL when unreadable. */
static json_t *profile_norm(const char *path) {
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    EXPECT(j != NULL, "%s: %s", path, err.text);
    if (!j) return NULL;
    json_object_del(j, "timing"), json_object_del(j, "created");
    drop_ratio_ms(j);
    return j;
}

/* Two profile.json files hold the same profile apart from timings (text of the sorted dumps, so a
 * failure shows where). */
static void expect_same_profile(const char *a, const char *b) {
    json_t *x = profile_norm(a), *y = profile_norm(b);
    if (!x || !y) return json_decref(x), json_decref(y);
    char *sx = json_dumps(x, JSON_SORT_KEYS | JSON_INDENT(1)), *sy = json_dumps(y, JSON_SORT_KEYS | JSON_INDENT(1));
    size_t k = 0;
    while (sx[k] && sx[k] == sy[k]) k++;
    EXPECT(strcmp(sx, sy) == 0, "%s and %s differ at:\n%.200s\nvs\n%.200s", a, b, sx + (k > 80 ? k - 80 : 0),
           sy + (k > 80 ? k - 80 : 0));
    free(sx), free(sy);
    json_decref(x), json_decref(y);
}

/* Whether field i of a row is a time: its header name ends in "_ms" (ratio_ms, ratio_lr_ms). */
static bool is_time_field(const char *header, int i) {
    const char *f = header;
    for (int k = 0; k < i && f; k++) f = strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
    if (!f) return false;
    size_t n = strcspn(f, ",\n");
    return n >= 3 && !strncmp(f + n - 3, "_ms", 3);
}

/* A per-frame CSV with the time fields of each row blanked (the header kept); NULL when unreadable. */
static char *csv_masked(const char *path) {
    char *t = test_read_text(path);
    EXPECT(t != NULL, "cannot read %s", path);
    if (!t) return NULL;
    char *hdr = strdup(t), *w = t, *nl0 = strchr(t, '\n');
    const char *r = nl0 ? nl0 + 1 : t + strlen(t);
    w = nl0 ? nl0 + 1 : w + strlen(w);
    for (int field = 0; *r; r++) {
        if (*r == '\n') field = 0;
        else if (*r == ',') field++;
        else if (is_time_field(hdr, field)) continue;
        *w++ = *r;
    }
    *w = 0;
    free(hdr);
    return t;
}

/* Every frame exactly once, in order, with all its configurations: row r (after the header) is
 * frame r / ncfg. Counts rows, so a frame lost or measured twice by a rank fails here. */
static void expect_frames_once(const char *path, int nframes, int ncfg) {
    char *t = test_read_text(path), *p = t ? strchr(t, '\n') : NULL;
    int rows = 0, bad = -1;
    while (p && p[1]) {
        if (bad < 0 && atoi(p + 1) != rows / ncfg) bad = rows;
        rows++, p = strchr(p + 1, '\n');
    }
    EXPECT(bad < 0, "%s row %d: not frame %d (frames out of order, lost or repeated)", path, bad + 1, bad / ncfg);
    EXPECT(rows == nframes * ncfg, "%s: %d rows, want %d frames x %d configurations", path, rows, nframes, ncfg);
    free(t);
}

static void expect_same_csv(const char *a, const char *b) {
    char *x = csv_masked(a), *y = csv_masked(b);
    EXPECT(x && y && strcmp(x, y) == 0, "%s and %s differ (the _ms times aside):\n%s\nvs\n%s", a, b, x ? x : "", y ? y : "");
    free(x), free(y);
}

/* Runs the sample profile with np ranks (0: one process) writing into dir/run, then renames that
 * folder to dir/NAME: every run writes to the same path, so the recorded command lines agree. */
static void profile_into(int np, const char *dir, const char *extra, const char *name) {
    char a[2048], from[512], to[512];
    snprintf(a, sizeof a, "%s %s -o %s/run/p.json", PROFILE_ARGS, extra, dir);
    mpi_run_ok(np, a);
    snprintf(from, sizeof from, "%s/run", dir), snprintf(to, sizeof to, "%s/%s", dir, name);
    EXPECT(rename(from, to) == 0, "rename %s %s", from, to);
}

/* Frames measured by the last run, from the timing block. */
static int measured(const char *path, const char *group) {
    json_t *j = json_load_file(path, 0, NULL);
    int n = (int)json_integer_value(json_object_get(json_object_get(json_object_get(j, "timing"), group), "measured"));
    json_decref(j);
    return n;
}

static void expect_same_outputs(const char *dir, const char *x, const char *y) {
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/%s/p.json", dir, x), snprintf(b, sizeof b, "%s/%s/p.json", dir, y);
    expect_same_profile(a, b);
    const char *csv[] = {"p_train.csv", "p_val.csv"};
    const int ncfg[] = {CONFIGS, VAL_CONFIGS};
    for (int k = 0; k < 2; k++) {
        snprintf(a, sizeof a, "%s/%s/%s", dir, x, csv[k]), snprintf(b, sizeof b, "%s/%s/%s", dir, y, csv[k]);
        expect_frames_once(b, FRAMES, ncfg[k]);
        expect_same_csv(a, b);
    }
}

/* A log of an interrupted run in dir/run: the header and frame 0 of dir/one's training log, then
 * a torn row of frame 1 (what a crash mid-write leaves). */
static void interrupted_log(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/one/p_train.csv", dir);
    char *csv = test_read_text(path), *cut = csv;
    for (int i = 0; i < 1 + CONFIGS && cut; i++) cut = strchr(cut, '\n') ? strchr(cut, '\n') + 1 : NULL;
    EXPECT(cut != NULL, "%s has frame 0", path);
    snprintf(path, sizeof path, "%s/run", dir);
    EXPECT(mkdir(path, 0755) == 0, "mkdir %s", path);
    snprintf(path, sizeof path, "%s/run/p_train.csv", dir);
    FILE *f = fopen(path, "w");
    EXPECT(f != NULL, "write %s", path);
    if (f && cut) fprintf(f, "%.*s1,Seq05VD_f0", (int)(cut - csv), csv);
    if (f) fclose(f);
    free(csv);
}

TEST(mpi_profile_two_ranks_write_what_one_process_writes) {
    const char *dir = test_temp_dir("prof");
    char one[512], two[512], path[512], l1[4096];
    profile_into(0, dir, "", "one");
    profile_into(2, dir, "", "two");
    expect_same_outputs(dir, "one", "two");
    snprintf(path, sizeof path, "%s/two/p.json", dir);
    EXPECT(measured(path, "train") == FRAMES && measured(path, "val") == FRAMES, "measured %d + %d frames",
           measured(path, "train"), measured(path, "val"));
    snprintf(one, sizeof one, "%s/one", dir), snprintf(two, sizeof two, "%s/two", dir);
    snprintf(l1, sizeof l1, "%s", dir_listing(one));
    EXPECT(strcmp(l1, dir_listing(two)) == 0 && strstr(l1, "p.json p.md p_") && !strstr(l1, ".tmp"),
           "rank 0 alone writes the same files, no temp files left: %s vs %s", l1, dir_listing(two));

    /* Resume: rank 0 reads the log (frame 0 complete, frame 1 torn), the 3 frames still to do are
     * split over the ranks (an uneven last round), and the result is one process's resume of the
     * same log (resumed numbers are the log's rounded ones, in both). */
    interrupted_log(dir);
    profile_into(0, dir, "--resume", "one_resumed");
    interrupted_log(dir);
    profile_into(2, dir, "--resume", "two_resumed");
    snprintf(path, sizeof path, "%s/two_resumed/p.json", dir);
    EXPECT(measured(path, "train") == FRAMES - 1 && measured(path, "val") == FRAMES, "resumed: measured %d + %d frames",
           measured(path, "train"), measured(path, "val"));
    expect_same_outputs(dir, "one_resumed", "two_resumed");
}
