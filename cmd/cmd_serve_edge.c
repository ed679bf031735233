/* cmd_serve_edge.c: `rune serve-edge` — the robot's side of the online loop: flags, help, one call into serve/edge.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "serve/edge.h"
#include "serve/transport.h"
#include "util/args.h"
#include "util/err.h"

#define KEYGEN_MAX_IDS 64
#define KEY_PATH_MAX 1024

/* --curve-keygen without --force: the first file of the key folder that already exists, into path
 * (false: none). Overwriting server.key or authorized_keys would lock out every edge that holds the old keys. */
static bool keygen_existing(const char *dir, const char *const *ids, int n, char *path, size_t cap) {
    const char *fixed[3] = {"server.key", "server.pub", "authorized_keys"};
    for (int i = 0; i < 3 + n; i++) {
        if (i < 3) snprintf(path, cap, "%s/%s", dir, fixed[i]);
        else snprintf(path, cap, "%s/%s.key", dir, ids[i - 3]);
        if (access(path, F_OK) == 0) return true;
    }
    return false;
}

static int keygen(const ArgCmd *cmd, const char *dir, const char *id_list, bool force) {
    const char *ids[KEYGEN_MAX_IDS];
    int n = 0;
    char *list = strdup(id_list);
    for (char *t = strtok(list, ","); t && n < KEYGEN_MAX_IDS; t = strtok(NULL, ",")) ids[n++] = t;
    char path[KEY_PATH_MAX];
    if (!force && keygen_existing(dir, ids, n, path, sizeof path)) {
        free(list);
        args_usage_error(cmd, "%s exists: --curve-keygen would replace it (and lock out the edges holding the old keys); "
                              "add --force to write a new key folder anyway", path);
    }
    int rc = transport_curve_keygen_dir(dir, ids, n);
    free(list);
    if (rc < 0) {
        fprintf(stderr, "rune serve-edge: %s\n", rn_errmsg());
        return 1;
    }
    printf("wrote %s/server.key, server.pub, authorized_keys and %d edge key%s\n", dir, n, n == 1 ? "" : "s");
    return 0;
}

/* --size WxH into o (unchanged, 0 x 0, when not given); false when it is not two positive integers. */
static bool parse_size(const char *s, EdgeOpts *o) {
    if (!s || !*s) return true;
    char tail;
    return sscanf(s, "%dx%d%c", &o->width, &o->height, &tail) == 2 && o->width > 0 && o->height > 0;
}

/* --pace: stream or fast. */
static bool parse_pace(const char *s, EdgeOpts *o) {
    if (!strcmp(s, "stream")) o->pace = EDGE_PACE_STREAM;
    else if (!strcmp(s, "fast")) o->pace = EDGE_PACE_FAST;
    else return false;
    return true;
}

int cmd_serve_edge(int argc, char **argv) {
    EdgeOpts o;
    edge_opts_default(&o);
    int scale = o.start.scale, quality = o.start.quality, skip = o.start.skip, max_frames = 0;
    const char *keygen_dir = NULL, *size = NULL, *pace = "stream";
    bool force = false;
    ArgSpec specs[] = {
        {"connect", ARG_STR, &o.connect, "EP", "the cloud's ZeroMQ endpoint, e.g. tcp://127.0.0.1:5555 (required)"},
        {"id", ARG_STR, &o.id, "NAME", "edge id: 1-16 of [A-Za-z0-9_.-]; the cloud keeps one state per id"},
        {"frames", ARG_STR, &o.frames, "DIR", "a folder of frames (.png/.jpg, sorted by name) or a dataset root (this or "
                                              "--source)"},
        {"source", ARG_STR, &o.source, "SRC", "a video file (any container and codec FFmpeg reads), a stream URL "
                                              "(rtsp://, http://, udp://...), a V4L2 camera /dev/videoN, or a folder of "
                                              "frames; no labels: the cloud records no accuracy for a video"},
        {"pace", ARG_STR, &pace, "P", "stream: each frame at its own timestamp (a folder: k/--fps; a camera or live URL: "
                                      "as it arrives), the real-time run the shaper and deadlines assume; fast: each frame "
                                      "once the one before it has left, for offline runs"},
        {"size", ARG_STR, &size, "WxH", "resize every frame to WxH before degrading (e.g. the profile's 480x360; "
                                        "default: the source's own size)"},
        {"dataset", ARG_STR, &o.kind, "KIND", "how DIR is opened: frames (a folder or a CamVid-style root), camvid, cityscapes"},
        {"split", ARG_STR, &o.split, "S", "split of a dataset root (e.g. test)"},
        {"seq", ARG_STR, &o.seq, "NAME", "only the frames of this sequence (e.g. Seq05VD)"},
        {"fps", ARG_FLOAT, &o.fps, "N", "a folder's capture rate: frame k is captured k/N s after the start (a video "
                                        "keeps its own timestamps)"},
        {"loop", ARG_BOOL, &o.loop, NULL, "start over at the end of the folder or video file (stop with --max-frames, "
                                          "--duration or Ctrl-C)"},
        {"max-frames", ARG_INT, &max_frames, "N", "stop after N captured frames (0 = one pass)"},
        {"duration", ARG_FLOAT, &o.duration, "S", "stop after S seconds of capture (0 = no limit)"},
        {"scale", ARG_INT, &scale, "S", "starting downscale factor (1 = HR) until the cloud's first feedback"},
        {"quality", ARG_INT, &quality, "Q", "starting JPEG quality (0 = lossless PNG)"},
        {"skip", ARG_INT, &skip, "K", "starting frame skipping: K frames skipped after each sent one"},
        {"profile", ARG_STR, &o.profile, "FILE", "profile.json: start with its standard configuration for the initial bandwidth"},
        {"bandwidth", ARG_STR, &o.bandwidth, "SPEC", "uplink step schedule T:MBPS,... (0:10,5:5,12:2,19:10 = the paper's)"},
        {"trace", ARG_STR, &o.trace, "FILE", "uplink from a Mahimahi trace (one ms per 1500-byte packet), repeating"},
        {"bandwidth-scale", ARG_FLOAT, &o.bw_scale, "F", "multiply the schedule's Mbps / the trace's packet size by F"},
        {"bandwidth-start", ARG_FLOAT, &o.bw_start, "S", "start S seconds into the schedule / trace (e.g. a trace's "
                                                            "interesting part)"},
        {"deadline-ms", ARG_FLOAT, &o.deadline_ms, "MS", "drop a frame that would leave later than MS after its capture "
                                                         "(0 = never); with --netns: not handed to the socket by then"},
        {"curve-keys", ARG_STR, &o.curve_dir, "DIR", "CURVE: DIR/<id>.key or DIR/client.key and DIR/server.pub; the cloud "
                                                     "accepts --id only from the key its authorized_keys names with that id"},
        {"curve-keygen", ARG_STR, &keygen_dir, "DIR", "write a key directory (server.key, server.pub, one key per --id given "
                                                      "as ID,ID,..., authorized_keys) and exit; refuses to replace "
                                                      "existing files without --force"},
        {"force", ARG_BOOL, &force, NULL, "--curve-keygen: replace the files of an existing key directory"},
        {"csv", ARG_STR, &o.csv, "FILE", "per-frame CSV: every captured frame sent, dropped (with the reason) or skipped"},
        {"wait-cloud", ARG_FLOAT, &o.wait_cloud, "S", "wait up to S s for the cloud before the clock starts (0 = start now)"},
        {"linger", ARG_FLOAT, &o.linger, "S", "after the last frame, S s for the queue to drain and feedback to come"},
        {"netns", ARG_BOOL, &o.netns, NULL, "the kernel shapes the uplink (tc in the network namespace this runs in, set up "
                                            "by the caller, e.g. tests/unit/test_serve_edge.c): no pacing here, frames "
                                            "go to the socket when encoded and it takes them (ZeroMQ holds 1 message, TCP "
                                            "a 16 KiB send buffer), else drop as deadline; --bandwidth is only recorded"},
        {"quiet", ARG_BOOL, &o.quiet, NULL, "no log lines"},
        {0},
    };
    ArgCmd cmd = {"serve-edge", "--connect tcp://HOST:PORT (--frames DIR | --source FILE|URL|/dev/videoN|DIR) [options]",
                  "The edge of the online loop (Runespoor §3.2, §5.3). Plays a frame folder as a video at\n"
                  "--fps, or a video file, stream or camera (--source, through FFmpeg) at its own timestamps;\n"
                  "each captured frame is downscaled (MATLAB bicubic) and JPEG-encoded with the\n"
                  "current configuration (scale, quality, skip) and sent to `rune serve-cloud` through a\n"
                  "shaper that enforces the uplink (--bandwidth schedule or --trace); a frame that would\n"
                  "leave after --deadline-ms is dropped. The cloud's feedback sets the configuration of\n"
                  "the next frames (CAC's tail configuration, AWStream's probes). When the cloud goes away\n"
                  "the edge keeps its clock, drops frames as no_link and reconnects by itself. After 3\n"
                  "frames in a row miss the deadline it steps down on its own (the --profile's next lower\n"
                  "target's standard configuration, else a coarser scale / lower quality) until frames get\n"
                  "through; feedback about a stepped-down frame hands the configuration back to the cloud.\n"
                  "An edge the cloud refuses (--max-edges reached, or a key that is not this --id's) stops\n"
                  "and exits 1 with the cloud's reason (\"refused by the cloud: 16 edges already served\").\n"
                  "--csv FILE: one row per frame (and probe): edge, frame id, configuration, bytes, capture/\n"
                  "ready/start/send times (us), encode/queue/transmit ms, status and reason, and stepdown (own\n"
                  "steps below the cloud's configuration). Drop reasons: deadline, no_link (no connection),\n"
                  "zmq_full (ZeroMQ's queue full), send_error, edge_busy (behind its clock), queue_full,\n"
                  "encode_error, load_error, stopped (queued at the end).\n"
                  "Exit status: 0 frames got through (the cloud answered at least one); 1 an error (files,\n"
                  "keys, endpoint); 2 a bad option; 3 no frame was sent; 4 frames were sent but the cloud\n"
                  "answered none (refused, overloaded or gone).",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (keygen_dir) return keygen(&cmd, keygen_dir, o.id, force);
    if (!o.connect || !(o.frames || o.source)) args_usage_error(&cmd, "--connect and one of --frames or --source are required");
    if (!parse_size(size, &o)) args_usage_error(&cmd, "--size %s: want WxH, e.g. 480x360", size);
    if (!parse_pace(pace, &o)) args_usage_error(&cmd, "--pace %s: stream or fast", pace);
    o.start = (WireConfig){.scale = scale, .quality = quality, .skip = skip};
    o.max_frames = max_frames;
    if (edge_opts_check(&o) < 0) args_usage_error(&cmd, "%s", rn_errmsg());
    EdgeSummary s;
    if (edge_run(&o, &s) < 0) {
        fprintf(stderr, "rune serve-edge: %s\n", rn_errmsg());
        return 1;
    }
    const char *why = "";
    int code = edge_outcome(&s, &why);
    if (code) fprintf(stderr, "rune serve-edge: %s\n", why);
    return code;
}
