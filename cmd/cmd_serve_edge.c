/* cmd_serve_edge.c: `rune serve-edge` — the robot's side of the online loop: flags, help, one call into serve/edge.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "serve/edge.h"
#include "serve/transport.h"
#include "util/args.h"
#include "util/err.h"

int cmd_serve_edge(int argc, char **argv) {
    EdgeOpts o;
    edge_opts_default(&o);
    int scale = o.start.scale, quality = o.start.quality, skip = o.start.skip, max_frames = 0;
    const char *keygen = NULL;
    ArgSpec specs[] = {
        {"connect", ARG_STR, &o.connect, "EP", "the cloud's ZeroMQ endpoint, e.g. tcp://127.0.0.1:5555 (required)"},
        {"id", ARG_STR, &o.id, "NAME", "edge id: 1-16 of [A-Za-z0-9_.-]; the cloud keeps one state per id"},
        {"frames", ARG_STR, &o.frames, "DIR", "a folder of frames (.png/.jpg, sorted by name) or a dataset root (required)"},
        {"dataset", ARG_STR, &o.kind, "KIND", "how DIR is opened: frames (a folder or a CamVid-style root), camvid, cityscapes"},
        {"split", ARG_STR, &o.split, "S", "split of a dataset root (e.g. test)"},
        {"seq", ARG_STR, &o.seq, "NAME", "only the frames of this sequence (e.g. Seq05VD)"},
        {"fps", ARG_FLOAT, &o.fps, "N", "capture rate: frame k is captured k/N s after the start"},
        {"loop", ARG_BOOL, &o.loop, NULL, "start over at the end of the folder (stop with --max-frames, --duration or Ctrl-C)"},
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
                                                         "(0 = never)"},
        {"curve-keys", ARG_STR, &o.curve_dir, "DIR", "CURVE: DIR/<id>.key or DIR/client.key and DIR/server.pub; the cloud "
                                                     "accepts --id only from the key its authorized_keys names with that id"},
        {"curve-keygen", ARG_STR, &keygen, "DIR", "write a key directory (server.key, server.pub, one key per --id given "
                                                  "as ID,ID,..., authorized_keys) and exit"},
        {"csv", ARG_STR, &o.csv, "FILE", "per-frame CSV: every captured frame sent, dropped (with the reason) or skipped"},
        {"wait-cloud", ARG_FLOAT, &o.wait_cloud, "S", "wait up to S s for the cloud before the clock starts (0 = start now)"},
        {"linger", ARG_FLOAT, &o.linger, "S", "after the last frame, S s for the queue to drain and feedback to come"},
        {"netns", ARG_BOOL, &o.netns, NULL, "the kernel shapes the uplink (tc in the network namespace this runs in, set up "
                                            "by the caller, e.g. tests/unit/test_serve_edge.c): no pacing here, frames "
                                            "leave when encoded; --bandwidth is only recorded"},
        {"quiet", ARG_BOOL, &o.quiet, NULL, "no log lines"},
        {0},
    };
    ArgCmd cmd = {"serve-edge", "--connect tcp://HOST:PORT --frames DIR [options]",
                  "The edge of the online loop (Runespoor §3.2, §5.3). Plays a frame folder as a video at\n"
                  "--fps; each captured frame is downscaled (MATLAB bicubic) and JPEG-encoded with the\n"
                  "current configuration (scale, quality, skip) and sent to `rune serve-cloud` through a\n"
                  "shaper that enforces the uplink (--bandwidth schedule or --trace); a frame that would\n"
                  "leave after --deadline-ms is dropped. The cloud's feedback sets the configuration of\n"
                  "the next frames (CAC's tail configuration, AWStream's probes). When the cloud goes away\n"
                  "the edge keeps its clock, drops frames as no_link and reconnects by itself. An edge the\n"
                  "cloud refuses (--max-edges reached, or a key that is not this --id's) stops and exits 1\n"
                  "with the cloud's reason (\"refused by the cloud: 16 edges already served\").\n"
                  "--csv FILE: one row per frame (and probe): edge, frame id, configuration, bytes, capture/\n"
                  "ready/start/send times (us), encode/queue/transmit ms, status and reason.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (keygen) {
        const char *ids[64];
        int n = 0;
        char *list = strdup(o.id);
        for (char *t = strtok(list, ","); t && n < 64; t = strtok(NULL, ",")) ids[n++] = t;
        int rc = transport_curve_keygen_dir(keygen, ids, n);
        free(list);
        if (rc < 0) {
            fprintf(stderr, "rune serve-edge: %s\n", rn_errmsg());
            return 1;
        }
        printf("wrote %s/server.key, server.pub, authorized_keys and %d edge key%s\n", keygen, n, n == 1 ? "" : "s");
        return 0;
    }
    if (!o.connect || !o.frames) args_usage_error(&cmd, "--connect and --frames are required");
    o.start = (WireConfig){.scale = scale, .quality = quality, .skip = skip};
    o.max_frames = max_frames;
    EdgeSummary s;
    if (edge_run(&o, &s) < 0) {
        fprintf(stderr, "rune serve-edge: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
