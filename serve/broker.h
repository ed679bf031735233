/* broker.h: `rune serve-cloud --workers N` — a sticky broker in front of N worker clouds (DESIGN.md §7, README "Scaling out").
 *
 * The broker opens the public side exactly as a single cloud does (transport_cloud_open: ROUTER at
 * --listen, CURVE/ZAP, identity checks, bad-message counting), binds a backend ROUTER (ipc:// in a
 * private temp dir, or --backend) and starts N workers (`serve-cloud --worker-of BACKEND
 * --worker-index K` plus the user's flags; DEALERs with routing id "wK", transport_worker_open).
 * ZeroMQ's zmq_proxy cannot be sticky (a DEALER front round-robins), so the broker routes itself:
 * an edge id is assigned to one worker when first seen (the live worker with the fewest edges) and
 * kept until its BYE or --edge-timeout of silence, so that worker holds the edge's state. Messages
 * go as [wK][edge id][wire bytes] to a worker and [edge id][wire bytes] back.
 * A worker that dies is logged and its edges reassigned (their state is lost: the new worker starts
 * them afresh). On its stop (--duration, --edges, --idle-exit, SIGINT/SIGTERM) the broker sends
 * each worker BROKER_STOP, waits BROKER_STOP_WAIT_S, then SIGTERM, SIGKILL, and reaps them. */
#pragma once
#include "serve/cloud.h"

#define BROKER_READY "READY"   /* worker -> broker, one frame: models loaded, routing may begin */
#define BROKER_STOP "STOP"     /* broker -> worker, one frame: stop after what came before */
#define BROKER_WORKERS_MAX 64
#define BROKER_START_WAIT_S 120  /* a worker loads its models (segmenter, SR) before READY */
#define BROKER_STOP_WAIT_S 30    /* a worker finishes the frame in hand and writes its summary */

typedef struct BrokerOpts {
    const CloudOpts *cloud;    /* listen, curve_dir, csv, summary, duration, edges, idle_exit, edge_timeout, max_edges, quiet */
    int workers;               /* 2..BROKER_WORKERS_MAX */
    const char *backend;       /* NULL/"" = ipc:// in a private temp dir; else an endpoint to bind (tcp://10.0.0.1:6000) */
    char **worker_args;        /* the user's other serve-cloud flags, passed to every worker */
    int nworker_args;
} BrokerOpts;

/* Runs the broker until a stop condition; 0, or -1 with rn_errmsg() (endpoint, a worker that never started). */
int broker_run(const BrokerOpts *o);

/* path with ".wK" before its extension ("cloud.csv" -> "cloud.w0.csv"; "cloud" -> "cloud.w0"). */
void broker_worker_path(char *out, size_t cap, const char *path, int k);
