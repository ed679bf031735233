/* broker.c: `rune serve-cloud --workers N` — the public ROUTER, a backend ROUTER, N worker processes, sticky routing by edge id. */
#include "serve/broker.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "serve/ratelog.h"
#include "serve/transport.h"
#include "util/err.h"
#include "util/logline.h"
#include "util/progress.h"

#define ENDPOINT_SIZE 256
#define WID_SIZE 16             /* "w" + any int + NUL (indices are 0..63) */
#define POLL_MS 100             /* the loop's tick: stop conditions, worker deaths, silent edges */
#define ARGV_EXTRA 12           /* flags the broker adds to a worker's command line, NULL included */
#define ERR_SIZE 512            /* the error kept across the workers' stop */

typedef struct Worker {
    char id[WID_SIZE];
    pid_t pid;
    bool ready, dead;
    bool remote;                          /* joined on --backend, not started here (pid 0) */
    int edges;                            /* edges assigned now */
    long long assigned, to_msgs, to_frames, from_msgs, lost;
    int status;                           /* waitpid status once reaped */
} Worker;

typedef struct Route {
    bool used;
    char id[WIRE_ID_MAX + 1];
    int w;
    double last_t;
} Route;

typedef struct Broker {
    const BrokerOpts *o;
    const CloudOpts *co;
    void *ctx, *back;
    Transport *front;
    char tmpdir[ENDPOINT_SIZE], back_ep[ENDPOINT_SIZE + 32]; /* "ipc://" + tmpdir + "/backend" */
    Worker w[BROKER_WORKERS_MAX];
    int nw;                               /* slots in use: the N started here, then any that joined on --backend */
    Route *routes;
    int nroutes;
    long long byes, evicted, lost, unrouted, worker_deaths;
    long long back_bad;                   /* backend messages that were no worker's READY or reply */
    RateLog log_lost, log_back;
    RateLog log_route;             /* one line per new edge id: 10 a second at most (a peer may cycle ids) */
} Broker;

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

void broker_worker_path(char *out, size_t cap, const char *path, int k) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : path)) dot = path + strlen(path);
    snprintf(out, cap, "%.*s.w%d%s", (int)(dot - path), path, k, dot);
}

/* ---------------- workers ---------------- */

/* Forks and execs this binary with args; stdout and stderr stay the broker's (workers' lines and
 * summaries appear live). The child gets SIGTERM when the broker dies, however it dies. */
static pid_t spawn_worker(char *const *args) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return rn_fail("cannot find this program's own file (/proc/self/exe): %s", strerror(errno));
    self[n] = 0;
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return rn_fail("fork: %s", strerror(errno));
    if (pid == 0) {
        /* the broker may have died before prctl: then no signal would ever come */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(127);
        execv(self, args);
        _exit(127);
    }
    return pid;
}

static int start_workers(Broker *b) {
    const CloudOpts *co = b->co;
    int nargs = b->o->nworker_args;
    char **args = xcalloc((size_t)(nargs + ARGV_EXTRA), sizeof *args);
    char idx[16], csv[PATH_MAX], sum[PATH_MAX];
    int rc = 0;
    for (int k = 0; k < b->o->workers && rc == 0; k++) {
        int a = 0;
        args[a++] = "rune"; /* main() reads the command from argv[1] */
        args[a++] = "serve-cloud";
        for (int i = 0; i < nargs; i++) args[a++] = b->o->worker_args[i];
        snprintf(idx, sizeof idx, "%d", k);
        args[a++] = "--worker-of";
        args[a++] = b->back_ep;
        args[a++] = "--worker-index";
        args[a++] = idx;
        if (co->csv && *co->csv) {
            broker_worker_path(csv, sizeof csv, co->csv, k);
            args[a++] = "--csv";
            args[a++] = csv;
        }
        if (co->summary && *co->summary) {
            broker_worker_path(sum, sizeof sum, co->summary, k);
            args[a++] = "--summary";
            args[a++] = sum;
        }
        args[a] = NULL;
        Worker *w = &b->w[k];
        snprintf(w->id, sizeof w->id, "w%d", k);
        w->pid = spawn_worker(args);
        if (w->pid < 0) rc = -1;
        else if (!co->quiet) logline(stderr, "serve-cloud: worker %d pid %d started\n", k, (int)w->pid);
    }
    free(args);
    return rc;
}

static Worker *worker_by_id(Broker *b, const void *id, size_t n) {
    for (int k = 0; k < b->nw; k++)
        if (strlen(b->w[k].id) == n && !memcmp(b->w[k].id, id, n)) return &b->w[k];
    return NULL;
}

static void unassign_all(Broker *b, int k) {
    for (int i = 0; i < b->nroutes; i++)
        if (b->routes[i].used && b->routes[i].w == k) b->routes[i].used = false;
    b->w[k].edges = 0;
}

/* Worker k is gone (how: why); its edges go to the others on their next message. */
static void worker_lost(Broker *b, int k, const char *how) {
    Worker *w = &b->w[k];
    w->dead = true;
    b->worker_deaths++;
    logline(stderr, "serve-cloud: worker %d (pid %d) %s; its %d edges go to the other workers (their state is lost)\n", k,
            (int)w->pid, how, w->edges);
    unassign_all(b, k);
}

/* Reaps workers that exited. */
static void reap_workers(Broker *b) {
    for (int k = 0; k < b->nw; k++) {
        Worker *w = &b->w[k];
        if (w->dead || w->pid <= 0 || waitpid(w->pid, &w->status, WNOHANG) != w->pid) continue;
        char how[64];
        if (WIFSIGNALED(w->status)) snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(w->status));
        else snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(w->status));
        worker_lost(b, k, how);
    }
}

static int live_workers(const Broker *b) {
    int n = 0;
    for (int k = 0; k < b->nw; k++) n += b->w[k].ready && !b->w[k].dead;
    return n;
}

/* ---------------- the backend ---------------- */

static int open_backend(Broker *b) {
    if (b->o->backend && *b->o->backend) snprintf(b->back_ep, sizeof b->back_ep, "%s", b->o->backend);
    else {
        snprintf(b->tmpdir, sizeof b->tmpdir, "/tmp/rune-broker-XXXXXX");
        if (!mkdtemp(b->tmpdir)) return rn_fail("mkdtemp %s: %s", b->tmpdir, strerror(errno));
        snprintf(b->back_ep, sizeof b->back_ep, "ipc://%s/backend", b->tmpdir);
    }
    b->ctx = zmq_ctx_new();
    b->back = b->ctx ? zmq_socket(b->ctx, ZMQ_ROUTER) : NULL;
    /* a worker on another machine whose link died is dropped after hb_timeout (sends to it then fail) */
    int one = 1, zero = 0, hb_ivl = 1000, hb_timeout = 3000;
    if (!b->back || zmq_setsockopt(b->back, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(b->back, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(b->back, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl) != 0 ||
        zmq_setsockopt(b->back, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout) != 0)
        return rn_fail("backend socket: %s", zmq_strerror(errno));
    if (zmq_bind(b->back, b->back_ep) != 0) return rn_fail("cannot bind the backend %s: %s", b->back_ep, zmq_strerror(errno));
    return 0;
}

/* Sends [wid][edge][bytes] to worker w without blocking; false when it could not take it. */
static bool to_worker(Broker *b, Worker *w, const char *edge, const void *buf, size_t n) {
    if (zmq_send(b->back, w->id, strlen(w->id), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return false;
    /* the first frame went: ZeroMQ takes the rest of a multipart message whole */
    zmq_send(b->back, edge, strlen(edge), ZMQ_SNDMORE);
    zmq_send(b->back, buf, n, 0);
    return true;
}

static void stop_frame(Broker *b, Worker *w) {
    if (zmq_send(b->back, w->id, strlen(w->id), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) zmq_send(b->back, BROKER_STOP, strlen(BROKER_STOP), 0);
}

/* A worker that said READY on an explicit --backend without being started here ("wK", K not in use):
 * it takes slot K. NULL (logged) otherwise: on the private ipc backend only our own workers speak. */
static Worker *worker_join(Broker *b, zmq_msg_t *id) {
    char name[WID_SIZE] = "";
    size_t n = zmq_msg_size(id);
    if (n < sizeof name) memcpy(name, zmq_msg_data(id), n);
    int k = -1, used = 0;
    bool ok = b->o->backend && *b->o->backend && sscanf(name, "w%d%n", &k, &used) == 1 && used == (int)n && k >= 0 &&
              k < BROKER_WORKERS_MAX;
    /* a free slot, or one whose remote worker was dropped and comes back */
    ok = ok && ((!b->w[k].ready && !b->w[k].pid) || (b->w[k].remote && b->w[k].dead));
    if (!ok) {
        b->back_bad++;
        ratelog(&b->log_back, stderr, b->co->quiet, "serve-cloud: READY from \"%s\" on the backend: not a free worker slot, ignored",
                wire_id_valid(name) ? name : "(not a worker id)");
        return NULL;
    }
    Worker *w = &b->w[k];
    *w = (Worker){.remote = true};
    snprintf(w->id, sizeof w->id, "w%d", k);
    if (k >= b->nw) b->nw = k + 1;
    if (!b->co->quiet) logline(stderr, "serve-cloud: worker %d joined on %s (started elsewhere)\n", k, b->back_ep);
    return w;
}

/* One message off the backend: READY, or a reply [edge][bytes] for the front. 1 handled, 0 nothing. */
static int from_backend(Broker *b) {
    zmq_msg_t part[3];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, b->back, n ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < 3) part[n++] = m;
        else zmq_msg_close(&m);
    }
    if (n == 0) return 0;
    Worker *w = worker_by_id(b, zmq_msg_data(&part[0]), zmq_msg_size(&part[0]));
    bool ready = n == 2 && zmq_msg_size(&part[1]) == strlen(BROKER_READY) &&
                 !memcmp(zmq_msg_data(&part[1]), BROKER_READY, strlen(BROKER_READY));
    if (ready && (!w || (w->remote && w->dead))) w = worker_join(b, &part[0]);
    if (w && ready)
        w->ready = true;
    else if (w && n == 3 && b->front && zmq_msg_size(&part[1]) <= WIRE_ID_MAX) {
        char edge[WIRE_ID_MAX + 1];
        snprintf(edge, sizeof edge, "%.*s", (int)zmq_msg_size(&part[1]), (const char *)zmq_msg_data(&part[1]));
        w->from_msgs++;
        transport_send_raw(b->front, edge, zmq_msg_data(&part[2]), zmq_msg_size(&part[2]));
    } else if (!ready) { /* ignored READYs were counted by worker_join */
        b->back_bad++;
        ratelog(&b->log_back, stderr, b->co->quiet, "serve-cloud: an unexpected %d-part message on the backend (%s), dropped", n,
                w ? w->id : "unknown sender");
    }
    for (int i = 0; i < n; i++) zmq_msg_close(&part[i]);
    return 1;
}

/* Waits until every worker said READY; -1 when one died first or BROKER_START_WAIT_S passed. */
static int wait_ready(Broker *b) {
    double t0 = now_seconds();
    while (!g_stop && live_workers(b) < b->o->workers) {
        reap_workers(b);
        for (int k = 0; k < b->o->workers; k++)
            if (b->w[k].dead) return rn_fail("worker %d did not start (its log lines above say why)", k);
        if (now_seconds() - t0 > BROKER_START_WAIT_S) return rn_fail("the workers did not say READY within %d s", BROKER_START_WAIT_S);
        zmq_pollitem_t it = {b->back, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, POLL_MS);
        while (from_backend(b)) {
        }
    }
    return g_stop ? rn_fail("stopped before the workers were ready") : 0;
}

/* ---------------- routing ---------------- */

static Route *route_find(Broker *b, const char *id) {
    for (int i = 0; i < b->nroutes; i++)
        if (b->routes[i].used && !strcmp(b->routes[i].id, id)) return &b->routes[i];
    return NULL;
}

/* A free route, or the longest-silent one (a flood of new ids must not grow the table; the evicted
 * edge, if it comes back, is assigned anew). */
static Route *route_slot(Broker *b) {
    Route *old = NULL;
    for (int i = 0; i < b->nroutes; i++) {
        if (!b->routes[i].used) return &b->routes[i];
        if (!old || b->routes[i].last_t < old->last_t) old = &b->routes[i];
    }
    b->evicted++;
    b->w[old->w].edges--;
    return old;
}

/* The live worker with the fewest edges (the lowest index on ties); NULL when none is live. */
static Route *route_new(Broker *b, const char *id, double now) {
    int best = -1;
    for (int k = 0; k < b->nw; k++)
        if (b->w[k].ready && !b->w[k].dead && (best < 0 || b->w[k].edges < b->w[best].edges)) best = k;
    if (best < 0) return NULL;
    Route *r = route_slot(b);
    *r = (Route){.used = true, .w = best, .last_t = now};
    snprintf(r->id, sizeof r->id, "%s", id);
    b->w[best].edges++;
    b->w[best].assigned++;
    ratelog(&b->log_route, stderr, b->co->quiet, "serve-cloud: edge %s -> worker %d", id, best);
    return r;
}

static void route_free(Broker *b, Route *r) {
    b->w[r->w].edges--;
    r->used = false;
}

/* One edge message: to its worker (assigned on first sight), raw bytes as they came. */
static void from_front(Broker *b, const TransportRecv *r) {
    double now = now_seconds();
    Route *rt = route_find(b, r->peer);
    if (!rt && r->msg.type == WIRE_BYE) { /* nothing of it anywhere: no worker to tell, no BYE to count */
        ratelog(&b->log_lost, stderr, b->co->quiet, "serve-cloud: BYE from %s, never served: not counted", r->peer);
        return;
    }
    if (!rt && !(rt = route_new(b, r->peer, now))) {
        b->unrouted++;
        ratelog(&b->log_lost, stderr, b->co->quiet, "serve-cloud: no live worker for edge %s: message dropped", r->peer);
        return;
    }
    rt->last_t = now;
    Worker *w = &b->w[rt->w];
    size_t n;
    const void *raw = transport_last_raw(b->front, &n);
    if (!to_worker(b, w, r->peer, raw, n)) {
        if (errno == EHOSTUNREACH && w->remote) worker_lost(b, rt->w, "is no longer connected"); /* ours are reaped */
        w->lost++;
        b->lost++;
        ratelog(&b->log_lost, stderr, b->co->quiet, "serve-cloud: worker %d cannot take edge %s's message (%s): dropped", rt->w,
                r->peer, errno == EAGAIN ? "its queue is full" : "gone");
    } else {
        w->to_msgs++;
        w->to_frames += r->msg.type == WIRE_FRAME;
    }
    if (r->msg.type == WIRE_BYE) {
        b->byes++;
        route_free(b, rt);
    }
}

/* Edges silent for --edge-timeout lose their worker (the worker frees their state on the same clock). */
static void expire_routes(Broker *b) {
    double now = now_seconds();
    for (int i = 0; i < b->nroutes; i++)
        if (b->routes[i].used && now - b->routes[i].last_t > b->co->edge_timeout) route_free(b, &b->routes[i]);
}

/* ---------------- stop and summary ---------------- */

/* BROKER_STOP to each worker, replies still forwarded while they finish; then SIGTERM, SIGKILL. */
static void stop_workers(Broker *b) {
    for (int k = 0; k < b->nw; k++)
        if (!b->w[k].dead && (b->w[k].pid > 0 || b->w[k].remote)) stop_frame(b, &b->w[k]);
    const int sigs[] = {0, SIGTERM, SIGKILL};
    const double waits[] = {BROKER_STOP_WAIT_S, 5, 5};
    for (int s = 0; s < 3; s++) {
        double t0 = now_seconds();
        for (int k = 0; k < b->nw; k++)
            if (sigs[s] && !b->w[k].dead && b->w[k].pid > 0) kill(b->w[k].pid, sigs[s]);
        while (now_seconds() - t0 < waits[s]) {
            int left = 0;
            for (int k = 0; k < b->nw; k++) {
                Worker *w = &b->w[k];
                if (w->dead || w->pid <= 0) continue; /* a remote worker is not ours to wait for */
                if (waitpid(w->pid, &w->status, WNOHANG) == w->pid) w->dead = true;
                else left++;
            }
            if (!left) return;
            zmq_pollitem_t it = {b->back, 0, ZMQ_POLLIN, 0};
            zmq_poll(&it, 1, POLL_MS);
            while (from_backend(b)) {
            }
        }
    }
}

static void broker_summary(const Broker *b, FILE *f) {
    fprintf(f, "\n## serve-cloud broker summary\n\n%d workers (backend %s); per-worker CSV and summary: the paths with .wK\n\n"
               "| worker | pid | edges assigned | messages to it | frames to it | replies | dropped (queue full / gone) | exit |\n"
               "|---|---|---|---|---|---|---|---|\n",
            b->nw, b->back_ep);
    long long as = 0, to = 0, fr = 0, re = 0, lo = 0;
    for (int k = 0; k < b->nw; k++) {
        const Worker *w = &b->w[k];
        char ex[32];
        if (!w->ready && !w->pid) continue; /* a slot no worker ever took */
        if (w->remote) snprintf(ex, sizeof ex, "%s", w->dead ? "gone" : "remote");
        else if (WIFSIGNALED(w->status)) snprintf(ex, sizeof ex, "signal %d", WTERMSIG(w->status));
        else snprintf(ex, sizeof ex, "%d", WEXITSTATUS(w->status));
        fprintf(f, "| %d | %d | %lld | %lld | %lld | %lld | %lld | %s |\n", k, (int)w->pid, w->assigned, w->to_msgs, w->to_frames,
                w->from_msgs, w->lost, ex);
        as += w->assigned;
        to += w->to_msgs;
        fr += w->to_frames;
        re += w->from_msgs;
        lo += w->lost;
    }
    const TransportStats *s = transport_stats(b->front);
    fprintf(f, "| total | | %lld | %lld | %lld | %lld | %lld | |\n\nbyes %lld; workers that died while serving %lld; "
               "messages with no live worker %lld; routes evicted (table full) %lld; backend messages refused %lld; messages received %lld, refused %lld "
               "(failed handshakes %lld, CURVE refusals %lld)\n",
            as, to, fr, re, lo, b->byes, b->worker_deaths, b->unrouted, b->evicted, b->back_bad, s->recv, s->bad_total, s->auth_failed, s->refused);
}

static void broker_free(Broker *b) {
    if (b->front) transport_close(b->front);
    if (b->back) zmq_close(b->back);
    if (b->ctx) zmq_ctx_term(b->ctx);
    if (b->tmpdir[0]) {
        char sock[ENDPOINT_SIZE + 16];
        snprintf(sock, sizeof sock, "%s/backend", b->tmpdir);
        unlink(sock);
        rmdir(b->tmpdir);
    }
    free(b->routes);
}

/* ---------------- the loop ---------------- */

static bool should_stop(const Broker *b, double t0, double last_msg, bool any) {
    const CloudOpts *o = b->co;
    double now = now_seconds();
    if (g_stop) return true;
    if (o->duration > 0 && now - t0 >= o->duration) return true;
    if (o->edges > 0 && b->byes >= o->edges) return true;
    return o->idle_exit > 0 && any && now - last_msg >= o->idle_exit;
}

static int broker_loop(Broker *b) {
    double t0 = now_seconds(), last_msg = t0;
    bool any = false;
    while (!should_stop(b, t0, last_msg, any)) {
        reap_workers(b);
        if (live_workers(b) == 0) return rn_fail("every worker died");
        zmq_pollitem_t it[2] = {{transport_zsocket(b->front), 0, ZMQ_POLLIN, 0}, {b->back, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(it, 2, POLL_MS) < 0 && errno != EINTR) return rn_fail("zmq_poll: %s", zmq_strerror(errno));
        TransportRecv r;
        int got;
        while ((got = transport_recv(b->front, 0, &r)) == 1) {
            any = true;
            last_msg = now_seconds();
            from_front(b, &r);
        }
        if (got < 0) return -1;
        while (from_backend(b)) {
        }
        expire_routes(b);
    }
    return 0;
}

int broker_run(const BrokerOpts *o) {
    if (o->workers < 2 || o->workers > BROKER_WORKERS_MAX) return rn_fail("--workers %d: 1..%d", o->workers, BROKER_WORKERS_MAX);
    Broker b = {.o = o, .co = o->cloud, .nw = o->workers, .log_route.interval = 0.1};
    /* each worker has 2 x --max-edges state slots (cloud.c); the broker's table covers them all */
    bool joinable = o->backend && *o->backend; /* more workers may join there */
    b.nroutes = 2 * (b.co->max_edges > 0 ? b.co->max_edges : 16) * (joinable ? BROKER_WORKERS_MAX : o->workers);
    b.routes = xcalloc((size_t)b.nroutes, sizeof *b.routes);
    g_stop = 0;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = open_backend(&b);
    if (rc == 0) rc = start_workers(&b);
    if (rc == 0) rc = wait_ready(&b);
    TransportOpts to = {.endpoint = b.co->listen, .curve_dir = b.co->curve_dir, .quiet = b.co->quiet};
    if (rc == 0 && !(b.front = transport_cloud_open(&to))) rc = -1;
    if (rc == 0 && !b.co->quiet)
        logline(stderr, "serve-cloud: broker listening on %s, %d workers on %s\n", b.co->listen, o->workers, b.back_ep);
    if (rc == 0) rc = broker_loop(&b);
    char err[ERR_SIZE];
    snprintf(err, sizeof err, "%s", rc < 0 ? rn_errmsg() : "");
    stop_workers(&b);
    ratelog_flush(&b.log_lost, stderr, b.co->quiet, "serve-cloud: messages dropped");
    ratelog_flush(&b.log_route, stderr, b.co->quiet, "serve-cloud: edges routed");
    ratelog_flush(&b.log_back, stderr, b.co->quiet, "serve-cloud: backend messages refused");
    if (b.front) {
        broker_summary(&b, stdout);
        FILE *f = b.co->summary && *b.co->summary ? fopen(b.co->summary, "w") : NULL;
        if (f) {
            broker_summary(&b, f);
            fclose(f);
        }
    }
    broker_free(&b);
    if (rc < 0) rn_fail("%s", err);
    return rc;
}
