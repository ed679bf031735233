/* edge.c: the edge loop — capture clock, degrade, shaper, send at departure, feedback, reconnect, per-frame CSV. */
#include "serve/edge.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/dataset.h"
#include "data/degrade.h"
#include "data/video_source.h"
#include "profile/profile_json.h"
#include "serve/confirm.h"
#include "serve/endpoint.h"
#include "serve/shaper.h"
#include "serve/stepdown.h"
#include "serve/transport.h"
#include "util/err.h"
#include "util/logline.h"
#include "util/progress.h"

const char *const EDGE_CSV_HEADER =
    "edge,frame_id,src_index,frame,kind,status,reason,scale,quality,skip,tail,probe,bytes,capture_us,ready_us,"
    "start_us,send_us,encode_ms,queue_ms,transmit_ms,link_mbps,fb_frame_id,fb_reason,fb_bw_kbps,stepdown";

#define PENDING_CAP 4096
#define NETNS_RETRY_S 0.002 /* --netns: how soon a frame ZeroMQ did not take is offered again */

void edge_opts_default(EdgeOpts *o) {
    memset(o, 0, sizeof *o);
    o->id = "edge0";
    o->kind = "frames";
    o->split = "";
    o->seq = "";
    o->fps = 30;
    o->start = (WireConfig){.scale = 4, .quality = 70, .skip = 0, .flags = 0};
    o->bw_scale = 1;
    o->deadline_ms = 500;
    o->wait_cloud = 10;
    o->linger = 1;
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

/* A message accepted by the shaper, waiting for its departure time. */
typedef struct Pending {
    WireMsg msg;            /* payload points into d.bytes */
    Degraded d;
    double capture, ready, start, finish; /* seconds since t0 */
    int src_index;
    int steps;              /* own step-downs in effect when it was captured (CSV stepdown) */
    bool probe;
} Pending;

typedef struct Edge {
    const EdgeOpts *o;
    Transport *tr;
    Shaper sh;
    VideoSource *src;       /* the frames (a dataset's samples in play order, or a video) */
    long nframes;           /* frames in one pass (-1: unknown, a camera) */
    int hr_w, hr_h;         /* the size frames are sent at (HELLO) */
    double fps;             /* the source's frame rate (HELLO; a folder's is --fps) */
    bool live;              /* a camera or a live URL: it paces itself */
    char src_err[512];      /* why the source broke off midway ("" = it did not) */
    FILE *csv;
    double t0_mono;
    int64_t t0_us;
    WireConfig cfg;         /* current configuration */
    WireConfig probe_cfg;
    int probes_left;
    int skip_left;
    WireFeedback last_fb;   /* the feedback behind cfg */
    bool have_fb;
    char refused_note[WIRE_NOTE_MAX + 1]; /* why the cloud refused this edge (s.refused > 0) */
    long long gen_seen;
    Pending *pend;          /* ring */
    int phead, pcount;
    EdgeSummary s;
    double sum_encode, sum_queue, sum_transmit;
    long long n_encoded;
    StepDown sd;
    uint64_t step_fid;      /* the first frame captured after the first own step since the cloud last ruled */
    int row_steps;          /* csv_row's stepdown column when >= 0 (a queued frame's); -1: the current one */
    Confirm cf;             /* frames sent and not yet confirmed by a FEEDBACK (confirm.h) */
} Edge;

static double rel_now(const Edge *e) { return now_seconds() - e->t0_mono; }
static int64_t rel_us(const Edge *e, double t) { return e->t0_us + (int64_t)llround(t * 1e6); }

static void csv_row(Edge *e, uint64_t fid, int src, bool probe, const char *status, const char *reason,
                    const WireConfig *c, size_t bytes, double capture, double ready, double start, double send,
                    double encode_ms) {
    if (!e->csv) return;
    bool sent = !strcmp(status, "sent");
    char name[256];
    /* frame names are written plain; a comma or quote in one is replaced so the CSV stays parseable */
    name[0] = 0;
    if (src >= 0) video_source_frame_name(e->src, src, name, sizeof name);
    for (char *p = name; *p; p++)
        if (*p == ',' || *p == '"' || *p == '\n') *p = '_';
    fprintf(e->csv, "%s,%llu,%d,%s,%s,%s,%s,%d,%d,%d,%d,%d,%zu,%lld,", e->o->id, (unsigned long long)fid, src, name,
            probe ? "probe" : "frame", status, reason, c->scale, c->quality, c->skip, (c->flags & WIRE_CFG_TAIL) ? 1 : 0,
            (c->flags & WIRE_CFG_PROBE) ? 1 : 0, bytes, (long long)rel_us(e, capture));
    if (ready >= 0) fprintf(e->csv, "%lld,", (long long)rel_us(e, ready));
    else fputs(",", e->csv);
    if (sent) fprintf(e->csv, "%lld,%lld,", (long long)rel_us(e, start), (long long)rel_us(e, send));
    else fputs(",,", e->csv);
    if (encode_ms >= 0) fprintf(e->csv, "%.3f,", encode_ms);
    else fputs(",", e->csv);
    if (sent) fprintf(e->csv, "%.3f,%.3f,", (start - ready) * 1e3, (send - start) * 1e3);
    else fputs(",,", e->csv);
    fprintf(e->csv, "%.4f,", shaper_mbps_at(&e->sh, capture + e->o->bw_start));
    if (e->have_fb)
        fprintf(e->csv, "%llu,%s,%u,", (unsigned long long)e->last_fb.last_frame_id, wire_reason_name(e->last_fb.reason),
                e->last_fb.bw_kbps);
    else fputs(",,,", e->csv);
    fprintf(e->csv, "%d\n", e->row_steps >= 0 ? e->row_steps : e->sd.steps);
}

/* ---- what may be lost in flight (confirm.h) ---- */

static void unconfirmed_row(Edge *e, const ConfirmEntry *c, const char *why) {
    e->s.unconfirmed++;
    e->row_steps = c->steps;
    csv_row(e, c->fid, c->src_index, c->probe, "unconfirmed", why, &c->cfg, c->bytes, c->capture, -1, -1, -1, -1);
    e->row_steps = -1;
}

/* Frames handed over on a generation before gen are given up: the link they crossed went away. */
static void give_up_before(Edge *e, long long gen, const char *why) {
    ConfirmEntry c;
    while (confirm_take_before(&e->cf, gen, &c)) unconfirmed_row(e, &c, why);
}

/* At the end: nothing more will answer what is left. */
static void give_up_all(Edge *e) {
    give_up_before(e, transport_generation(e->tr), "link_lost");
    give_up_before(e, CONFIRM_ALL_GENS, transport_connected(e->tr) ? "no_answer" : "link_lost");
}

/* A frame ZeroMQ took on generation gen: kept until a FEEDBACK confirms it. */
static void note_sent(Edge *e, const Pending *p, long long gen) {
    const WireFrame *f = &p->msg.u.frame;
    ConfirmEntry c = {.fid = f->frame_id, .probe = p->probe, .gen = gen, .src_index = p->src_index, .steps = p->steps,
                      .cfg = f->cfg, .bytes = wire_size(&p->msg), .capture = p->capture};
    ConfirmEntry old;
    if (confirm_sent(&e->cf, &c, &old)) unconfirmed_row(e, &old, "no_answer");
}

/* A FEEDBACK answered frame fid: what crossed an older link is given up first (the answer came over
 * the new one, and frames arrive in order only on one connection), then fid and what left before it. */
static void on_answer(Edge *e, uint64_t fid) {
    give_up_before(e, transport_generation(e->tr), "link_lost");
    confirm_ack(&e->cf, fid);
}

static void send_hello(Edge *e) {
    WireMsg m = {.type = WIRE_HELLO};
    snprintf(m.edge_id, sizeof m.edge_id, "%s", e->o->id);
    m.u.hello = (WireHello){.hr_w = e->hr_w, .hr_h = e->hr_h, .fps = e->fps, .cfg = e->cfg,
                            .frames = (uint32_t)(e->nframes > 0 ? e->nframes : 0), .edge_us = wire_now_us()};
    m.u.hello.cfg.flags &= ~(unsigned)WIRE_CFG_PROBE;
    if (transport_send(e->tr, NULL, &m) < 0 && !e->o->quiet) logline(stderr, "edge: HELLO: %s\n", rn_errmsg());
}

/* The reasons that carry a configuration; a reason added later (a notice) is not one. */
static bool fb_is_config(const WireFeedback *fb) { return fb->reason >= WIRE_REASON_NONE && fb->reason <= WIRE_REASON_CONGESTION; }

/* After an own step, feedback about frames sent before it is stale: the cloud has not yet seen a
 * stepped-down frame, and taking its configuration back would undo the step the link needed. Feedback
 * about any stepped-down frame rules (the cloud measured the link they crossed). */
static bool fb_stale(const Edge *e, const WireFeedback *fb) {
    return e->sd.steps > 0 && fb->reason != WIRE_REASON_START && fb->last_frame_id < e->step_fid;
}

/* The cloud will not serve this edge (--max-edges reached, or its key is another edge's): it stops as
 * if signalled (nothing more is captured, what is queued is dropped as stopped, no BYE) and fails. */
static void refused(Edge *e, const WireFeedback *fb) {
    e->s.refused++;
    snprintf(e->refused_note, sizeof e->refused_note, "%s", fb->note[0] ? fb->note : "no reason given");
    g_stop = 1;
}

static void apply_feedback(Edge *e, const WireFeedback *fb) {
    if (fb->reason == WIRE_REASON_REFUSED) {
        refused(e, fb);
        return;
    }
    e->s.feedback++;
    if (!fb_is_config(fb)) {
        if (e->s.notices++ == 0 && !e->o->quiet)
            logline(stderr, "edge %s: feedback with reason %d (%s%s%s) is not a configuration: ignored\n", e->o->id, fb->reason,
                    wire_reason_name(fb->reason), fb->note[0] ? ": " : "", fb->note);
        return;
    }
    if (fb->reason != WIRE_REASON_START) {
        e->s.acked++;
        on_answer(e, fb->last_frame_id);
    }
    if (fb_stale(e, fb)) return;
    if (e->sd.steps > 0) {
        if (!e->o->quiet) logline(stderr, "edge %s: feedback again: the cloud's configuration rules again\n", e->o->id);
        stepdown_on_cloud(&e->sd);
    }
    if (wire_config_check(&fb->next) == WIRE_OK) {
        WireConfig n = fb->next;
        n.flags &= ~(unsigned)WIRE_CFG_PROBE;
        if (n.scale != e->cfg.scale || n.quality != e->cfg.quality || n.skip != e->cfg.skip || n.flags != e->cfg.flags) {
            e->s.config_changes++;
            if (!e->o->quiet) {
                char a[32], b[32];
                logline(stderr, "edge %s: %s -> %s (%s%s%s)\n", e->o->id, wire_config_str(&e->cfg, a, sizeof a),
                        wire_config_str(&n, b, sizeof b), wire_reason_name(fb->reason), fb->note[0] ? ": " : "", fb->note);
            }
            if (n.skip < e->skip_left) e->skip_left = n.skip;
        }
        e->cfg = n;
    }
    if (fb->probe_count > 0) {
        e->probe_cfg = fb->probe;
        e->probe_cfg.flags |= WIRE_CFG_PROBE;
        e->probes_left = fb->probe_count;
    }
    e->last_fb = *fb;
    e->have_fb = true;
}

/* Takes every message waiting (feedback), waiting at most `wait` seconds for the first. */
static void pump(Edge *e, double wait) {
    TransportRecv r;
    int ms = wait <= 0 ? 0 : (int)ceil(wait * 1000);
    while (transport_recv(e->tr, ms, &r) == 1) {
        if (r.msg.type == WIRE_FEEDBACK && !strcmp(r.msg.edge_id, e->o->id)) apply_feedback(e, &r.msg.u.feedback);
        ms = 0;
    }
}

static void pend_pop(Edge *e) {
    degraded_free(&e->pend[e->phead].d);
    e->phead = (e->phead + 1) % PENDING_CAP;
    e->pcount--;
}

/* A regular frame made with c missed its deadline: the K-th in a row steps the configuration down
 * (stepdown.h). Only misses at the configuration in use count: frames made before a step (still queued
 * under --netns) say nothing about the step, and counting them would step again before it could help. */
static void missed_deadline(Edge *e, bool probe, const WireConfig *c) {
    if (probe || c->scale != e->cfg.scale || c->quality != e->cfg.quality) return;
    WireConfig next;
    if (!stepdown_on_deadline(&e->sd, &e->cfg, &next)) return;
    e->s.self_stepdowns++;
    if (!e->o->quiet) {
        char a[32], b[32];
        logline(stderr, "edge %s: %d frames in a row missed the deadline at %s: stepping down to %s on its own (step %d)\n",
                e->o->id, STEPDOWN_K, wire_config_str(&e->cfg, a, sizeof a), wire_config_str(&next, b, sizeof b), e->sd.steps);
    }
    if (next.skip < e->skip_left) e->skip_left = next.skip;
    e->cfg = next;
    if (e->sd.steps == 1) /* frame ids count captures: the next one is the first below the cloud's configuration */
        e->step_fid = (uint64_t)e->s.captured;
}

static void frame_through(Edge *e, bool probe) {
    if (!probe) stepdown_on_through(&e->sd);
}

/* --netns: true when p, still unsent at time t, can no longer be handed over within its deadline. */
static bool netns_late(const Edge *e, const Pending *p, double t) {
    return e->o->netns && e->sh.deadline > 0 && t > p->capture + e->sh.deadline;
}

/* --netns: ZeroMQ did not take the head frame (its queue is full: the link is busy). true: keep it
 * and offer it again shortly; false: its deadline comes first, or the link is down (dropped). */
static bool netns_retry(Edge *e, Pending *p, int rc, double now) {
    if (!e->o->netns || rc != 1 || !transport_connected(e->tr) || netns_late(e, p, now + NETNS_RETRY_S)) return false;
    p->start = p->finish = now + NETNS_RETRY_S; /* waiting for the socket is its queueing */
    return true;
}

static void drop_pending(Edge *e, Pending *p, const char *reason) {
    WireFrame *f = &p->msg.u.frame;
    e->row_steps = p->steps;
    csv_row(e, f->frame_id, p->src_index, p->probe, "dropped", reason, &f->cfg, wire_size(&p->msg), p->capture, p->ready, -1, -1,
            f->encode_us / 1e3);
    e->row_steps = -1;
}

/* Why transport_send did not send: counted, and the CSV's reason. */
static const char *count_unsent(Edge *e, int rc, bool late) {
    if (late) {
        e->s.dropped_deadline++;
        return "deadline";
    }
    if (rc < 0) {
        e->s.dropped_send_error++;
        if (!e->o->quiet) logline(stderr, "edge %s: %s\n", e->o->id, rn_errmsg());
        return "send_error";
    }
    if (transport_connected(e->tr)) {
        e->s.dropped_zmq_full++;
        return "zmq_full";
    }
    e->s.dropped_no_link++;
    return "no_link";
}

/* Sends every pending message whose departure time has come. */
static void depart(Edge *e, bool all) {
    while (e->pcount) {
        Pending *p = &e->pend[e->phead];
        double now = rel_now(e);
        if (!all && p->finish > now) return;
        WireFrame *f = &p->msg.u.frame;
        /* --netns: a frame still unsent at its deadline is not handed over late */
        bool late = netns_late(e, p, now);
        int rc = 1;
        long long gen = 0;
        if (!late) {
            gen = transport_generation(e->tr); /* before the send: a link that comes up meanwhile is given up early, never trusted */
            f->send_us = wire_now_us();
            f->queue_us = (uint32_t)llround(fmax(0, fmax(p->start, now) - p->ready) * 1e6);
            rc = transport_send(e->tr, NULL, &p->msg);
            if (netns_retry(e, p, rc, now)) return;
            late = rc == 1 && transport_connected(e->tr) && netns_late(e, p, now + NETNS_RETRY_S);
        }
        double send = fmax(now, p->finish);
        if (rc == 0) {
            note_sent(e, p, gen);
            if (e->o->netns) frame_through(e, p->probe);
            if (p->probe) e->s.probes_sent++;
            else e->s.sent++;
            e->s.bytes_sent += (double)wire_size(&p->msg);
            e->sum_queue += (p->start - p->ready) * 1e3;
            e->sum_transmit += (send - p->start) * 1e3;
            e->row_steps = p->steps;
            csv_row(e, f->frame_id, p->src_index, p->probe, "sent", "", &f->cfg, wire_size(&p->msg), p->capture, p->ready,
                    p->start, send, f->encode_us / 1e3);
            e->row_steps = -1;
        } else {
            drop_pending(e, p, count_unsent(e, rc, late));
            if (late) missed_deadline(e, p->probe, &f->cfg);
        }
        pend_pop(e);
    }
}

/* Degrades frame `src` with c and offers it to the shaper; queues it or records the drop. */
static void capture_one(Edge *e, uint64_t fid, int src, const Image *hr, const WireConfig *c, bool probe, double capture) {
    double t_enc = now_seconds();
    Degraded d = {0};
    if (degrade(hr, c->scale, c->quality, &d) < 0) {
        e->s.dropped_error++;
        if (!e->o->quiet) logline(stderr, "edge: frame %llu: %s\n", (unsigned long long)fid, rn_errmsg());
        csv_row(e, fid, src, probe, "dropped", "encode_error", c, 0, capture, -1, -1, -1, -1);
        return;
    }
    image_free(&d.lr);
    double encode_ms = (now_seconds() - t_enc) * 1e3;
    double ready = rel_now(e);
    e->sum_encode += encode_ms;
    e->n_encoded++;
    WireMsg m = {.type = WIRE_FRAME};
    snprintf(m.edge_id, sizeof m.edge_id, "%s", e->o->id);
    m.u.frame = (WireFrame){.frame_id = fid, .capture_us = rel_us(e, capture), .src_index = (uint32_t)src, .hr_w = hr->w,
                            .hr_h = hr->h, .cfg = *c, .encode_us = (uint32_t)llround(encode_ms * 1e3),
                            .payload_len = (uint32_t)d.nbytes, .payload = d.bytes};
    size_t bytes = wire_size(&m);
    if (!transport_connected(e->tr)) {
        e->s.dropped_no_link++;
        csv_row(e, fid, src, probe, "dropped", "no_link", c, bytes, capture, ready, -1, -1, encode_ms);
        degraded_free(&d);
        return;
    }
    if (e->pcount == PENDING_CAP) {
        e->s.dropped_busy++;
        csv_row(e, fid, src, probe, "dropped", "queue_full", c, bytes, capture, ready, -1, -1, encode_ms);
        degraded_free(&d);
        return;
    }
    ShaperSlot slot = {ready, ready};
    const double off = e->o->bw_start; /* the shaper's clock runs from the schedule's / trace's second bw_start */
    if (!e->o->netns && !shaper_offer(&e->sh, ready + off, capture + off, bytes, &slot)) {
        e->s.dropped_deadline++;
        csv_row(e, fid, src, probe, "dropped", "deadline", c, bytes, capture, ready, -1, -1, encode_ms);
        degraded_free(&d);
        missed_deadline(e, probe, c);
        return;
    }
    if (!e->o->netns) frame_through(e, probe); /* the shaper guarantees it leaves before its deadline */
    if (!e->o->netns) {
        slot.start -= off;
        slot.finish -= off;
    }
    Pending *p = &e->pend[(e->phead + e->pcount) % PENDING_CAP];
    e->pcount++;
    p->msg = m;
    p->d = d;
    p->msg.u.frame.payload = p->d.bytes;
    p->capture = capture;
    p->ready = ready;
    p->start = slot.start;
    p->finish = slot.finish;
    p->src_index = src;
    p->steps = e->sd.steps;
    p->probe = probe;
}

static VideoSourceOpts source_opts(const EdgeOpts *o) {
    return (VideoSourceOpts){.w = o->width, .h = o->height, .fps = o->fps, .stop = &g_stop};
}

/* --frames: the dataset's samples (of --seq only, when given) in its order, frame k at k / fps. */
static int open_frames(Edge *e) {
    const EdgeOpts *o = e->o;
    Dataset ds;
    TRY(dataset_open(o->kind && *o->kind ? o->kind : "frames", o->frames, o->split && *o->split ? o->split : NULL, &ds));
    int *order = xmalloc((size_t)(ds.n ? ds.n : 1) * sizeof *order), n = 0;
    for (int i = 0; i < ds.n; i++) {
        const Sample *s = &ds.samples[i];
        if (o->seq && *o->seq) {
            const char *name = strrchr(s->frame, '/');
            name = name ? name + 1 : s->frame;
            bool match = (s->seq && !strcmp(s->seq, o->seq)) || !strncmp(name, o->seq, strlen(o->seq));
            if (!match) continue;
        }
        order[n++] = i;
    }
    if (n == 0) {
        dataset_free(&ds);
        free(order);
        return rn_fail("%s: no frames%s%s", o->frames, o->seq && *o->seq ? " of sequence " : "", o->seq ? o->seq : "");
    }
    VideoSourceOpts vo = source_opts(o);
    e->src = video_source_from_dataset(&ds, order, n, &vo);
    return e->src ? 0 : -1;
}

/* The frames: --source (a video, a camera, a URL or a folder) or --frames (a dataset). */
static int open_source(Edge *e) {
    const EdgeOpts *o = e->o;
    if (o->source && *o->source) {
        VideoSourceOpts vo = source_opts(o);
        e->src = video_source_open(o->source, &vo);
        if (!e->src) return -1;
    } else TRY(open_frames(e));
    bool exact;
    e->nframes = video_source_frames(e->src, &exact);
    video_source_size(e->src, &e->hr_w, &e->hr_h);
    e->fps = video_source_fps(e->src);
    e->live = video_source_live(e->src);
    return 0;
}

/* What is played, for the first log line: "4 frames at 30 fps" or "clip.mkv 480x360, ~8 frames at 10 fps, ...". */
static void describe_source(const Edge *e, char *buf, size_t cap) {
    const EdgeOpts *o = e->o;
    const char *pace = o->pace == EDGE_PACE_FAST ? "as fast as the uplink takes them"
                       : e->live                 ? "as it delivers them"
                                                 : "paced by its timestamps";
    bool exact;
    video_source_frames(e->src, &exact);
    if (video_source_is_dataset(e->src) && o->pace == EDGE_PACE_STREAM)
        snprintf(buf, cap, "%ld frames at %g fps", e->nframes, e->fps);
    else if (e->nframes >= 0)
        snprintf(buf, cap, "%s %dx%d, %s%ld frames at %g fps, %s", o->source && *o->source ? o->source : o->frames, e->hr_w,
                 e->hr_h, exact ? "" : "~", e->nframes, e->fps, pace);
    else
        snprintf(buf, cap, "%s %dx%d at %g fps, %s", o->source, e->hr_w, e->hr_h, e->fps, pace);
}

/* The standard configuration of the profile's largest target that the link at t = 0 carries. */
static int start_from_profile(Edge *e) {
    ProfileDoc *d = xcalloc(1, sizeof *d);
    if (profile_json_read(e->o->profile, d) < 0) {
        free(d);
        return -1;
    }
    stepdown_init(&e->sd, d);
    double rate = shaper_mbps_at(&e->sh, e->o->bw_start);
    int best = -1;
    for (int i = 0; i < d->ntargets; i++) {
        if (d->target[i].standard.scale <= 0) continue;
        if (d->target[i].mbps <= rate && (best < 0 || d->target[i].mbps > d->target[best].mbps)) best = i;
    }
    if (best < 0) /* nothing fits: the smallest target that has a configuration */
        for (int i = 0; i < d->ntargets; i++)
            if (d->target[i].standard.scale > 0 && (best < 0 || d->target[i].mbps < d->target[best].mbps)) best = i;
    if (best >= 0) {
        e->cfg.scale = d->target[best].standard.scale;
        e->cfg.quality = d->target[best].standard.quality;
        e->cfg.flags = 0;
    }
    profile_doc_free(d);
    free(d);
    return 0;
}

static void print_summary(const Edge *e) {
    const EdgeSummary *s = &e->s;
    logline(stderr,
            "edge %s: %lld captured, %lld sent (+%lld probes, %.2f MB), %lld skipped, dropped: %lld deadline, %lld no link, "
            "%lld zmq full, %lld send errors, %lld edge busy/queue full, %lld encode errors, %lld stopped; %lld feedback "
            "(%lld answering frames, %lld notices), %lld configuration changes, %lld self step-downs, %lld reconnects; "
            "mean encode %.1f ms, queue %.1f ms, transmit %.1f ms; %lld undecodable video packets skipped; %.1f s\n",
            e->o->id, s->captured, s->sent, s->probes_sent, s->bytes_sent / 1e6, s->skipped, s->dropped_deadline,
            s->dropped_no_link, s->dropped_zmq_full, s->dropped_send_error, s->dropped_busy, s->dropped_error, s->dropped_stopped,
            s->feedback, s->acked, s->notices, s->config_changes, s->self_stepdowns, s->reconnects, s->encode_ms, s->queue_ms,
            s->transmit_ms, s->bad_packets, s->wall_s);
}

int edge_outcome(const EdgeSummary *s, const char **why) {
    if (s->sent + s->probes_sent == 0) {
        *why = "no frame was sent (every one dropped or skipped: see the summary and the CSV's reasons)";
        return EDGE_EXIT_NOTHING_SENT;
    }
    if (s->acked == 0) {
        *why = "frames were sent but the cloud answered none of them (no FEEDBACK for a frame: refused, "
               "overloaded or gone; a longer --linger waits longer for a slow cloud)";
        return EDGE_EXIT_NO_ANSWER;
    }
    return 0;
}

static bool given(const char *s) { return s && *s; }

/* Where frames come from: one of --frames and --source; a dataset's selectors only with --frames. */
static int source_opts_check(const EdgeOpts *o) {
    if (given(o->frames) && given(o->source)) return rn_fail("--frames and --source: give one");
    if (given(o->source) && (given(o->split) || given(o->seq)))
        return rn_fail("--split and --seq pick frames of a dataset (--frames); --source plays all of %s", o->source);
    if (o->pace != EDGE_PACE_STREAM && o->pace != EDGE_PACE_FAST) return rn_fail("--pace: stream or fast");
    if (o->width < 0 || o->height < 0 || (o->width > 0) != (o->height > 0) || (long)o->width * o->height > IMAGE_MAX_PIXELS)
        return rn_fail("--size %dx%d: both sides > 0, at most %ld pixels", o->width, o->height, (long)IMAGE_MAX_PIXELS);
    return 0;
}

/* true when v is a finite number >= 0 */
static bool nonneg(double v) { return v >= 0 && v < 1e300; }

int edge_opts_check(const EdgeOpts *o) {
    if (!(o->fps > 0 && o->fps <= 1000)) return rn_fail("--fps %g: must be in (0, 1000]", o->fps);
    if (o->max_frames < 0) return rn_fail("--max-frames %lld: must be >= 0 (0 = one pass)", o->max_frames);
    if (!nonneg(o->duration)) return rn_fail("--duration %g: must be >= 0 seconds (0 = no limit)", o->duration);
    if (!nonneg(o->deadline_ms)) return rn_fail("--deadline-ms %g: must be >= 0 (0 = no deadline)", o->deadline_ms);
    if (!nonneg(o->linger)) return rn_fail("--linger %g: must be >= 0 seconds", o->linger);
    if (!nonneg(o->wait_cloud)) return rn_fail("--wait-cloud %g: must be >= 0 seconds", o->wait_cloud);
    if (!(o->bw_start >= 0 && o->bw_start < SHAPER_MAX_SECONDS))
        return rn_fail("--bandwidth-start %g: must be in [0, %g) seconds", o->bw_start, SHAPER_MAX_SECONDS);
    if (!(o->bw_scale > 0 && o->bw_scale < SHAPER_MAX_MBPS))
        return rn_fail("--bandwidth-scale %g: must be > 0 (1 = as given)", o->bw_scale);
    const WireConfig *c = &o->start;
    if (c->scale < 1 || c->scale > WIRE_MAX_SCALE) return rn_fail("--scale %d: must be 1..%d", c->scale, WIRE_MAX_SCALE);
    if (c->quality < 0 || c->quality > 100) return rn_fail("--quality %d: must be 0..100 (0 = lossless PNG)", c->quality);
    if (c->skip < 0 || c->skip > 255) return rn_fail("--skip %d: must be 0..255", c->skip);
    if (wire_config_check(c) != WIRE_OK) return rn_fail("start configuration: scale 1..16, quality 0..100, skip 0..255");
    if (o->connect && endpoint_check(o->connect, 0) < 0) return rn_fail("--connect %s", rn_errmsg());
    return source_opts_check(o);
}

/* Waits until capture time t on the edge's clock (t < 0: until nothing is queued, --pace fast), sending
 * departures, taking feedback and greeting a new link meanwhile. Returns the capture time. */
static double wait_capture(Edge *e, double t) {
    for (;;) {
        depart(e, false);
        long long g = transport_generation(e->tr);
        if (g != e->gen_seen) {
            if (e->gen_seen > 0) e->s.reconnects++;
            e->gen_seen = g;
            give_up_before(e, g, "link_lost");
            send_hello(e);
        }
        double now = rel_now(e);
        if ((t >= 0 ? now >= t : e->pcount == 0) || g_stop) return t >= 0 ? t : now;
        double next = t >= 0 ? t : now + 0.05;
        if (e->pcount && e->pend[e->phead].finish < next) next = e->pend[e->phead].finish;
        pump(e, fmin(next - now, 0.05));
    }
}

/* The next frame, starting over at the end with --loop: 1, 0 at the end, -1 when the source broke off
 * (its error is edge_run's result; the frames before it were streamed and are in the summary). */
static int next_frame(Edge *e, VideoFrameInfo *fi) {
    int rc = video_source_next(e->src, fi);
    if (rc == 0 && e->o->loop) rc = video_source_rewind(e->src) < 0 ? -1 : video_source_next(e->src, fi);
    if (rc < 0) {
        snprintf(e->src_err, sizeof e->src_err, "%s", rn_errmsg());
        if (!e->o->quiet) logline(stderr, "edge %s: %s\n", e->o->id, e->src_err);
    }
    return rc;
}

/* When a frame is captured: at its time in the source (--pace stream), on arrival (a live source
 * paces itself: its timestamps may start anywhere and jump), or once the queue is empty (--pace fast). */
static double capture_time(const Edge *e, const VideoFrameInfo *fi) {
    if (e->o->pace == EDGE_PACE_FAST) return -1;
    return e->live ? rel_now(e) : fi->t;
}

/* One captured frame: skipped, or loaded, degraded and offered to the shaper (and a probe with it). */
static void capture_frame(Edge *e, uint64_t fid, int src, double t_cap) {
    WireConfig c = e->cfg;
    if (rel_now(e) - t_cap > fmax(2.0 / e->fps, 0.1)) { /* the edge itself fell behind its clock (CPU starved) */
        e->s.dropped_busy++;
        csv_row(e, fid, src, false, "dropped", "edge_busy", &c, 0, t_cap, -1, -1, -1, -1);
        return;
    }
    bool skip = e->skip_left > 0;
    if (skip) {
        e->skip_left--;
        e->s.skipped++;
        csv_row(e, fid, src, false, "skipped", "skip", &c, 0, t_cap, -1, -1, -1, -1);
        if (e->probes_left <= 0) return;
    }
    Image hr;
    if (video_source_pixels(e->src, &hr) < 0) {
        e->s.dropped_error++;
        if (!e->o->quiet) logline(stderr, "edge: %s\n", rn_errmsg());
        csv_row(e, fid, src, false, "dropped", "load_error", &c, 0, t_cap, -1, -1, -1, -1);
        return;
    }
    if (!skip) {
        capture_one(e, fid, src, &hr, &c, false, t_cap);
        e->skip_left = c.skip;
    }
    if (e->probes_left > 0) {
        e->probes_left--;
        WireConfig pc = e->probe_cfg;
        capture_one(e, fid, src, &hr, &pc, true, t_cap);
    }
    image_free(&hr);
}

/* Captures frames until the source ends, --max-frames or --duration, or a stop. */
static void capture_loop(Edge *e) {
    const EdgeOpts *o = e->o;
    for (long long k = 0; !g_stop && !(o->max_frames > 0 && k >= o->max_frames); k++) {
        VideoFrameInfo fi;
        if (next_frame(e, &fi) <= 0) break;
        double t_cap = capture_time(e, &fi);
        if (o->duration > 0 && t_cap >= o->duration) break;
        t_cap = wait_capture(e, t_cap);
        if (g_stop || (o->duration > 0 && t_cap >= o->duration)) break;
        e->s.captured++;
        capture_frame(e, (uint64_t)k, fi.index, t_cap);
    }
}

int edge_run(const EdgeOpts *o, EdgeSummary *sum) {
    Edge *e = xcalloc(1, sizeof *e);
    e->o = o;
    confirm_init(&e->cf);
    e->cfg = o->start;
    e->row_steps = -1;
    stepdown_init(&e->sd, NULL); /* the fixed ladder; a --profile replaces it below */
    int rc = -1;
    if (edge_opts_check(o) < 0) goto out;
    if (!wire_id_valid(o->id)) {
        rn_fail("--id \"%s\": 1..%d characters of [A-Za-z0-9_.-]", o->id ? o->id : "", WIRE_ID_MAX);
        goto out;
    }
    double bws = o->bw_scale;
    if (o->trace && *o->trace) {
        if (o->bandwidth && *o->bandwidth) {
            rn_fail("--bandwidth and --trace: give one");
            goto out;
        }
        if (shaper_init_trace(&e->sh, o->trace, bws) < 0) goto out;
    } else if (o->bandwidth && *o->bandwidth) {
        if (shaper_init_schedule(&e->sh, o->bandwidth, bws) < 0) goto out;
    } else shaper_init_unlimited(&e->sh);
    e->sh.deadline = o->deadline_ms > 0 ? o->deadline_ms / 1e3 : 0;
    g_stop = 0; /* a camera's or URL's open gives up when it turns 1 (an earlier run's stop must not) */
    if (open_source(e) < 0) goto out;
    if (o->profile && *o->profile && start_from_profile(e) < 0) goto out;
    if (o->csv && *o->csv) {
        e->csv = fopen(o->csv, "w");
        if (!e->csv) {
            rn_fail("%s: %s", o->csv, strerror(errno));
            goto out;
        }
        setvbuf(e->csv, NULL, _IOLBF, 0); /* a killed edge keeps every finished row */
        fprintf(e->csv, "%s\n", EDGE_CSV_HEADER);
    }
    TransportOpts to = {.endpoint = o->connect, .edge_id = o->id, .curve_dir = o->curve_dir, .linger_ms = 500, .quiet = o->quiet};
    if (o->netns) { /* the kernel's queue is the link's: keep ZeroMQ's and TCP's short (edge.h) */
        to.sndhwm = EDGE_NETNS_SNDHWM;
        to.sndbuf = EDGE_NETNS_SNDBUF;
        to.linger_ms = (int)fmax(500, fmin(o->deadline_ms, 60000)); /* what was handed over may still leave */
    }
    e->tr = transport_edge_open(&to);
    if (!e->tr) goto out;
    e->pend = xcalloc(PENDING_CAP, sizeof *e->pend);

    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    g_stop = 0;

    double wait_end = now_seconds() + o->wait_cloud;
    while (o->wait_cloud > 0 && !transport_connected(e->tr) && now_seconds() < wait_end && !g_stop) pump(e, 0.02);
    char what[512];
    describe_source(e, what, sizeof what);
    if (!o->quiet)
        logline(stderr, "edge %s: %s %s; %s%s\n", o->id, transport_connected(e->tr) ? "connected to" : "no cloud yet at", o->connect,
                what, o->loop ? ", looping" : "");
    if (transport_connected(e->tr)) {
        e->gen_seen = transport_generation(e->tr);
        send_hello(e);
        pump(e, 0.2); /* the cloud's first configuration, if it answers quickly */
    }
    e->t0_mono = now_seconds(); /* the capture clock starts now */
    e->t0_us = wire_now_us();
    capture_loop(e);
    /* let the queue drain (bounded by the deadline) and the last feedback arrive */
    double end = rel_now(e) + fmax(0, o->linger) + (e->pcount ? fmax(0, e->pend[(e->phead + e->pcount - 1) % PENDING_CAP].finish - rel_now(e)) : 0);
    if (o->netns && e->pcount && e->sh.deadline > 0) /* the last frame may wait for the socket up to its deadline */
        end = fmax(end, e->pend[(e->phead + e->pcount - 1) % PENDING_CAP].capture + e->sh.deadline);
    while (rel_now(e) < end && !g_stop) {
        depart(e, false);
        double next = e->pcount ? e->pend[e->phead].finish : end;
        pump(e, fmax(0, fmin(fmin(next, end) - rel_now(e), 0.05)));
    }
    while (e->pcount) { /* stopped early: what is still queued is dropped, and said so */
        Pending *p = &e->pend[e->phead];
        e->s.dropped_stopped++;
        drop_pending(e, p, "stopped");
        pend_pop(e);
    }
    give_up_all(e);
    WireMsg bye = {.type = WIRE_BYE};
    snprintf(bye.edge_id, sizeof bye.edge_id, "%s", o->id);
    bye.u.bye = (WireBye){.captured = (uint64_t)e->s.captured, .sent = (uint64_t)e->s.sent,
                          .dropped = (uint64_t)(e->s.dropped_deadline + e->s.dropped_no_link + e->s.dropped_zmq_full +
                                                      e->s.dropped_send_error + e->s.dropped_busy + e->s.dropped_error +
                                                      e->s.dropped_stopped)};
    if (!e->s.refused) transport_send(e->tr, NULL, &bye); /* a refused edge has no state to free */
    e->s.bad_messages = transport_stats(e->tr)->bad_total;
    e->s.wall_s = rel_now(e);
    if (e->s.sent + e->s.probes_sent > 0) {
        double n = (double)(e->s.sent + e->s.probes_sent);
        e->s.queue_ms = e->sum_queue / n;
        e->s.transmit_ms = e->sum_transmit / n;
    }
    e->s.encode_ms = e->n_encoded > 0 ? e->sum_encode / (double)e->n_encoded : 0;
    e->s.bad_packets = video_source_bad_packets(e->src);
    if (!o->quiet) print_summary(e);
    if (!o->quiet && e->s.unconfirmed)
        logline(stderr, "edge %s: %lld sent frames unconfirmed: may be lost in flight (CSV status unconfirmed)\n", o->id,
                e->s.unconfirmed);
    if (sum) *sum = e->s;
    rc = e->s.refused ? rn_fail("refused by the cloud: %s", e->refused_note) : e->src_err[0] ? rn_fail("%s", e->src_err) : 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    if (e->csv && fclose(e->csv) != 0 && rc == 0) rc = rn_fail("%s: write failed", o->csv);
    if (e->pend) {
        while (e->pcount) pend_pop(e);
        free(e->pend);
    }
    transport_close(e->tr);
    confirm_free(&e->cf);
    shaper_free(&e->sh);
    video_source_close(e->src);
    free(e);
    return rc;
}
