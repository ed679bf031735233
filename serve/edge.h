/* edge.h: the robot's side of the online loop — a frame folder, a video file, a stream URL or a camera
 * (data/video_source.h), degraded with the configuration the cloud last asked for, paced through the
 * shaper, sent over the transport.
 *
 * Clock (--pace stream, the default): frame k is captured at t0 + its time in the source (t0 = when the
 * stream starts): a folder's k / fps, a video file's timestamp from its first frame's; a camera or a
 * live URL paces itself, so its frames are captured as they arrive. --pace fast: each frame is
 * captured as soon as the one before it has left the edge (sent or dropped), for offline runs over a
 * file that should take as long as encoding and the uplink need, not as long as the video lasts.
 * Stream is the default because the shaper's schedule, the deadline and the cloud's bandwidth
 * estimate are all in seconds of this clock: only a real-time capture gives them their meaning.
 *
 * A video has no labels: its frames' src_index is their number in the video (from 0, again from 0 on
 * each --loop pass), and a cloud scores accuracy only for a dataset-backed stream (--frames with the
 * cloud's --data naming the same frames); with a video it serves and adapts, and records no accuracy.
 *
 * At its capture time the
 * frame is skipped (configuration skip), or loaded and degraded (scale, JPEG quality) and offered to
 * the shaper; the shaper says when its last byte leaves the uplink (or refuses it: deadline), and the
 * message is handed to ZeroMQ at that moment. Feedback from the cloud changes the configuration of
 * the next captured frame; a feedback with probe_count N also sends the next N captured frames a
 * second time at the probe configuration (AWStream's profiling frames; they use the uplink too).
 * Every captured frame (and every probe) is one CSV row: sent, dropped with a reason, or skipped.
 *
 * Unconfirmed (serve/confirm.h): a sent frame is confirmed when a FEEDBACK names it or a frame sent after
 * it on the same connection (frames arrive in order on one connection). When the link changes
 * (transport_generation) or the edge stops (after its linger), each sent frame not confirmed gets a
 * second CSV row, status "unconfirmed", reason link_lost (the link it crossed went away) or no_answer
 * (the link is up, no answer came): it may have been lost in flight (EdgeSummary.unconfirmed).
 * `rune serve-reconcile` joins this CSV with the cloud's: every sent frame is in the cloud's CSV or so marked.
 *
 * Drop reasons (CSV column reason; EdgeSummary counter):
 *   deadline      the frame could not leave within deadline_ms of its capture (dropped_deadline): the
 *                 shaper refused it, or under --netns the socket did not take it in time
 *   no_link       no connection to the cloud when it was captured or due to leave (dropped_no_link)
 *   zmq_full      connected, but ZeroMQ's send queue was full at its departure (dropped_zmq_full)
 *   send_error    ZeroMQ failed to send it (dropped_send_error; the error is logged)
 *   edge_busy     the edge itself fell behind its capture clock (CPU starved), queue_full: PENDING_CAP
 *                 messages waiting (dropped_busy)
 *   encode_error, load_error   the frame could not be read or encoded (dropped_error)
 *   stopped       still queued when the stream ended or a signal stopped it (dropped_stopped)
 *
 * Self step-down (serve/stepdown.h): after STEPDOWN_K regular frames in a row dropped at the deadline
 * the edge takes the next coarser configuration on its own (the profile's next lower target, else a
 * fixed ladder) instead of waiting for feedback that cannot come; the CSV column stepdown says how many
 * own steps the row's configuration is below the cloud's. Feedback for a frame sent after the step (or
 * a new START) hands the configuration back to the cloud; older feedback does not undo the step.
 * Feedback with a reason the edge does not know is counted and not taken as a configuration.
 *
 * --netns: the kernel shapes the link, so the edge cannot know when a frame leaves. It hands a frame to
 * ZeroMQ as soon as it is encoded and ZeroMQ takes it; the DEALER then queues at most
 * EDGE_NETNS_SNDHWM message and the TCP socket EDGE_NETNS_SNDBUF bytes, so a frame handed over waits
 * behind little more than one frame. A frame ZeroMQ does not take by capture + deadline_ms is dropped
 * as deadline; rows' send_us is the hand-over, not the last byte on the wire. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "serve/wire.h"

#define EDGE_NETNS_SNDHWM 1      /* --netns: messages ZeroMQ may hold towards the cloud */
#define EDGE_NETNS_SNDBUF 16384  /* --netns: TCP send buffer asked for (the kernel doubles it): ~0.25 s at 1 Mbps */

enum { EDGE_PACE_STREAM, EDGE_PACE_FAST };

typedef struct EdgeOpts {
    const char *connect;      /* ZeroMQ endpoint of the cloud (required) */
    const char *id;           /* edge id (wire_id_valid) */
    const char *frames;       /* a frame folder or a dataset root (this or source) */
    const char *source;       /* a video file, URL, /dev/videoN or frame folder (video_source_open); this or frames */
    int pace;                 /* EDGE_PACE_STREAM (default) or EDGE_PACE_FAST (see Clock above) */
    int width, height;        /* frames resized to width x height before degrading (0 x 0 = as the source gives them) */
    const char *kind;         /* dataset kind for dataset_open ("frames" default; "camvid" etc. work too) */
    const char *split;        /* split of a dataset root ("" = the kind's default) */
    const char *seq;          /* only frames of this sequence ("" = all) e.g. "Seq05VD" */
    double fps;               /* a folder's capture rate (a video's own timestamps and rate rule) */
    bool loop;                /* start over at the end of the folder */
    long long max_frames;     /* stop after this many captures (0 = one pass, or endless with loop) */
    double duration;          /* stop after this many seconds (0 = no limit) */
    WireConfig start;         /* configuration until the cloud says otherwise */
    const char *profile;      /* profile.json: start with its standard configuration for the initial bandwidth */
    const char *bandwidth;    /* step schedule "0:10,5:5,..." (Mbps) */
    const char *trace;        /* Mahimahi uplink trace (instead of bandwidth) */
    double bw_scale;          /* multiplies the schedule / the trace's packet size (> 0) */
    double bw_start;          /* the stream starts this many seconds into the schedule / trace */
    double deadline_ms;       /* a frame must have left within this of its capture (0: no limit; < 0 refused) */
    const char *curve_dir;    /* CURVE key directory (transport.h) or NULL */
    const char *csv;          /* per-frame CSV path (NULL/"" = none) */
    double wait_cloud;        /* wait up to this many seconds for the cloud before the clock starts (0 = not) */
    double linger;            /* after the last capture: seconds to let the queue drain and feedback come */
    bool netns;               /* the kernel shapes the uplink (tc in this network namespace, set up by the
                                 caller): frames go to the socket when encoded and it takes them, within
                                 deadline_ms (see --netns above); the schedule is only recorded (link_mbps) */
    bool quiet;
} EdgeOpts;

typedef struct EdgeSummary {
    long long captured;        /* frames whose capture time came */
    long long sent, probes_sent;
    long long skipped;         /* by the configuration's skip */
    long long dropped_deadline, dropped_no_link, dropped_busy, dropped_error;
    long long dropped_zmq_full, dropped_send_error;
    long long dropped_stopped;   /* still queued when a signal stopped the edge */
    long long feedback, config_changes, bad_messages, reconnects;
    long long acked;             /* feedback answering a frame (not HELLO's START, not a notice): something got through */
    long long notices;           /* feedback with a reason that is not a configuration (ignored) */
    long long self_stepdowns;    /* own steps down after STEPDOWN_K deadline drops in a row */
    long long refused;           /* FEEDBACKs saying the cloud does not serve this edge (it stops at the first) */
    long long unconfirmed;       /* sent frames no FEEDBACK confirmed: may be lost in flight (CSV rows "unconfirmed") */
    long long bad_packets;       /* a video's packets the decoder refused and skipped */
    double bytes_sent;
    double encode_ms, queue_ms, transmit_ms; /* means over the sent frames */
    double wall_s;
} EdgeSummary;

/* Defaults: id "edge0", kind "frames", fps 30, start s4 q70, deadline 500 ms, wait_cloud 10 s, linger 1 s. */
void edge_opts_default(EdgeOpts *o);
/* Every number in range (fps (0, 1000], max_frames >= 0, duration/linger/wait_cloud/bw_start/deadline_ms
 * >= 0 and finite, bw_scale > 0, the start configuration, a tcp:// endpoint's port 1..65535, the size
 * both sides or none, a known pace), frames or source but not both, no split or seq with a source; -1
 * with rn_errmsg() naming the flag. edge_run calls it too. */
int edge_opts_check(const EdgeOpts *o);
/* Runs the stream until the frames (or max_frames / duration) are used up, SIGINT/SIGTERM, or the
 * cloud refuses the edge.
 * 0 (summary in *sum, also printed unless quiet), or -1 with rn_errmsg() (bad folder or video,
 * schedule, trace, keys, CSV path, an option out of range; "refused by the cloud: WHY", *sum filled;
 * a video that breaks off midway, *sum filled: the frames before the break were streamed). 0 also
 * when nothing got through: the caller reads sum (edge_outcome). */
int edge_run(const EdgeOpts *o, EdgeSummary *sum);

/* What a finished run means for the exit status: 0 = frames got through (the cloud answered at
 * least one); EDGE_EXIT_NOTHING_SENT = no frame was sent at all; EDGE_EXIT_NO_ANSWER = frames were sent
 * and no feedback ever answered one. *why gets a sentence for stderr (unchanged when 0). */
#define EDGE_EXIT_NOTHING_SENT 3
#define EDGE_EXIT_NO_ANSWER 4
int edge_outcome(const EdgeSummary *s, const char **why);

/* The CSV header line the edge writes (without newline). */
extern const char *const EDGE_CSV_HEADER;
