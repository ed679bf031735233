/* cloud.h: `rune serve-cloud` — the cloud side of the online loop (Runespoor §3.2, §5.3; DESIGN.md §7).
 *
 * One ZeroMQ ROUTER serves any number of edges. Per edge (state made on its first HELLO or FRAME,
 * freed on BYE or after edge_timeout seconds of silence): a bandwidth estimate, a controller
 * (fixed / standard / cac / cac-share / cac-oracle / awstream, serve/control.h) and counters. Per FRAME: decode the JPEG,
 * rebuild it with the profile's SR model for its scale (bilinear where the profile has none; scale
 * 1 = HR, nothing to rebuild), run the frozen segmenter, the tail signals of the prediction and the
 * detector of the frame's configuration (serve/detect.h),
 * the controller, a FEEDBACK with the next configuration; with --data, the accuracy against the
 * label and against the segmenter's prediction on the HR frame (an evaluation aid, outside the
 * timed stages). One CSV row per received frame (CLOUD_CSV_HEADER) and a summary at the end. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "serve/control.h"
#include "serve/rate.h"

typedef struct CloudOpts {
    const char *listen;        /* ZeroMQ endpoint to bind ("tcp://127.0.0.1:5555") */
    const char *curve_dir;     /* NULL/"" = plain TCP; else serve/transport.h's key folder */
    const char *profile;       /* profile.json (required) */
    const char *task;          /* segmenter (NULL = the profile's task file) */
    const char *sr;            /* "x2=A.h5,x4=bilinear" (NULL = the profile's sr[]) */
    const char *data, *kind, *split, *seq; /* evaluation aid: labels and HR frames by src_index = the sample's index
                                            * in the dataset as the edge opens it (same kind/split); seq: only
                                            * that sequence's frames are scored (NULL = none) */
    const char *csv;           /* per-frame CSV (NULL = none) */
    const char *summary;       /* the summary as Markdown also here (NULL = stdout only) */
    CtlKind ctl;
    CtlParams par;
    double threshold;          /* CAC threshold override (NaN = the profile's; the paper's 0.01 when it has none) */
    double fps;                /* an edge's frame rate when it sent no HELLO */
    double bw_window;          /* seconds of arrivals the bandwidth estimate spans */
    double edge_timeout;       /* seconds of silence after which an edge's state is freed */
    double duration;           /* stop after this many seconds (0 = until SIGINT/SIGTERM or --edges byes) */
    double idle_exit;          /* stop after this many seconds without any message once a frame came (0 = never) */
    int edges;                 /* stop once this many BYEs have arrived (0 = never) */
    int max_edges;             /* edges served at once; more are refused and logged */
    int tile;                  /* CARN LR tile side (0 = whole frame) */
    long max_pixels;           /* HR pixels (hr_w x hr_h) a FRAME may declare; more is refused unread (0 = CLOUD_MAX_PIXELS) */
    int csv_rate;              /* stale/refused/bad_payload rows per second per edge before they are summarised (0 = CLOUD_CSV_RATE) */
    bool quiet;
    const char *worker_of;     /* a broker's backend endpoint: run as its worker K (serve/broker.h; NULL = a cloud of its own) */
    int worker_index;
} CloudOpts;

/* The profile records no frame size, so the cap on what a FRAME may declare is full HD (the
 * largest capture the paper's setups use; CamVid is 960x720, Cityscapes 2048x1024 needs --max-pixels). */
#define CLOUD_MAX_PIXELS (1920L * 1080)
#define CLOUD_CSV_RATE 100

void cloud_opts_default(CloudOpts *o);
/* Runs the cloud until a stop condition; 0, or -1 with rn_errmsg() (bad profile, models, endpoint). */
int cloud_run(const CloudOpts *o);

/* One CSV row per frame received: times are microseconds of CLOCK_REALTIME (the wire's clock); the
 * *_ms columns are stage durations. transmit = send - first byte leaving the shaper (capture +
 * encode + queue); network = recv - send (recv = taken off the socket); wait = recv to the start of
 * its processing. status: processed; stale (a newer frame of the same edge arrived before the cloud
 * got to it: not analysed, its timing columns are NaN past network); bad_payload (undecodable);
 * unprocessed (still waiting when the cloud stopped); refused (not looked at: its declared size is over
 * --max-pixels, or its payload's JPEG/PNG header is unreadable or disagrees with the declared size
 * hr/scale; the reason column says which: too_large, bad_header, size_mismatch; timing columns NaN).
 *
 * Bounded output: per edge, at most --csv-rate (CLOUD_CSV_RATE) stale, refused and bad_payload rows
 * each per second are written one per frame; past that, the frames of that second are summarised in
 * ONE row when the second is over (or the edge leaves, or the cloud stops): status "<status>_summary"
 * (stale_summary, refused_summary, bad_payload_summary), frame_id = the last frame it covers, bytes
 * = their payload bytes together, recv_us = when the last of them arrived, reason = how many frames
 * the row stands for; every other column is empty. The summary's counts include every frame.
 *
 * Tail detection (issue 22; appended after status, the earlier columns keep their places): ratio is
 * the small-region ratio of the prediction whatever the profile's signal; ratio_ms the time of every
 * signal (profile/signals.h); signal = the profile's signal name, signal_value = its value on this
 * frame; det_* = the detector of the configuration the frame arrived in (serve/detect.h: exact
 * configuration, else the same scale's nearest quality; det_scale = det_quality = 0 for a version-1
 * profile's one threshold; det_direction 0 and det_threshold NaN: no detector, not flagged; a
 * --threshold override shows here); tail_detected = the flag the controller saw (cac-oracle: acc_ref
 * <= the profile's tail_cutoff); acc_ref = the frame's accuracy against its label at the profile's
 * reference configuration (cac-oracle only, else NaN). Rows without analysis: signal named, the rest NaN / 0. */
#define CLOUD_CSV_HEADER                                                                                      \
    "edge,frame_id,src_index,controller,config,scale,quality,skip,tail_cfg,probe,bytes,capture_us,send_us,"   \
    "recv_us,done_us,encode_ms,queue_ms,transmit_ms,network_ms,wait_ms,decode_ms,sr_ms,infer_ms,ratio_ms,"            \
    "cloud_ms,e2e_ms,ratio,tail_detected,acc_label,acc_hr,ratio_hr,bw_est_kbps,next_config,reason,status,"            \
    "signal,signal_value,det_scale,det_quality,det_threshold,det_direction,acc_ref"
