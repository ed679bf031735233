/* edge.h: the robot's side of the online loop — a frame folder played as a video, degraded with the
 * configuration the cloud last asked for, paced through the shaper, sent over the transport.
 *
 * Clock: frame k is captured at t0 + k / fps (t0 = when the stream starts). At its capture time the
 * frame is skipped (configuration skip), or loaded and degraded (scale, JPEG quality) and offered to
 * the shaper; the shaper says when its last byte leaves the uplink (or refuses it: deadline), and the
 * message is handed to ZeroMQ at that moment. Feedback from the cloud changes the configuration of
 * the next captured frame; a feedback with probe_count N also sends the next N captured frames a
 * second time at the probe configuration (AWStream's profiling frames; they use the uplink too).
 * Every captured frame (and every probe) is one CSV row: sent, dropped with a reason, or skipped. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "serve/wire.h"

typedef struct EdgeOpts {
    const char *connect;      /* ZeroMQ endpoint of the cloud (required) */
    const char *id;           /* edge id (wire_id_valid) */
    const char *frames;       /* a frame folder or a dataset root (required) */
    const char *kind;         /* dataset kind for dataset_open ("frames" default; "camvid" etc. work too) */
    const char *split;        /* split of a dataset root ("" = the kind's default) */
    const char *seq;          /* only frames of this sequence ("" = all) e.g. "Seq05VD" */
    double fps;               /* capture rate */
    bool loop;                /* start over at the end of the folder */
    long long max_frames;     /* stop after this many captures (0 = one pass, or endless with loop) */
    double duration;          /* stop after this many seconds (0 = no limit) */
    WireConfig start;         /* configuration until the cloud says otherwise */
    const char *profile;      /* profile.json: start with its standard configuration for the initial bandwidth */
    const char *bandwidth;    /* step schedule "0:10,5:5,..." (Mbps) */
    const char *trace;        /* Mahimahi uplink trace (instead of bandwidth) */
    double bw_scale;          /* multiplies the schedule / the trace's packet size (0 = 1) */
    double bw_start;          /* the stream starts this many seconds into the schedule / trace */
    double deadline_ms;       /* a frame must have left within this of its capture (<= 0: no limit) */
    const char *curve_dir;    /* CURVE key directory (transport.h) or NULL */
    const char *csv;          /* per-frame CSV path (NULL/"" = none) */
    double wait_cloud;        /* wait up to this many seconds for the cloud before the clock starts (0 = not) */
    double linger;            /* after the last capture: seconds to let the queue drain and feedback come */
    bool netns;               /* the kernel shapes the uplink (tc in this network namespace, set up by the
                                 caller): frames leave when encoded, the schedule is only recorded (link_mbps) */
    bool quiet;
} EdgeOpts;

typedef struct EdgeSummary {
    long long captured;        /* frames whose capture time came */
    long long sent, probes_sent;
    long long skipped;         /* by the configuration's skip */
    long long dropped_deadline, dropped_no_link, dropped_busy, dropped_error;
    long long dropped_stopped;   /* still queued when a signal stopped the edge */
    long long feedback, config_changes, bad_messages, reconnects;
    long long refused;           /* FEEDBACKs saying the cloud does not serve this edge (it stops at the first) */
    double bytes_sent;
    double encode_ms, queue_ms, transmit_ms; /* means over the sent frames */
    double wall_s;
} EdgeSummary;

/* Defaults: id "edge0", kind "frames", fps 30, start s4 q70, deadline 500 ms, wait_cloud 10 s, linger 1 s. */
void edge_opts_default(EdgeOpts *o);
/* Runs the stream until the frames (or max_frames / duration) are used up, SIGINT/SIGTERM, or the
 * cloud refuses the edge. 0 (summary in *sum, also printed unless quiet), or -1 with rn_errmsg() (bad
 * folder, schedule, trace, keys, CSV path; "refused by the cloud: WHY", *sum filled). */
int edge_run(const EdgeOpts *o, EdgeSummary *sum);

/* The CSV header line the edge writes (without newline). */
extern const char *const EDGE_CSV_HEADER;
