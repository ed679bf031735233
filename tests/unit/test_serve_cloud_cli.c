/* test_serve_cloud_cli.c: serve-cloud refuses bad flags, a damaged profile and a CAC without a threshold before it listens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "profile/profile_json.h"
#include "tests/rune_exec.h"
#include "tests/test.h"

#define PROFILE "data/samples/serve_profile.json"
#define OUT_CAP 8192

/* Every range a flag has: exit 2 and the flag named, nothing bound. */
TEST(serve_cloud_flags_out_of_range_exit_2) {
    static const char *const bad[][2] = {
        {"--listen tcp://127.0.0.1:99999", "port \"99999\""}, {"--listen tcp://127.0.0.1:0", "port \"0\""},
        {"--listen udp://127.0.0.1:5", "want tcp://"},       {"--threshold -0.5", "--threshold"},
        {"--threshold inf", "--threshold"},                  {"--fps 0", "--fps"},
        {"--bw-window -1", "--bw-window"},                   {"--edge-timeout 0", "--edge-timeout"},
        {"--max-edges 0", "--max-edges"},                    {"--duration -1", "--duration"},
        {"--idle-exit -2", "--idle-exit"},                   {"--edges -1", "--edges"},
        {"--tile -8", "--tile"},                             {"--cac-hold -3", "--cac-hold"},
        {"--cac-margin -0.1", "--cac-margin"},               {"--aw-period 0", "--aw-period"},
    };
    static char out[OUT_CAP], args[512];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "serve-cloud --profile " PROFILE " --threshold 0.05 --duration 0.1 %s", bad[i][0]);
        int rc = rune_exec(args, out, sizeof out);
        EXPECT(rc == 2 && strstr(out, bad[i][1]), "%s: exit %d, %s", bad[i][0], rc, out);
    }
}

/* A profile is input: a negative scale or fps 0 stops the cloud naming the field. */
TEST(serve_cloud_refuses_a_damaged_profile) {
    static const char *const edits[][2] = {
        {"s/\"fps\": 30.0/\"fps\": 0/", "settings.fps 0"},
        {"0,/\"scale\": 4,/s//\"scale\": -4,/", "scale -4"},
        {"0,/\"quality\": \\([0-9]*\\)/s//\"quality\": 400/", "quality 0..100"},
    };
    const char *dir = test_temp_dir("badprof");
    static char out[OUT_CAP], cmd[1024], args[1024];
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        snprintf(cmd, sizeof cmd, "sed '%s' " PROFILE " > %s/p%zu.json", edits[i][0], dir, i);
        EXPECT(system(cmd) == 0, "%s", cmd);
        snprintf(args, sizeof args, "serve-cloud --listen tcp://127.0.0.1:* --profile %s/p%zu.json --threshold 0.05 --duration 0.1",
                 dir, i);
        int rc = rune_exec(args, out, sizeof out);
        EXPECT(rc == 1 && strstr(out, edits[i][1]), "edit %s: exit %d, %s", edits[i][0], rc, out);
    }
}

/* The sample profile without what CAC and its variants read: no detectors, no fitted pooled threshold,
 * no cac-share pairs, no tail_cutoff (written to the test's folder; the path returned is static). */
static const char *bare_profile(void) {
    static char path[512];
    snprintf(path, sizeof path, "%s/bare.json", test_temp_dir("bareprof"));
    ProfileDoc d;
    EXPECT(profile_json_read(PROFILE, &d) == 0, "read %s", PROFILE);
    d.ndet = 0, d.nshare = 0, d.threshold = NAN, d.tail_cutoff = NAN;
    EXPECT(profile_json_write(&d, path) == 0, "write %s", path);
    profile_doc_free(&d);
    return path;
}

/* CAC must not fall back to a number that never flags a frame: a profile without detectors or a
 * fitted threshold stops it; the other controllers do not need one; the sample's detectors suffice. */
TEST(serve_cloud_cac_needs_a_threshold) {
    static char out[OUT_CAP], args[1024];
    const char *bare = bare_profile();
    snprintf(args, sizeof args, "serve-cloud --listen tcp://127.0.0.1:* --profile %s --duration 0.1", bare);
    int rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "no fitted tail threshold") && strstr(out, "--threshold"), "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "serve-cloud --listen tcp://127.0.0.1:* --profile %s --controller standard --duration 0.1", bare);
    rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "controller standard"), "standard controller without a threshold: exit %d: %s", rc, out);
    rc = rune_exec("serve-cloud --listen tcp://127.0.0.1:* --profile " PROFILE " --duration 0.1", out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "4 detectors (per configuration)"), "CAC on the sample's detectors: exit %d: %s", rc, out);
}

/* cac-share needs detectors like CAC; cac-oracle needs the profile's tail_cutoff (version 2) before
 * anything loads; the message says what to do. */
TEST(serve_cloud_cac_variants_refused_without_their_inputs) {
    static char out[OUT_CAP], args[1024];
    const char *bare = bare_profile();
    snprintf(args, sizeof args, "serve-cloud --listen tcp://127.0.0.1:* --profile %s --controller cac-share --duration 0.1", bare);
    int rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "no fitted tail threshold") && strstr(out, "cac-share"), "cac-share: exit %d: %s", rc, out);
    snprintf(args, sizeof args, "serve-cloud --listen tcp://127.0.0.1:* --profile %s --controller cac-oracle --threshold 0.085 "
             "--duration 0.1", bare);
    rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "tail_cutoff") && strstr(out, "re-run rune profile"), "cac-oracle: exit %d: %s", rc, out);
    rc = rune_exec("serve-cloud --listen tcp://127.0.0.1:* --profile " PROFILE " --controller cac-oracle --duration 0.1", out,
                   sizeof out);
    EXPECT(rc == 1 && strstr(out, "needs the frames and their labels"), "cac-oracle without the dataset: exit %d: %s", rc, out);
    rc = rune_exec("serve-cloud --profile " PROFILE " --controller oracle --duration 0.1", out, sizeof out);
    EXPECT(rc == 2 && strstr(out, "cac-oracle"), "an unknown controller lists the kinds: exit %d: %s", rc, out);
}

/* --plan: per link rate the target, the picks and the detectors, from the profile alone (the sample
 * profile at 1 fps: 0.1 Mbps = 90 kbit a frame with the 0.9 headroom -> its 2 Mbps@30 fps target,
 * standard x4 q70, tail x2 q30, cac-share's pair x2 q70 / x4 q70 at k 1.5; each pick's own detector,
 * its threshold overridden by --threshold). */
TEST(serve_cloud_plan) {
    static char out[OUT_CAP], args[1024];
    const char *bare = bare_profile();
    int rc = rune_exec("serve-cloud --profile " PROFILE " --fps 1 --threshold 0.085 --plan 0.05,0.1", out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "mbps,target,target_mbps,standard,tail,share_flag"), "header: exit %d: %s", rc, out);
    EXPECT(strstr(out, "\n0.05,1,1,x4q70,x4q70,-,-,nan,ratio,0.085/+1@x4q70,0.085/+1@x4q70,0,0\n"), "0.05 Mbps row: %s", out);
    EXPECT(strstr(out, "\n0.1,2,2,x4q70,x2q30,x2q70,x4q70,1.5,ratio,0.085/+1@x4q70,0.085/+1@x2q30,1,1\n"), "0.1 Mbps row: %s",
           out);
    rc = rune_exec("serve-cloud --profile " PROFILE " --controller standard --plan 0.1,abc", out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "--plan abc"), "a bad rate: exit %d: %s", rc, out);
    /* the controller must be able to run on the profile: the dry check of scripts/fig15.sh asks per arm */
    snprintf(args, sizeof args, "serve-cloud --profile %s --controller cac --plan 0.1", bare);
    rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "cannot flag a frame"), "cac without detectors or threshold: exit %d: %s", rc, out);
    snprintf(args, sizeof args, "serve-cloud --profile %s --controller cac-oracle --threshold 0.085 --plan 0.1", bare);
    rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "tail_cutoff"), "cac-oracle without tail_cutoff: exit %d: %s", rc, out);
    rc = rune_exec("serve-cloud --profile " PROFILE " --controller standard --plan 0.1", out, sizeof out);
    EXPECT(rc == 0, "standard needs no detector: exit %d: %s", rc, out);
    /* --threshold within the profile's signal's range (the sample's: the ratio, 0..1) */
    rc = rune_exec("serve-cloud --profile " PROFILE " --threshold 2 --plan 0.1", out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "--threshold 2: signal ratio is a share"), "a ratio threshold of 2: exit %d: %s", rc, out);
    rc = rune_exec("serve-cloud --listen tcp://127.0.0.1:* --profile " PROFILE " --threshold 2 --duration 0.1", out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "--threshold 2: signal ratio is a share"), "the cloud too: exit %d: %s", rc, out);
}
