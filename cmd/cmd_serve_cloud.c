/* cmd_serve_cloud.c: `rune serve-cloud` — the cloud side of the online loop: flags, help, one call into serve/cloud.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "serve/broker.h"
#include "serve/cloud.h"
#include "serve/detect.h"
#include "serve/endpoint.h"
#include "serve/plan.h"
#include "util/args.h"
#include "util/err.h"

/* Every numeric flag in its range (exit 2 with the flag named): a typo must not start a cloud that
 * then misbehaves quietly (a negative hold, an endpoint libzmq would bind elsewhere). */
static void check_ranges(const ArgCmd *cmd, const CloudOpts *o) {
    if (endpoint_check(o->listen, 1) < 0) args_usage_error(cmd, "--listen %s", rn_errmsg());
    if (!isnan(o->threshold) && !(o->threshold >= 0 && isfinite(o->threshold)))
        args_usage_error(cmd, "--threshold %g: a value of the profile's signal, >= 0", o->threshold);
    if (!(o->fps > 0 && o->fps <= 1000)) args_usage_error(cmd, "--fps %g: must be in (0, 1000]", o->fps);
    if (!(o->bw_window > 0 && o->bw_window <= 3600)) args_usage_error(cmd, "--bw-window %g: seconds in (0, 3600]", o->bw_window);
    if (!(o->edge_timeout > 0 && o->edge_timeout <= 86400))
        args_usage_error(cmd, "--edge-timeout %g: seconds in (0, 86400]", o->edge_timeout);
    if (o->max_edges < 1 || o->max_edges > 4096) args_usage_error(cmd, "--max-edges %d: must be 1..4096", o->max_edges);
    if (!(o->duration >= 0) || !(o->idle_exit >= 0))
        args_usage_error(cmd, "--duration %g, --idle-exit %g: seconds >= 0 (0 = no limit)", o->duration, o->idle_exit);
    if (o->edges < 0) args_usage_error(cmd, "--edges %d: must be >= 0 (0 = never stop on byes)", o->edges);
    if (o->tile < 0) args_usage_error(cmd, "--tile %d: must be >= 0 (0 = whole frame)", o->tile);
    const CtlParams *p = &o->par;
    if (p->cac_hold < 0 || p->cac_hold > 100000) args_usage_error(cmd, "--cac-hold %d: frames, 0..100000", p->cac_hold);
    if (!(p->cac_margin >= 0 && p->cac_margin <= 100)) args_usage_error(cmd, "--cac-margin %g: must be 0..100", p->cac_margin);
    if (!(p->aw_period > 0) || !(p->aw_quiet > 0) || !(p->aw_queue_ms > 0))
        args_usage_error(cmd, "--aw-period %g, --aw-quiet %g, --aw-queue-ms %g: must be > 0", p->aw_period, p->aw_quiet,
                         p->aw_queue_ms);
}

/* Flags the broker keeps for itself or sets per worker (serve/broker.h); all take a value. */
static const char *const BROKER_OWN[] = {"workers", "backend", "listen", "curve-keys", "csv", "summary", "duration",
                                         "edges", "idle-exit", "worker-of", "worker-index", NULL};

static bool broker_own(const char *a, bool *has_value) {
    if (strncmp(a, "--", 2)) return false;
    for (int i = 0; BROKER_OWN[i]; i++) {
        size_t n = strlen(BROKER_OWN[i]);
        if (!strncmp(a + 2, BROKER_OWN[i], n) && (a[2 + n] == 0 || a[2 + n] == '=')) {
            *has_value = a[2 + n] == 0; /* "--csv F": the next argument is its value */
            return true;
        }
    }
    return false;
}

/* The user's flags minus the broker's own (argv[0] is the command name): what every worker gets. */
static int worker_args(int argc, char **argv, char **out) {
    int n = 0;
    for (int i = 1; i < argc; i++) {
        bool next = false;
        if (broker_own(argv[i], &next)) {
            i += next;
            continue;
        }
        out[n++] = argv[i];
    }
    return n;
}

/* "1920x1080" or "2073600" -> a pixel count; -1 when neither (or not positive). */
static int parse_pixels(const char *s, long *out) {
    long w = 0, h = 0;
    char tail;
    if (sscanf(s, "%ldx%ld%c", &w, &h, &tail) == 2 && w > 0 && h > 0 && w <= 1L << 20 && h <= 1L << 20) {
        *out = w * h;
        return 0;
    }
    if (sscanf(s, "%ld%c", &w, &tail) == 1 && w > 0) {
        *out = w;
        return 0;
    }
    return -1;
}

/* Whether --controller can run on this profile at all (the labels cac-oracle needs are checked at start). */
static int plan_controller_ok(const CloudOpts *o, const ProfileDoc *d) {
    int signal;
    TRY(serve_signal_of(d, &signal));
    TRY(serve_threshold_check(signal, o->threshold));
    if (o->ctl == CTL_CAC_ORACLE) return oracle_check(d, true);
    if (ctl_kind_flags(o->ctl) && d->ndet == 0 && isnan(o->threshold) && isnan(d->threshold))
        return rn_fail("%s has no detectors and no threshold: %s cannot flag a frame (give --threshold R)", o->profile,
                       ctl_kind_name(o->ctl));
    return 0;
}

/* --plan: the profile's picks per link rate on stdout (refused when --controller could not run on it). */
static int cmd_plan(const CloudOpts *o, const char *plan) {
    ProfileDoc d;
    int rc = profile_json_read(o->profile, &d);
    if (rc == 0) rc = plan_controller_ok(o, &d);
    if (rc == 0) rc = serve_plan(&d, plan, o->fps, o->threshold, stdout);
    if (rc < 0) fprintf(stderr, "rune serve-cloud: %s\n", rn_errmsg());
    profile_doc_free(&d);
    return rc < 0 ? 1 : 0;
}

int cmd_serve_cloud(int argc, char **argv) {
    CloudOpts o;
    cloud_opts_default(&o);
    const char *ctl = "cac", *fixed = "", *probe = "1:90", *max_px = "1920x1080";
    bool quiet = false;
    int workers = 1;
    const char *backend = NULL, *plan = NULL;
    ArgSpec specs[] = {
        {"listen", ARG_STR, &o.listen, "ENDPOINT", "ZeroMQ endpoint the ROUTER binds (tcp://127.0.0.1:PORT, tcp://*:PORT)"},
        {"curve-keys", ARG_STR, &o.curve_dir, "DIR", "CURVE: DIR/server.key and DIR/authorized_keys (lines \"KEY ID\"; see "
                                                     "serve-edge --help); an edge without an authorized key is refused and "
                                                     "logged, one whose messages say another ID than its key's is refused "
                                                     "(id_mismatch) and told"},
        {"profile", ARG_STR, &o.profile, "FILE", "profile.json from `rune profile` (targets, threshold, models; required)"},
        {"task", ARG_STR, &o.task, "FILE", "frozen segmenter (default: the profile's)"},
        {"sr", ARG_STR, &o.sr, "LIST", "x2=A.h5,x4=B.h5,... SR/ASR model per received scale (default: the profile's, "
                                       "which must still be the files it measured (checksums); a scale without one is "
                                       "rebuilt bilinearly)"},
        {"controller", ARG_STR, &ctl, "C", "cac (standard + tail configurations), standard (ASR without CAC), awstream "
                                           "(the baseline), fixed, cac-share (CAC choosing between the profile's share[] "
                                           "pair: flagged frames get about k x the target's bytes, the others pay) or "
                                           "cac-oracle (CAC flagged by the frame's accuracy at the profile's reference "
                                           "configuration <= its tail_cutoff; needs --data with labels)"},
        {"fixed", ARG_STR, &fixed, "S:Q", "the fixed controller's configuration (default: the standard pick at the first "
                                          "estimate)"},
        {"threshold", ARG_FLOAT, &o.threshold, "R", "experiments only: replaces the threshold of every detector of the "
                                                    "profile (direction kept); a version-1 profile (no detectors) has one "
                                                    "threshold on its signal (default: the profile's)"},
        {"cac-hold", ARG_INT, &o.par.cac_hold, "N", "CAC: consecutive calm frames before leaving the tail configuration"},
        {"cac-margin", ARG_FLOAT, &o.par.cac_margin, "M", "CAC: a calm frame has value >= threshold x (1 + M) (a low value "
                                                          "means tail) or <= threshold x (1 - M) (a high value does)"},
        {"plan", ARG_STR, &plan, "MBPS,...", "print, per link rate, the target and each controller's picks and "
                                             "detectors for an edge at --fps (CSV), then exit: the profile alone, "
                                             "nothing loaded or bound; exit 1 when --controller could not run on "
                                             "the profile (no detectors, no tail_cutoff)"},
        {"aw-period", ARG_FLOAT, &o.par.aw_period, "S", "AWStream: seconds between online profiling rounds"},
        {"aw-quiet", ARG_FLOAT, &o.par.aw_quiet, "S", "AWStream: seconds without congestion before probing up"},
        {"aw-queue-ms", ARG_FLOAT, &o.par.aw_queue_ms, "MS", "AWStream: shaper queueing delay that means congestion"},
        {"aw-probe", ARG_STR, &probe, "S:Q", "AWStream: the extra profiling frame's scale and quality (1:90 = HR; a "
                                             "smaller one is rebuilt by its SR model and stands in for HR)"},
        {"data", ARG_STR, &o.data, "DIR", "evaluation aid: the dataset the edges stream (labels and HR frames by the "
                                          "frame's index in the dataset, opened as the edge opens it)"},
        {"dataset", ARG_STR, &o.kind, "KIND", "its kind (camvid, frames, cityscapes)"},
        {"split", ARG_STR, &o.split, "S", "its split"},
        {"seq", ARG_STR, &o.seq, "NAME", "score only this sequence's frames (the edge's --seq; indices stay the split's)"},
        {"csv", ARG_STR, &o.csv, "FILE", "one row per received frame (columns in the README)"},
        {"summary", ARG_STR, &o.summary, "FILE", "the end-of-run summary (Markdown) also here"},
        {"fps", ARG_FLOAT, &o.fps, "F", "an edge's frame rate until its HELLO says otherwise"},
        {"bw-window", ARG_FLOAT, &o.bw_window, "S", "seconds of arrivals behind the bandwidth estimate"},
        {"edge-timeout", ARG_FLOAT, &o.edge_timeout, "S", "an edge silent this long is forgotten (state freed)"},
        {"max-edges", ARG_INT, &o.max_edges, "N", "edges streaming at once (an edge that only said HELLO holds no place); "
                                               "a further edge's frames are refused and it is told (serve-edge exits 1)"},
        {"duration", ARG_FLOAT, &o.duration, "S", "stop after S seconds (0: on SIGINT/SIGTERM or --edges)"},
        {"edges", ARG_INT, &o.edges, "N", "stop after N edges it served have said BYE"},
        {"idle-exit", ARG_FLOAT, &o.idle_exit, "S", "stop after S seconds without a message once frames came"},
        {"tile", ARG_INT, &o.tile, "N", "CARN LR tile side (0 = whole frame)"},
        {"max-pixels", ARG_STR, &max_px, "WxH|N", "a FRAME declaring more HR pixels is refused unread (CSV status "
                                                  "refused; so is one whose JPEG/PNG header is not its declared size / scale)"},
        {"csv-rate", ARG_INT, &o.csv_rate, "N", "per edge, at most N stale/refused/bad_payload rows a second, the rest "
                                                "summarised in one row a second (format in the README)"},
        {"quiet", ARG_BOOL, &quiet, NULL, "no log lines (the summary is still printed)"},
        {"workers", ARG_INT, &workers, "N", "N >= 2: a broker at --listen in front of N worker processes, each edge sticky "
                                            "to one (its state lives there); --csv/--summary per worker as NAME.wK.EXT, "
                                            "--max-edges per worker; 1 = one process (README \"Scaling out\")"},
        {"backend", ARG_STR, &backend, "ENDPOINT", "with --workers: the workers' endpoint the broker binds (default ipc:// "
                                                   "in a private temp dir); tcp://HOST:PORT also takes workers started "
                                                   "elsewhere with --worker-of it --worker-index K (K >= N; no "
                                                   "authentication: a private network only)"},
        {"worker-of", ARG_STR, &o.worker_of, "ENDPOINT", "run as a worker of the broker whose --backend is ENDPOINT (the broker "
                                                          "starts its own; see --backend)"},
        {"worker-index", ARG_INT, &o.worker_index, "K", "this worker's index (routing id wK; unique per broker)"},
        {0},
    };
    ArgCmd cmd = {"serve-cloud", "--listen tcp://127.0.0.1:PORT --profile profile.json [options]",
                  "The cloud of Runespoor's online loop (§3.2, §5.3). One ZeroMQ ROUTER serves many edges\n"
                  "(`rune serve-edge`), each with its own state and controller. Per frame: decode the JPEG,\n"
                  "rebuild it with the SR/ASR model of its scale (bilinear where none), run the frozen\n"
                  "segmenter, compute the tail signals of the prediction, let the controller pick the\n"
                  "next configuration from the profile's targets for the bandwidth estimated from what\n"
                  "arrived, and send it back. CAC: the profile's signal (the small-region ratio by default)\n"
                  "flagged by the detector of the configuration the frame arrived in = likely tail frame ->\n"
                  "the tail configuration at once; back after --cac-hold calm frames. Writes --csv (one row\n"
                  "per frame, every timestamp and stage time) and prints a summary at the end.",
                  specs, 0, 0};
    char **pos;
    int npos;
    args_parse(&cmd, argc, argv, &pos, &npos);
    free(pos);
    if (!o.profile) args_usage_error(&cmd, "--profile is required");
    if (ctl_kind_parse(ctl, &o.ctl) < 0) args_usage_error(&cmd, "%s", rn_errmsg());
    if (*fixed && (sscanf(fixed, "%d:%d", &o.par.fixed.scale, &o.par.fixed.quality) != 2 || o.par.fixed.scale < 1 ||
                   o.par.fixed.scale > 16 || o.par.fixed.quality < 0 || o.par.fixed.quality > 100))
        args_usage_error(&cmd, "--fixed %s: want SCALE:QUALITY (scale 1..16, quality 0..100)", fixed);
    if (sscanf(probe, "%d:%d", &o.par.aw_probe.scale, &o.par.aw_probe.quality) != 2 || o.par.aw_probe.scale < 1 ||
        o.par.aw_probe.scale > 16 || o.par.aw_probe.quality < 1 || o.par.aw_probe.quality > 100)
        args_usage_error(&cmd, "--aw-probe %s: want SCALE:QUALITY (scale 1..16, quality 1..100)", probe);
    check_ranges(&cmd, &o);
    if (plan) return cmd_plan(&o, plan);
    if (parse_pixels(max_px, &o.max_pixels) < 0 || o.csv_rate < 1)
        args_usage_error(&cmd, "--max-pixels %s: want WxH or a pixel count >= 1; --csv-rate: >= 1", max_px);
    o.quiet = quiet;
    if (workers < 1 || workers > BROKER_WORKERS_MAX) args_usage_error(&cmd, "--workers %d: 1..%d", workers, BROKER_WORKERS_MAX);
    if (workers > 1 && o.worker_of) args_usage_error(&cmd, "--workers and --worker-of: a worker has no workers");
    if (o.worker_index < 0 || o.worker_index >= BROKER_WORKERS_MAX)
        args_usage_error(&cmd, "--worker-index %d: 0..%d", o.worker_index, BROKER_WORKERS_MAX - 1);
    if (workers > 1) {
        char **wargs = xcalloc((size_t)argc, sizeof *wargs);
        BrokerOpts bo = {.cloud = &o, .workers = workers, .backend = backend, .worker_args = wargs};
        bo.nworker_args = worker_args(argc, argv, wargs);
        int rc = broker_run(&bo);
        free(wargs);
        if (rc < 0) fprintf(stderr, "rune serve-cloud: %s\n", rn_errmsg());
        return rc < 0 ? 1 : 0;
    }
    if (cloud_run(&o) < 0) {
        fprintf(stderr, "rune serve-cloud: %s\n", rn_errmsg());
        return 1;
    }
    return 0;
}
