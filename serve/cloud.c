/* cloud.c: `rune serve-cloud` — ROUTER loop, per-edge state, decode -> SR -> segmenter -> ratio -> controller -> FEEDBACK, CSV, summary. */
#include "serve/cloud.h"

#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "data/degrade.h"
#include "nn/tensor.h"
#include "profile/eval_seg.h"
#include "profile/signals.h"
#include "profile/tail.h"
#include "serve/admit.h"
#include "serve/detect.h"
#include "serve/ident.h"
#include "serve/ratelog.h"
#include "serve/transport.h"
#include "util/checksum.h"
#include "util/err.h"
#include "util/logline.h"
#include "util/progress.h"

void cloud_opts_default(CloudOpts *o) {
    memset(o, 0, sizeof *o);
    o->listen = "tcp://127.0.0.1:5555";
    o->kind = "camvid", o->split = "test";
    o->ctl = CTL_CAC;
    ctl_params_default(&o->par);
    o->threshold = NAN;
    o->fps = 2, o->bw_window = 3, o->edge_timeout = 10, o->max_edges = 16;
    o->max_pixels = CLOUD_MAX_PIXELS;
    o->csv_rate = CLOUD_CSV_RATE;
}

/* ---------------- the cloud's shared state ---------------- */

/* Rows a remote edge can multiply (one per frame it sends) and their per-second budget. */
enum { ROW_STALE, ROW_REFUSED, ROW_BAD, ROW_KINDS };
static const char *const ROW_STATUS[ROW_KINDS] = {"stale", "refused", "bad_payload"};
typedef struct CsvLimit {
    double t0;                       /* start of the current one-second interval */
    int rows;                        /* per-frame rows written in it */
    long long over, over_bytes;      /* frames past the budget in it, not yet in a summary row */
    uint64_t last_id;
    int64_t last_us;
} CsvLimit;

#define CSV_COLS 42                  /* columns of CLOUD_CSV_HEADER */
/* After a frame, memory past these bounds goes back to the system: a payload buffer larger than a
 * few typical frames (a 960x720 JPEG at q90 is ~200 KB); an engine arena over CLOUD_ARENA_KEEP and
 * over twice what the current frame used (arena_trim). The segmenter's arena is ~1 KB a pixel
 * (measured: 192 MiB at 480x360, 704 MiB at 960x720, 2.2 GiB at 1920x1080), so a steady stream of
 * any size keeps its arena, and the floor only spares small arenas from being freed and re-made. */
#define PBUF_KEEP ((size_t)1 << 20)
#define CLOUD_ARENA_KEEP ((size_t)512 << 20)
#define LOG_JOIN_S 0.1           /* seconds between join / hello / unknown-BYE lines (ratelog) */
#define CLOUD_IDLE_TRIM_S 5          /* an arena over CLOUD_ARENA_KEEP is freed after this long without a frame */

typedef struct EdgeState {
    bool used;
    bool framed;                     /* has sent a FRAME: holds one of the --max-edges places */
    char id[WIRE_ID_MAX + 1];
    ServePolicy pol;
    Ctl ctl;
    RateEst rate;
    double fps, first_t, last_t;
    double busy_mark;                /* the cloud's busy_total at last_t */
    uint64_t last_id;
    bool have_last;
    int pending_probe;               /* probe frames asked for and not yet seen */
    bool has_pend, gap_pend;         /* a frame waits to be processed (only the newest is kept) */
    TransportRecv pend;
    uint8_t *pbuf;                   /* [pcap] the waiting frame's payload (a copy) */
    size_t pcap;
    long long stale;                 /* frames replaced by a newer one before the cloud got to them */
    long long refused;               /* frames refused before any work (declared size, payload header) */
    CsvLimit lim[ROW_KINDS];         /* the per-second budget of its stale/refused/bad_payload rows */
    long long frames, processed, probes, bad, tail_frames, bytes, dropped_gaps, tail_cfg_frames;
    double sum_acc_label, sum_acc_hr;
    long long n_acc_label, n_acc_hr;
    double st[9];                    /* stage sums: encode queue transmit network wait decode sr infer e2e (ms) */
    long long reasons[WIRE_REASON_COUNT];
} EdgeState;

#define DONE_MAX 256
typedef struct Cloud {
    const CloudOpts *o;
    ProfileDoc doc;
    double threshold;                /* --threshold (NaN: none), else a version-1 profile's pooled threshold */
    int signal;                      /* SignalId the detectors read (the profile's) */
    bool tail_cls[SIG_MAX_CLASSES];  /* the profile's tail classes (tail_share) */
    bool has_tail_cls;
    EvalTask task;
    Carn *carn[SWEEP_MAX_SCALE + 1];
    char sr_file[SWEEP_MAX_SCALE + 1][512];
    bool have_ds;
    Dataset ds;
    int ds_first, ds_count;
    uint8_t **hr_pred;               /* [ds_count] lazily computed HR predictions (NULL until needed) */
    Image *labels;                   /* [ds_count] lazily loaded label maps */
    double *hr_ratio;                /* [ds_count] small-region ratio of the HR prediction */
    double *acc_ref;                 /* [ds_count] accuracy at the profile's reference configuration (cac-oracle; NaN until needed) */
    int *hr_w, *hr_h;
    Transport *tr;
    FILE *csv;
    EdgeState *edges;
    int nedges_cap;
    EdgeState *done;                 /* [ndone] edges that left (kept for the summary; at most DONE_MAX) */
    int ndone;
    int rr;                          /* round-robin position over edges with a waiting frame */
    long long refused_edges, processed, stale, bad_payload, byes, edges_seen, edges_freed, timeouts;
    long long hello_evicted;         /* HELLO-only states dropped to make room for a newer edge */
    long long refused_frames, refused_why[ADMIT_KINDS];
    RateLog log_refused, log_bad, log_edges; /* remote input makes these lines: one a second each */
    RateLog log_join, log_hello, log_bye;    /* one per edge normally; a peer cycling ids or repeating HELLO
                                              * would make one per message: 10 a second each (LOG_JOIN_S) */
    double last_frame_t;             /* when the last frame was processed */
    bool idle_trim;                  /* the arena may still be freed after CLOUD_IDLE_TRIM_S idle */
    double t0;
    double busy_s;                   /* seconds spent decoding/rebuilding/segmenting (the cloud's load) */
    double busy_total;               /* seconds spent handling messages (silence excludes them) */
} Cloud;

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig, g_stop = 1; }

static void cloud_free(Cloud *c) {
    if (c->tr) transport_close(c->tr);
    if (c->csv) fclose(c->csv);
    for (int s = 0; s <= SWEEP_MAX_SCALE; s++)
        if (c->carn[s]) {
            Carn *m = c->carn[s];
            for (int t = s; t <= SWEEP_MAX_SCALE; t++)
                if (c->carn[t] == m) c->carn[t] = NULL;
            carn_free(m);
        }
    if (c->task.close) eval_task_close(&c->task);
    for (int i = 0; i < c->ds_count; i++) {
        free(c->hr_pred[i]);
        if (c->labels[i].px) image_free(&c->labels[i]);
    }
    free(c->hr_pred), free(c->labels), free(c->hr_ratio), free(c->hr_w), free(c->hr_h), free(c->acc_ref);
    if (c->have_ds) dataset_free(&c->ds);
    for (int i = 0; i < c->nedges_cap; i++) free(c->edges[i].pbuf);
    free(c->edges), free(c->done);
    profile_doc_free(&c->doc);
}

/* A model named by the profile must be the file the profile measured: its accuracies (and so the
 * configurations CAC picks) describe that file, not whatever now lies at the path. */
static int check_profiled(const ProfileModel *p) {
    char have[17];
    if (!p->checksum[0]) return 0; /* an older profile without checksums */
    TRY(file_checksum(p->file, have));
    if (strcmp(have, p->checksum))
        return rn_fail("SR model %s (x%d) is not the file the profile measured (checksum %s, the profile says %s); "
                       "re-profile, or pass --sr to serve other models", p->file, p->scale, have, p->checksum);
    return 0;
}

/* --sr spec (or the profile's sr[]) -> one model per scale; a scale without one is bilinear. */
static int load_models(Cloud *c) {
    const CloudOpts *o = c->o;
    const char *files[SWEEP_MAX_SCALE + 1] = {0};
    char *buf = NULL;
    if (o->sr && *o->sr) {
        buf = xstrdup(o->sr);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int s, off = 0;
            if (sscanf(tok, "x%d=%n", &s, &off) != 1 || !off || !tok[off] || s < 2 || s > SWEEP_MAX_SCALE) {
                free(buf);
                return rn_fail("--sr %s: want xS=FILE or xS=bilinear (S 2..%d), comma-separated", tok, SWEEP_MAX_SCALE);
            }
            files[s] = tok + off;
        }
    } else
        for (int i = 0; i < c->doc.nsr; i++)
            if (c->doc.sr[i].scale >= 2 && c->doc.sr[i].scale <= SWEEP_MAX_SCALE) {
                if (strcmp(c->doc.sr[i].file, "bilinear")) TRY(check_profiled(&c->doc.sr[i]));
                files[c->doc.sr[i].scale] = c->doc.sr[i].file;
            }
    int rc = 0;
    for (int s = 2; s <= SWEEP_MAX_SCALE && rc == 0; s++) {
        snprintf(c->sr_file[s], sizeof c->sr_file[s], "bilinear");
        if (!files[s] || !strcmp(files[s], "bilinear")) continue;
        for (int t = 2; t < s && !c->carn[s]; t++)
            if (c->carn[t] && !strcmp(c->sr_file[t], files[s])) c->carn[s] = c->carn[t];
        if (!c->carn[s] && (rc = carn_load(files[s], &c->carn[s], NULL)) < 0) break;
        if (!carn_has_scale(c->carn[s], s)) {
            rc = rn_fail("SR model %s has no x%d head", files[s], s);
            break;
        }
        snprintf(c->sr_file[s], sizeof c->sr_file[s], "%s", files[s]);
    }
    free(buf);
    return rc;
}

static int open_dataset(Cloud *c) {
    const CloudOpts *o = c->o;
    if (!o->data || !*o->data) return 0;
    TRY(dataset_open(o->kind, o->data, o->split, &c->ds));
    c->have_ds = true;
    c->ds_first = 0, c->ds_count = c->ds.n;
    if (o->seq && *o->seq) {
        int n = 0;
        if (dataset_sequence(&c->ds, o->seq, &n) < 0) return rn_fail("%s has no sequence %s", c->ds.name, o->seq);
    }
    c->hr_pred = xcalloc((size_t)c->ds_count + 1, sizeof *c->hr_pred);
    c->labels = xcalloc((size_t)c->ds_count + 1, sizeof *c->labels);
    c->hr_ratio = xcalloc((size_t)c->ds_count + 1, sizeof *c->hr_ratio);
    c->hr_w = xcalloc((size_t)c->ds_count + 1, sizeof *c->hr_w);
    c->hr_h = xcalloc((size_t)c->ds_count + 1, sizeof *c->hr_h);
    c->acc_ref = xmalloc(((size_t)c->ds_count + 1) * sizeof *c->acc_ref);
    for (int i = 0; i <= c->ds_count; i++) c->acc_ref[i] = NAN;
    return 0;
}

/* Whether the dataset gives labels for the frames the cloud scores (the --seq's, else any). */
static bool have_labels(const Cloud *c) {
    const char *seq = c->o->seq;
    for (int i = 0; c->have_ds && i < c->ds_count; i++)
        if (c->ds.samples[i].label && (!seq || !*seq || (c->ds.samples[i].seq && !strcmp(c->ds.samples[i].seq, seq))))
            return true;
    return false;
}

/* The HR prediction (and label, when the dataset has one) of sample src of the dataset;
 * false when there is none or its size is not hr_w x hr_h. */
static bool reference(Cloud *c, uint32_t src, int hr_w, int hr_h) {
    if (!c->have_ds || (int)src >= c->ds_count) return false;
    int i = (int)src; /* the edge's src_index is the sample's index in the dataset as both open it */
    const char *seq = c->o->seq;
    if (seq && *seq && (!c->ds.samples[i].seq || strcmp(c->ds.samples[i].seq, seq))) return false;
    if (!c->hr_pred[src]) {
        Image hr;
        if (dataset_load_frame(&c->ds, i, &hr) < 0) return false;
        Frame f = frame_from_image(&hr);
        c->hr_pred[src] = xmalloc((size_t)hr.w * hr.h);
        c->task.predict(c->task.ctx, &f, c->hr_pred[src]);
        c->hr_w[src] = hr.w, c->hr_h[src] = hr.h;
        c->hr_ratio[src] = small_region_ratio(c->hr_pred[src], hr.w, hr.h, c->doc.small, DS_IGNORE);
        if (c->ds.samples[i].label && dataset_load_label(&c->ds, i, &hr, &c->labels[src]) < 0) c->labels[src] = (Image){0};
        frame_free(&f), image_free(&hr);
    }
    return c->hr_w[src] == hr_w && c->hr_h[src] == hr_h;
}

/* mIoU of pred (w x h) against ref (rw wide; its top-left w x h window) over the dataset's classes. */
static double miou_window(const Cloud *c, const uint8_t *pred, int w, int h, const uint8_t *ref, int rw) {
    int k = c->task.k > c->doc.classes ? c->task.k : c->doc.classes;
    Confusion cm;
    confusion_init(&cm, k);
    for (int y = 0; y < h; y++) confusion_add(&cm, pred + (size_t)y * w, ref + (size_t)y * rw, (size_t)w, DS_IGNORE);
    int cls[256], n = c->doc.classes > 0 && c->doc.classes <= 256 ? c->doc.classes : c->task.k;
    for (int i = 0; i < n; i++) cls[i] = i;
    double m = mean_iou_over(&cm, cls, n);
    confusion_free(&cm);
    return m;
}

static Frame rebuild(Cloud *c, const Image *lr, int scale) {
    if (scale <= 1) return frame_from_image(lr);
    EvalMethod me = {.scale = scale, .kind = c->carn[scale] ? EVAL_CARN : EVAL_BILINEAR, .carn = c->carn[scale]};
    return eval_upscale(&me, lr, c->o->tile);
}

/* cac-oracle's value: sample src's accuracy (mIoU against its label) at the profile's reference
 * configuration (ref_scale:ref_quality, the configuration whose worst frames are the profile's tail
 * frames: HR q90 by default), once per sample; NaN without a label or at another frame size. */
static double reference_accuracy(Cloud *c, uint32_t src, int hr_w, int hr_h) {
    if (!reference(c, src, hr_w, hr_h) || !c->labels[src].px) return NAN;
    if (!isnan(c->acc_ref[src])) return c->acc_ref[src];
    int scale = c->doc.ref_scale > 0 ? c->doc.ref_scale : 1, q = c->doc.ref_quality;
    const Image *lab = &c->labels[src];
    if (scale == 1 && q <= 0) return c->acc_ref[src] = miou_window(c, c->hr_pred[src], hr_w, hr_h, lab->px, lab->w);
    Image hr;
    Degraded d;
    if (dataset_load_frame(&c->ds, (int)src, &hr) < 0) return NAN;
    int rc = degrade(&hr, scale, q, &d);
    image_free(&hr);
    if (rc < 0) return NAN;
    Frame up = rebuild(c, &d.lr, scale);
    uint8_t *p = xmalloc((size_t)up.w * up.h);
    c->task.predict(c->task.ctx, &up, p);
    c->acc_ref[src] = miou_window(c, p, up.w, up.h, lab->px, lab->w);
    free(p), frame_free(&up), degraded_free(&d);
    return c->acc_ref[src];
}

/* ---------------- edges ---------------- */

/* An edge that said HELLO but has sent no FRAME holds no --max-edges place (clients that only say
 * HELLO must not lock real edges out); when every slot is taken, the oldest such state makes room. */
static EdgeState *hello_only_oldest(Cloud *c) {
    EdgeState *old = NULL;
    for (int i = 0; i < c->nedges_cap; i++) {
        EdgeState *e = &c->edges[i];
        if (e->used && !e->framed && (!old || e->first_t < old->first_t)) old = e;
    }
    return old;
}

/* Drops a state that never streamed (no summary line: it has nothing to report). */
static void edge_forget(EdgeState *e) {
    free(e->pbuf);
    memset(e, 0, sizeof *e);
}

/* The edges holding --max-edges places. */
static int edges_streaming(const Cloud *c) {
    int n = 0;
    for (int i = 0; i < c->nedges_cap; i++) n += c->edges[i].used && c->edges[i].framed;
    return n;
}

static EdgeState *edge_find(Cloud *c, const char *id, bool make, double now) {
    EdgeState *free_slot = NULL;
    for (int i = 0; i < c->nedges_cap; i++) {
        if (c->edges[i].used && !strcmp(c->edges[i].id, id)) return &c->edges[i];
        if (!c->edges[i].used && !free_slot) free_slot = &c->edges[i];
    }
    if (!make) return NULL;
    if (!free_slot) free_slot = hello_only_oldest(c);
    if (!free_slot) return NULL; /* cannot happen: stash_frame lets at most half the slots stream */
    if (free_slot->used) {
        c->hello_evicted++;
        edge_forget(free_slot);
    }
    EdgeState *e = free_slot;
    memset(e, 0, sizeof *e);
    e->used = true;
    snprintf(e->id, sizeof e->id, "%s", id);
    e->fps = c->o->fps;
    e->pol = (ServePolicy){.doc = &c->doc, .edge_fps = e->fps, .headroom = 0.9};
    ctl_init(&e->ctl, c->o->ctl, &e->pol, &c->o->par);
    e->first_t = e->last_t = now;
    c->edges_seen++;
    ratelog(&c->log_join, stderr, c->o->quiet, "serve-cloud: edge %s joined (%s controller)", id, ctl_kind_name(c->o->ctl));
    return e;
}

static void summary_edge(const Cloud *c, const EdgeState *e, FILE *f) {
    double n = e->processed ? (double)e->processed : 1;
    double dur = e->last_t - e->first_t;
    fprintf(f, "| %s | %s | %lld | %lld | %lld | %lld | %lld | %lld | %lld | %.3f | %.3f | %.0f |", e->id,
            ctl_kind_name(c->o->ctl), e->frames, e->processed, e->stale, e->probes, e->dropped_gaps, e->tail_frames, e->tail_cfg_frames,
            e->n_acc_label ? e->sum_acc_label / e->n_acc_label : NAN, e->n_acc_hr ? e->sum_acc_hr / e->n_acc_hr : NAN,
            dur > 0 ? e->bytes * 8 / dur / 1000 : NAN);
    for (int k = 0; k < 9; k++) fprintf(f, " %.1f |", e->st[k] / n);
    fprintf(f, " %d |\n", e->ctl.switches);
}

static void summary_head(FILE *f) {
    fprintf(f, "| edge | controller | frames | processed | stale | probes | gaps | tail detected | tail config | acc label | "
               "acc vs HR | kbit/s | encode ms | queue ms | transmit ms | network ms | cloud wait ms | decode ms | SR ms | "
               "infer ms | e2e ms | switches |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

static void csv_flush_limits(Cloud *c, EdgeState *e, bool all);

/* An edge that left: its summary line is kept (the first DONE_MAX), its slot is freed. */
static void edge_release(Cloud *c, EdgeState *e, const char *why, FILE *log) {
    if (log && !c->o->quiet) logline(log, "serve-cloud: edge %s %s; its state is freed\n", e->id, why);
    csv_flush_limits(c, e, true);
    free(e->pbuf);
    e->pbuf = NULL, e->pcap = 0, e->has_pend = false;
    if (c->ndone < DONE_MAX) {
        if (!c->done) c->done = xcalloc(DONE_MAX, sizeof *c->done);
        c->done[c->ndone++] = *e;
    }
    memset(e, 0, sizeof *e);
    c->edges_freed++;
}

/* ---------------- one frame ---------------- */

static void send_feedback(Cloud *c, EdgeState *e, uint64_t last_id, int reason, const char *note) {
    WireMsg m = {.type = WIRE_FEEDBACK};
    snprintf(m.edge_id, sizeof m.edge_id, "%s", e->id);
    WireFeedback *fb = &m.u.feedback;
    fb->last_frame_id = last_id, fb->cloud_us = wire_now_us();
    fb->next = e->ctl.knobs;
    double bps = rate_bps(&e->rate, now_seconds(), c->o->bw_window);
    fb->bw_kbps = isfinite(bps) ? (uint32_t)fmin(bps / 1000, 4e9) : 0;
    if (e->ctl.want_probe) {
        fb->probe = e->ctl.par.aw_probe;
        fb->probe.skip = 0, fb->probe.flags = WIRE_CFG_PROBE;
        fb->probe_count = 1;
        e->ctl.want_probe = false, e->pending_probe++;
        if (!reason) reason = WIRE_REASON_PROBE;
    } else fb->probe = (WireConfig){.scale = 1, .quality = 90};
    fb->reason = reason;
    snprintf(fb->note, sizeof fb->note, "%s", note ? note : "");
    if (transport_send(c->tr, e->id, &m) < 0 && !c->o->quiet) logline(stderr, "serve-cloud: feedback to %s: %s\n", e->id, rn_errmsg());
}

/* AWStream's online profiling on a full-quality frame: the current target's standard and tail picks,
 * each degraded from it, rebuilt and segmented, scored against the segmenter's prediction on it. A
 * probe sent below HR (--aw-probe 2:90 where the link cannot carry HR frames) is first rebuilt by its
 * SR model, and that frame stands in for HR. */
static int profile_probe(Cloud *c, EdgeState *e, const Image *full, const uint8_t *ref, double t) {
    double acc[2] = {NAN, NAN};
    for (int k = 0; k < 2; k++) {
        ServeKnobs kn = serve_pick_knobs(&e->pol, e->ctl.target, k == 1);
        Degraded d;
        if (degrade(full, kn.scale, kn.quality, &d) < 0) continue;
        Frame up = rebuild(c, &d.lr, kn.scale);
        uint8_t *p = xmalloc((size_t)up.w * up.h);
        c->task.predict(c->task.ctx, &up, p);
        acc[k] = miou_window(c, p, up.w, up.h, ref, full->w);
        free(p), frame_free(&up), degraded_free(&d);
    }
    return ctl_profiled(&e->ctl, t, acc[0], acc[1]);
}

/* The tail-detection columns of a processed frame (NULL: a row without analysis, NaN there). */
typedef struct RowSig {
    double value;                    /* the profile's signal */
    ServeDetector det;               /* the detector of the frame's configuration */
    double acc_ref;                  /* accuracy at the profile's reference configuration (cac-oracle) */
} RowSig;

static void csv_sig_cols(const Cloud *c, const RowSig *g) {
    RowSig none = {.value = NAN, .det = {.threshold = NAN}, .acc_ref = NAN};
    if (!g) g = &none;
    fprintf(c->csv, ",%s,%.6g,%d,%d,%.6g,%d,%.6g", signal_name((SignalId)c->signal), g->value, g->det.scale, g->det.quality,
            g->det.found ? g->det.threshold : NAN, g->det.found ? g->det.direction : 0, g->acc_ref);
}

static void csv_row_why(Cloud *c, const EdgeState *e, const TransportRecv *r, const double *ms, int64_t done_us, double ratio,
                        int tail, double acc_l, double acc_h, double ratio_hr, double bps, const char *why, const char *status,
                        const RowSig *g) {
    if (!c->csv) return;
    const WireFrame *f = &r->msg.u.frame;
    char cfg[32], next[32];
    wire_config_str(&f->cfg, cfg, sizeof cfg), wire_config_str(&e->ctl.knobs, next, sizeof next);
    fprintf(c->csv, "%s,%llu,%u,%s,%s,%d,%d,%d,%d,%d,%u,%lld,%lld,%lld,%lld", e->id, (unsigned long long)f->frame_id,
            f->src_index, ctl_kind_name(c->o->ctl), cfg, f->cfg.scale, f->cfg.quality, f->cfg.skip,
            (f->cfg.flags & WIRE_CFG_TAIL) ? 1 : 0, (f->cfg.flags & WIRE_CFG_PROBE) ? 1 : 0, f->payload_len,
            (long long)f->capture_us, (long long)f->send_us, (long long)r->recv_us, (long long)done_us);
    for (int k = 0; k < 11; k++) fprintf(c->csv, ",%.3f", ms[k]);
    (void)done_us;
    fprintf(c->csv, ",%.6g,%d,%.6g,%.6g,%.6g,%.0f,%s,%s,%s", ratio, tail, acc_l,
            acc_h, ratio_hr, isfinite(bps) ? bps / 1000 : NAN, next, why, status);
    csv_sig_cols(c, g);
    fputc('\n', c->csv);
    fflush(c->csv);
}

static void csv_row(Cloud *c, const EdgeState *e, const TransportRecv *r, const double *ms, int64_t done_us, double ratio,
                    int tail, double acc_l, double acc_h, double ratio_hr, double bps, int reason, const char *status) {
    csv_row_why(c, e, r, ms, done_us, ratio, tail, acc_l, acc_h, ratio_hr, bps, wire_reason_name(reason), status, NULL);
}

/* The row standing for the frames of one kind past the budget of an interval (format in cloud.h). */
static void csv_summary_row(Cloud *c, EdgeState *e, int kind) {
    CsvLimit *l = &e->lim[kind];
    if (c->csv && l->over > 0) {
        char id[24], bytes[24], us[24], n[24], status[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)l->last_id);
        snprintf(bytes, sizeof bytes, "%lld", l->over_bytes);
        snprintf(us, sizeof us, "%lld", (long long)l->last_us);
        snprintf(n, sizeof n, "%lld", l->over);
        snprintf(status, sizeof status, "%s_summary", ROW_STATUS[kind]);
        const char *col[CSV_COLS] = {[0] = e->id, [1] = id, [3] = ctl_kind_name(c->o->ctl), [10] = bytes, [13] = us,
                                     [33] = n, [34] = status};
        for (int k = 0; k < CSV_COLS; k++) fprintf(c->csv, "%s%s", k ? "," : "", col[k] ? col[k] : "");
        fputc('\n', c->csv);
        fflush(c->csv);
    }
    l->over = 0;
    l->over_bytes = 0;
}

/* The per-second budget of e's rows of one kind: true = write this frame's own row; false = it is
 * counted into the interval's summary row, written when the interval is over. */
static bool csv_admit(Cloud *c, EdgeState *e, int kind, const TransportRecv *r) {
    CsvLimit *l = &e->lim[kind];
    double now = now_seconds();
    if (now - l->t0 >= 1) {
        csv_summary_row(c, e, kind);
        l->t0 = now;
        l->rows = 0;
    }
    if (l->rows < c->o->csv_rate) {
        l->rows++;
        return true;
    }
    l->over++;
    l->over_bytes += r->msg.u.frame.payload_len;
    l->last_id = r->msg.u.frame.frame_id;
    l->last_us = r->recv_us;
    return false;
}

/* Summary rows of intervals that are over (all of them when `all`: the edge leaves, the cloud stops). */
static void csv_flush_limits(Cloud *c, EdgeState *e, bool all) {
    double now = now_seconds();
    for (int k = 0; k < ROW_KINDS; k++)
        if (all || now - e->lim[k].t0 >= 1) csv_summary_row(c, e, k);
}

/* The edge's stamps as stage times: encode, queue, transmit, network (recv - send), cloud wait. */
static void edge_stages(const TransportRecv *r, double *ms, int64_t start_us) {
    const WireFrame *f = &r->msg.u.frame;
    int64_t first_byte = f->capture_us + f->encode_us + f->queue_us;
    ms[0] = f->encode_us / 1000.0, ms[1] = f->queue_us / 1000.0;
    ms[2] = (f->send_us - first_byte) / 1000.0, ms[3] = (r->recv_us - f->send_us) / 1000.0;
    ms[4] = (start_us - r->recv_us) / 1000.0;
}

/* A frame from one edge more than --max-edges: it is told (a FEEDBACK with reason refused; serve-edge
 * stops and exits non-zero), logged at most once a second, and its HELLO-only state goes. */
static void refuse_edge(Cloud *c, const char *id, EdgeState *e) {
    c->refused_edges++;
    int max = c->nedges_cap / 2; /* --max-edges (cloud_setup) */
    ratelog(&c->log_edges, stderr, c->o->quiet, "serve-cloud: edge %s refused: %d edge%s already served (--max-edges)", id,
            max, max == 1 ? "" : "s");
    char note[WIRE_NOTE_MAX + 1];
    snprintf(note, sizeof note, "%d edge%s already served", max, max == 1 ? "" : "s");
    WireMsg m;
    ident_refusal(&m, id, note);
    transport_send(c->tr, id, &m); /* 1 (gone already) needs nothing more */
    if (e) edge_forget(e);
}

/* A frame that fails frame_admit is counted, logged (rate-limited) and recorded, and nothing else
 * is done with it: its cost is the header read. true = refused. */
static bool refuse_frame(Cloud *c, EdgeState *e, const TransportRecv *r) {
    const WireFrame *f = &r->msg.u.frame;
    char why[256];
    int k = frame_admit(f, c->o->max_pixels, why, sizeof why);
    if (k < 0) return false;
    e->frames++;
    e->refused++;
    c->refused_frames++;
    c->refused_why[k]++;
    ratelog(&c->log_refused, stderr, c->o->quiet, "serve-cloud: edge %s frame %llu refused (%s): %s", e->id,
            (unsigned long long)f->frame_id, admit_name(k), why);
    if (csv_admit(c, e, ROW_REFUSED, r)) {
        double ms[11];
        for (int j = 0; j < 11; j++) ms[j] = NAN;
        edge_stages(r, ms, wire_now_us());
        csv_row_why(c, e, r, ms, wire_now_us(), NAN, 0, NAN, NAN, NAN, NAN, admit_name(k), "refused", NULL);
    }
    return true;
}

/* After a frame: memory a larger-than-usual frame took goes back to the system instead of staying
 * at its peak for the life of the cloud (the 4.3 GB after one 2048x2048 frame). */
static void frame_memory_back(Cloud *c, EdgeState *e) {
    if (e->pcap > PBUF_KEEP) {
        free(e->pbuf);
        e->pbuf = NULL;
        e->pcap = 0;
    }
    /* glibc keeps freed heap pages (the decoded image, the float frame, predictions) unless asked */
    if (arena_trim(engine_arena(), CLOUD_ARENA_KEEP) > 0) malloc_trim(0);
    c->last_frame_t = now_seconds();
    c->idle_trim = true;
}

/* A cloud that has been idle a while gives a large arena back, however steady the frames were. */
static void idle_memory_back(Cloud *c) {
    if (!c->idle_trim || now_seconds() - c->last_frame_t < CLOUD_IDLE_TRIM_S) return;
    c->idle_trim = false;
    if (arena_trim(engine_arena(), CLOUD_ARENA_KEEP) > 0) malloc_trim(0);
}

/* A FRAME off the socket: arrival bookkeeping (counts, gaps, the bandwidth estimate) now; the frame
 * waits in its edge's slot until the cloud gets to it. A frame still waiting there is replaced
 * (recorded "stale"): the cloud analyses each edge's newest frame, so a slow cloud skips frames
 * instead of answering ever later. */
static void stash_frame(Cloud *c, const TransportRecv *r) {
    const WireFrame *f = &r->msg.u.frame;
    double now = now_seconds();
    EdgeState *e = edge_find(c, r->peer, false, now);
    if (!(e && e->framed) && edges_streaming(c) >= c->nedges_cap / 2) {
        refuse_edge(c, r->peer, e);
        return;
    }
    if (!e) e = edge_find(c, r->peer, true, now);
    if (!e || refuse_frame(c, e, r)) return;
    e->framed = true;
    e->frames++, e->bytes += f->payload_len;
    bool probe = f->cfg.flags & WIRE_CFG_PROBE;
    if (probe) e->probes++, e->pending_probe = e->pending_probe > 0 ? e->pending_probe - 1 : 0;
    /* edge-side drops show as gaps in the capture counter beyond the configured skipping */
    if (!probe) {
        if (e->have_last && f->frame_id > e->last_id + 1 + (uint64_t)f->cfg.skip) e->gap_pend = true, e->dropped_gaps++;
        if (!e->have_last || f->frame_id > e->last_id) e->last_id = f->frame_id;
        e->have_last = true;
    }
    int64_t first_byte = f->capture_us + f->encode_us + f->queue_us;
    rate_add(&e->rate, now, 8.0 * (double)r->bytes, (f->send_us - first_byte) / 1e6); /* the whole message crossed the link */
    if (e->has_pend) {
        /* a probe frame is never replaced by a stream frame: AWStream's round needs it */
        bool keep_old = (e->pend.msg.u.frame.cfg.flags & WIRE_CFG_PROBE) && !probe;
        const TransportRecv *old = keep_old ? r : &e->pend;
        double ms[11];
        for (int k = 0; k < 11; k++) ms[k] = NAN;
        edge_stages(old, ms, wire_now_us());
        if (csv_admit(c, e, ROW_STALE, old))
            csv_row(c, e, old, ms, wire_now_us(), NAN, 0, NAN, NAN, NAN, rate_bps(&e->rate, now, c->o->bw_window), 0, "stale");
        e->stale++, c->stale++;
        if (keep_old) return;
    }
    if (e->pcap < f->payload_len) e->pbuf = xrealloc(e->pbuf, f->payload_len), e->pcap = f->payload_len;
    memcpy(e->pbuf, f->payload, f->payload_len);
    e->pend = *r;
    e->pend.msg.u.frame.payload = e->pbuf;
    e->has_pend = true;
}

/* The segmenter's prediction of up; soft: its softmax statistics when the profile's signal needs them
 * (they cost ~2 ms a frame beside the argmax), else NaN. */
static void segment(Cloud *c, const Frame *up, uint8_t *pred, SoftStats *soft) {
    soft->maxprob = soft->entropy = NAN;
    if ((c->signal == SIG_MAXPROB || c->signal == SIG_ENTROPY) && c->task.predict_soft)
        c->task.predict_soft(c->task.ctx, up, pred, soft);
    else c->task.predict(c->task.ctx, up, pred);
}

/* The frame's signals and its configuration's detector (--threshold overrides its threshold); returns
 * the detector's flag. */
static int frame_signal(Cloud *c, const WireFrame *f, const uint8_t *pred, int w, int h, const SoftStats *soft,
                        FrameSignals *fs, RowSig *g) {
    int k = c->doc.classes > 0 ? c->doc.classes : c->task.k;
    signals_compute(pred, w, h, f->cfg.scale, c->doc.small, soft, k, c->has_tail_cls ? c->tail_cls : NULL, fs);
    g->value = fs->v[c->signal];
    g->det = serve_detector(&c->doc, c->signal, f->cfg.scale, f->cfg.quality, c->o->threshold);
    return g->det.found && signal_flags(g->value, g->det.direction, g->det.threshold);
}

/* The FEEDBACK's note: the value against its threshold ("ratio 0.0712 < 0.085 x4q40"). */
static void frame_note(const Cloud *c, const RowSig *g, int tail, char *note, size_t n) {
    if (c->o->ctl == CTL_CAC_ORACLE)
        snprintf(note, n, "acc_ref %.4f %s %.4f", g->acc_ref, tail ? "<=" : ">", c->doc.tail_cutoff);
    else if (!g->det.found)
        snprintf(note, n, "%s %.4g, no detector", signal_name((SignalId)c->signal), g->value);
    else
        snprintf(note, n, "%s %.4g %s %.4g x%dq%d", signal_name((SignalId)c->signal), g->value,
                 tail ? (g->det.direction < 0 ? ">" : "<") : "vs", g->det.threshold, g->det.scale, g->det.quality);
}

/* What the controller learns of a stream frame; cac-oracle's flag replaces the detector's (*tail too). */
static CtlObs observation(const Cloud *c, const RowSig *g, int *tail) {
    CtlObs ob = {.value = g->value, .direction = g->det.direction, .threshold = g->det.found ? g->det.threshold : NAN};
    if (c->o->ctl == CTL_CAC_ORACLE) {
        oracle_observe(&ob, g->acc_ref, c->doc.tail_cutoff);
        *tail = signal_flags(ob.value, ob.direction, ob.threshold);
    }
    return ob;
}

/* The waiting frame of e: decode, rebuild, segment, signals, controller, FEEDBACK, evaluation, CSV. */
static void process_frame(Cloud *c, EdgeState *e) {
    const TransportRecv *r = &e->pend;
    const WireFrame *f = &r->msg.u.frame;
    double now = now_seconds();
    bool probe = f->cfg.flags & WIRE_CFG_PROBE, gap = e->gap_pend;
    e->has_pend = false, e->gap_pend = false;
    double ms[11] = {0};
    edge_stages(r, ms, wire_now_us());
    double bps = rate_bps(&e->rate, now, c->o->bw_window);
    RowSig g = {.acc_ref = NAN};
    /* cac-oracle's flag: an evaluation aid like the accuracies, before the timed stages */
    if (c->o->ctl == CTL_CAC_ORACLE && !probe) g.acc_ref = reference_accuracy(c, f->src_index, f->hr_w, f->hr_h);

    double t0 = now_seconds();
    Image lr;
    int drc = f->cfg.quality == 0 ? png_decode(f->payload, f->payload_len, &lr, 3) : jpeg_decode(f->payload, f->payload_len, &lr, 3);
    double t1 = now_seconds();
    ms[5] = 1000 * (t1 - t0);
    if (drc < 0 || lr.w * f->cfg.scale > f->hr_w || lr.h * f->cfg.scale > f->hr_h) {
        if (drc == 0) image_free(&lr);
        e->bad++, c->bad_payload++;
        ratelog(&c->log_bad, stderr, c->o->quiet, "serve-cloud: edge %s frame %llu: bad payload (%s)", e->id,
                (unsigned long long)f->frame_id, drc < 0 ? rn_errmsg() : "size does not match hr_w/hr_h");
        if (csv_admit(c, e, ROW_BAD, r)) csv_row(c, e, r, ms, wire_now_us(), NAN, 0, NAN, NAN, NAN, bps, 0, "bad_payload");
        frame_memory_back(c, e);
        return;
    }
    Frame up = rebuild(c, &lr, f->cfg.scale);
    double t2 = now_seconds();
    uint8_t *pred = xmalloc((size_t)up.w * up.h);
    SoftStats soft;
    segment(c, &up, pred, &soft);
    double t3 = now_seconds();
    FrameSignals fs;
    int tail = frame_signal(c, f, pred, up.w, up.h, &soft, &fs, &g);
    double ratio = fs.v[SIG_RATIO];
    double t4 = now_seconds();
    ms[6] = 1000 * (t2 - t1), ms[7] = 1000 * (t3 - t2), ms[8] = 1000 * (t4 - t3);
    c->busy_s += t4 - t0;

    /* the controller: a probe frame is AWStream's online profiling; a stream frame is an observation */
    int reason = 0;
    if (probe) {
        Image full = f->cfg.scale == 1 ? lr : image_from_frame(&up);
        reason = profile_probe(c, e, &full, pred, now);
        if (f->cfg.scale != 1) image_free(&full);
    } else {
        CtlObs ob = observation(c, &g, &tail);
        ob.t = now, ob.est_bps = bps, ob.queue_ms = ms[1], ob.dropped_before = gap, ob.sent = f->cfg;
        reason = ctl_observe(&e->ctl, &ob);
    }
    double t5 = now_seconds();
    ms[9] = 1000 * (t5 - t0);                               /* cloud: decode .. decision */
    int64_t done_us = wire_now_us();
    ms[10] = (done_us - f->capture_us) / 1000.0;            /* end to end: capture .. decision */
    char note[WIRE_NOTE_MAX + 1];
    frame_note(c, &g, tail, note, sizeof note);
    send_feedback(c, e, f->frame_id, reason, note);
    if (reason) e->reasons[reason]++;

    /* evaluation aid, outside the timed stages */
    double acc_l = NAN, acc_h = NAN, ratio_hr = NAN;
    if (reference(c, f->src_index, f->hr_w, f->hr_h)) {
        uint32_t s = f->src_index;
        acc_h = miou_window(c, pred, up.w, up.h, c->hr_pred[s], c->hr_w[s]);
        if (c->labels[s].px) acc_l = miou_window(c, pred, up.w, up.h, c->labels[s].px, c->labels[s].w);
        ratio_hr = c->hr_ratio[s];
    }
    if (!probe) {
        e->processed++, c->processed++;
        e->tail_frames += tail, e->tail_cfg_frames += (f->cfg.flags & WIRE_CFG_TAIL) != 0;
        if (isfinite(acc_l)) e->sum_acc_label += acc_l, e->n_acc_label++;
        if (isfinite(acc_h)) e->sum_acc_hr += acc_h, e->n_acc_hr++;
        double st[9] = {ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], ms[6], ms[7], ms[10]};
        for (int k = 0; k < 9; k++) e->st[k] += st[k];
    }
    csv_row_why(c, e, r, ms, done_us, ratio, tail, acc_l, acc_h, ratio_hr, bps, wire_reason_name(reason), "processed", &g);
    free(pred), frame_free(&up), image_free(&lr);
    frame_memory_back(c, e);
}

static void on_hello(Cloud *c, const TransportRecv *r) {
    double now = now_seconds();
    EdgeState *e = edge_find(c, r->peer, true, now);
    if (!e) return;
    const WireHello *h = &r->msg.u.hello;
    e->last_t = now;
    if (h->fps > 0) e->fps = h->fps, e->pol.edge_fps = h->fps;
    ratelog(&c->log_hello, stderr, c->o->quiet, "serve-cloud: edge %s hello: %dx%d at %.3g fps, %u frames; sending %s", e->id,
            h->hr_w, h->hr_h, h->fps, h->frames, ctl_kind_name(c->o->ctl));
    /* the edge learns its configuration at once (a restarted cloud re-learns the edge the same way) */
    send_feedback(c, e, 0, WIRE_REASON_START, "hello");
}

/* An edge the cloud holds or held state for (one freed after a silence still says BYE at its end);
 * past DONE_MAX freed edges the cloud cannot tell, and takes the edge's word. */
static bool was_served(const Cloud *c, const char *id) {
    if (c->ndone == DONE_MAX) return true;
    for (int i = 0; i < c->ndone; i++)
        if (!strcmp(c->done[i].id, id)) return true;
    return false;
}

static void on_bye(Cloud *c, const TransportRecv *r) {
    EdgeState *e = edge_find(c, r->peer, false, 0);
    if (e && e->has_pend) process_frame(c, e);
    if (!e && !was_served(c, r->peer)) { /* a refused edge's BYE must not end a --edges run */
        ratelog(&c->log_bye, stderr, c->o->quiet, "serve-cloud: BYE from %s, never served: not counted", r->peer);
        return;
    }
    c->byes++;
    const WireBye *b = &r->msg.u.bye;
    if (!c->o->quiet)
        logline(stderr, "serve-cloud: edge %s bye: captured %llu, sent %llu, dropped %llu\n", r->peer,
                (unsigned long long)b->captured, (unsigned long long)b->sent, (unsigned long long)b->dropped);
    if (e) edge_release(c, e, "said bye", stderr);
}

/* ---------------- the loop ---------------- */

/* The profile's signal, tail classes and detectors; refuses a controller that could not flag a frame. */
static int setup_detection(Cloud *c) {
    const CloudOpts *o = c->o;
    TRY(serve_signal_of(&c->doc, &c->signal));
    TRY(serve_threshold_check(c->signal, o->threshold));
    for (int i = 0; i < c->doc.ntail_classes; i++)
        if (c->doc.tail_classes[i] >= 0 && c->doc.tail_classes[i] < SIG_MAX_CLASSES)
            c->tail_cls[c->doc.tail_classes[i]] = c->has_tail_cls = true;
    c->threshold = isfinite(o->threshold) ? o->threshold : c->doc.threshold;
    if (o->ctl == CTL_CAC_ORACLE) return oracle_check(&c->doc, have_labels(c));
    if (!ctl_kind_flags(o->ctl)) return 0;
    /* No silent fallback: with the paper's 1 % in place of a threshold the profile could not fit, CAC
     * may never flag a frame (the committed profiles' ratios all lie above it) and look like it runs. */
    if (c->doc.ndet == 0 && !isfinite(c->threshold))
        return rn_fail("%s has no fitted tail threshold (its fit: r2 %.3f over %d points, no rising line) and no "
                       "per-configuration detectors (profile version 1); %s needs one: give --threshold R (a share of "
                       "the frame, e.g. the paper's 0.01), re-run rune profile, or another --controller",
                       o->profile, c->doc.fit_r2, c->doc.fit_n, ctl_kind_name(o->ctl));
    if (c->signal == SIG_TAIL_SHARE && !c->has_tail_cls)
        return rn_fail("%s: signal tail_share needs the profile's tail_classes, it has none", o->profile);
    return 0;
}

static bool task_gives_soft(const Cloud *c) { return c->task.predict_soft != NULL; }

static int cloud_setup(Cloud *c) {
    const CloudOpts *o = c->o;
    if (!o->profile) return rn_fail("serve-cloud needs --profile profile.json (rune profile writes it)");
    TRY(profile_json_read(o->profile, &c->doc));
    if (serve_target_for(&(ServePolicy){.doc = &c->doc, .edge_fps = 1}, NAN) < 0)
        return rn_fail("%s has no bandwidth target with a configuration", o->profile);
    TRY(open_dataset(c));
    TRY(setup_detection(c));
    const char *task = o->task && *o->task ? o->task : c->doc.task_file;
    TRY(eval_task_open(&c->task, task, NULL, NULL, false));
    if (c->doc.classes > 0 && c->task.k != c->doc.classes)
        return rn_fail("%s predicts %d classes, the profile was made for %d", task, c->task.k, c->doc.classes);
    if (ctl_kind_flags(o->ctl) && o->ctl != CTL_CAC_ORACLE && (c->signal == SIG_MAXPROB || c->signal == SIG_ENTROPY) &&
        !task_gives_soft(c))
        return rn_fail("%s: signal %s needs the segmenter's softmax statistics, which %s does not give", o->profile,
                       signal_name((SignalId)c->signal), task);
    TRY(load_models(c));
    if (o->csv && *o->csv) {
        if (!(c->csv = fopen(o->csv, "w"))) return rn_fail("cannot write %s", o->csv);
        fprintf(c->csv, "%s\n", CLOUD_CSV_HEADER);
        fflush(c->csv);
    }
    /* half the slots at most stream (stash_frame); the rest hold edges that only said HELLO so far */
    c->nedges_cap = 2 * (o->max_edges > 0 ? o->max_edges : 16);
    c->edges = xcalloc((size_t)c->nedges_cap, sizeof *c->edges);
    TransportOpts to = {.endpoint = o->listen, .curve_dir = o->curve_dir, .quiet = o->quiet};
    if (o->worker_of && *o->worker_of) { /* a broker's worker: it did the remote-peer checks (serve/broker.h) */
        char wid[16];
        snprintf(wid, sizeof wid, "w%d", o->worker_index);
        to = (TransportOpts){.endpoint = o->worker_of, .edge_id = wid, .quiet = o->quiet};
        c->tr = transport_worker_open(&to);
    } else
        c->tr = transport_cloud_open(&to);
    if (!c->tr) return -1;
    return 0;
}

/* How frames are flagged, in words: "signal ratio, 31 detectors (per configuration)" or "threshold 0.085". */
static void detect_desc(const Cloud *c, char *buf, size_t n) {
    const char *sig = signal_name((SignalId)c->signal);
    if (c->o->ctl == CTL_CAC_ORACLE)
        snprintf(buf, n, "oracle: reference accuracy <= tail_cutoff %.4g; signal %s recorded", c->doc.tail_cutoff, sig);
    else if (c->doc.ndet == 0)
        snprintf(buf, n, "signal %s, threshold %.4g", sig, c->threshold);
    else if (isfinite(c->o->threshold))
        snprintf(buf, n, "signal %s, %d detectors, every threshold overridden: %.4g", sig, c->doc.ndet, c->o->threshold);
    else
        snprintf(buf, n, "signal %s, %d detectors (per configuration)", sig, c->doc.ndet);
}

static void cloud_summary(Cloud *c, FILE *f) {
    const TransportStats *s = transport_stats(c->tr);
    char desc[160];
    detect_desc(c, desc, sizeof desc);
    fprintf(f, "\n## serve-cloud summary\n\ncontroller %s, %s, profile %s; %.1f s, %lld frames processed, "
               "%lld stale (a newer frame of the edge arrived first), cloud busy %.1f s (%.1f%%)\n\n",
            ctl_kind_name(c->o->ctl), desc, c->o->profile, now_seconds() - c->t0, c->processed, c->stale, c->busy_s,
            100 * c->busy_s / fmax(1e-9, now_seconds() - c->t0));
    summary_head(f);
    for (int i = 0; i < c->ndone; i++) summary_edge(c, &c->done[i], f);
    for (int i = 0; i < c->nedges_cap; i++)
        if (c->edges[i].used) summary_edge(c, &c->edges[i], f);
    fprintf(f, "\nedges seen %lld, freed %lld (timeouts %lld), refused %lld (max edges) / %lld (CURVE), byes %lld; "
               "messages received %lld, refused %lld (",
            c->edges_seen, c->edges_freed, c->timeouts, c->refused_edges, s->refused, c->byes, s->recv, s->bad_total);
    for (int k = 1; k < WIRE_NERR; k++) fprintf(f, "%s%s %lld", k > 1 ? ", " : "", wire_err_name(-k), s->bad[k]);
    fprintf(f, "); bad payloads %lld; failed handshakes %lld; connections dropped mid-message (over %u bytes) %lld; "
               "frames refused unread %lld (",
            c->bad_payload, s->auth_failed, (unsigned)WIRE_MAX_MSG, s->oversized, c->refused_frames);
    for (int k = 0; k < ADMIT_KINDS; k++) fprintf(f, "%s%s %lld", k ? ", " : "", admit_name(k), c->refused_why[k]);
    fprintf(f, ")\n");
    if (c->hello_evicted) fprintf(f, "edges that only said HELLO, dropped for newer ones: %lld\n", c->hello_evicted);
    if (s->handed_over)
        fprintf(f, "messages still in flight on an edge's old connection when it reconnected (taken as its): %lld\n",
                s->handed_over);
}

int cloud_run(const CloudOpts *o) {
    Cloud c = {.o = o, .log_join.interval = LOG_JOIN_S, .log_hello.interval = LOG_JOIN_S, .log_bye.interval = LOG_JOIN_S};
    int rc = cloud_setup(&c);
    if (rc < 0) {
        cloud_free(&c);
        return -1;
    }
    g_stop = 0;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL), sigaction(SIGTERM, &sa, NULL);
    c.t0 = now_seconds();
    double last_msg = c.t0;
    bool any = false;
    if (!o->quiet) {
        char desc[160];
        detect_desc(&c, desc, sizeof desc);
        logline(stderr, "serve-cloud: %s %s (%s controller, %s)\n", o->worker_of ? "worker of" : "listening on",
                o->worker_of ? o->worker_of : transport_endpoint(c.tr), ctl_kind_name(o->ctl), desc);
    }
    while (!g_stop && !transport_stopped(c.tr)) {
        double now = now_seconds();
        if (o->duration > 0 && now - c.t0 >= o->duration) break;
        if (o->edges > 0 && c.byes >= o->edges) break;
        if (o->idle_exit > 0 && any && now - last_msg >= o->idle_exit) break;
        bool waiting = false;
        for (int i = 0; i < c.nedges_cap; i++) waiting |= c.edges[i].used && c.edges[i].has_pend;
        TransportRecv r;
        int got = transport_recv(c.tr, waiting ? 0 : 200, &r);
        if (got < 0) {
            rc = -1;
            break;
        }
        if (got == 1) {
            /* take everything off the socket first; frames wait in their edge's slot */
            any = true, last_msg = now_seconds();
            switch (r.msg.type) {
            case WIRE_FRAME: stash_frame(&c, &r); break;
            case WIRE_HELLO: on_hello(&c, &r); break;
            case WIRE_BYE: on_bye(&c, &r); break;
            default: break; /* FEEDBACK from an edge: not ours to take */
            }
            c.busy_total += now_seconds() - last_msg;
            EdgeState *e = edge_find(&c, r.peer, false, 0);
            if (e) e->last_t = now_seconds(), e->busy_mark = c.busy_total;
            continue;
        }
        /* nothing on the socket: an edge's silence is the time the cloud was listening since it
         * last heard from it (a message queued while the cloud was busy is not silence) */
        now = now_seconds();
        for (int i = 0; i < c.nedges_cap; i++) {
            EdgeState *e = &c.edges[i];
            double silent = (now - e->last_t) - (c.busy_total - e->busy_mark);
            if (e->used && !e->has_pend && silent > o->edge_timeout) {
                char why[64];
                snprintf(why, sizeof why, "silent for %.0f s", silent);
                c.timeouts++;
                edge_release(&c, e, why, stderr);
            }
        }
        for (int i = 0; i < c.nedges_cap; i++)
            if (c.edges[i].used) csv_flush_limits(&c, &c.edges[i], false);
        idle_memory_back(&c);
        /* then one waiting frame, round robin over the edges */
        for (int k = 0; k < c.nedges_cap; k++) {
            EdgeState *e = &c.edges[(c.rr + k) % c.nedges_cap];
            if (!e->used || !e->has_pend) continue;
            double t0 = now_seconds();
            process_frame(&c, e);
            c.busy_total += now_seconds() - t0;
            e->busy_mark += now_seconds() - t0; /* its own frame's time is not silence either */
            c.rr = (c.rr + k + 1) % c.nedges_cap;
            break;
        }
    }
    /* frames still waiting when the cloud stops are accounted for */
    for (int i = 0; i < c.nedges_cap; i++)
        if (c.edges[i].used && c.edges[i].has_pend) {
            EdgeState *e = &c.edges[i];
            double ms[11];
            for (int k = 0; k < 11; k++) ms[k] = NAN;
            edge_stages(&e->pend, ms, wire_now_us());
            csv_row(&c, e, &e->pend, ms, wire_now_us(), NAN, 0, NAN, NAN, NAN, NAN, 0, "unprocessed");
        }
    for (int i = 0; i < c.nedges_cap; i++)
        if (c.edges[i].used) csv_flush_limits(&c, &c.edges[i], true);
    ratelog_flush(&c.log_refused, stderr, o->quiet, "serve-cloud: refused frames");
    ratelog_flush(&c.log_bad, stderr, o->quiet, "serve-cloud: bad payloads");
    ratelog_flush(&c.log_edges, stderr, o->quiet, "serve-cloud: edges refused (--max-edges)");
    ratelog_flush(&c.log_join, stderr, o->quiet, "serve-cloud: edges joined");
    ratelog_flush(&c.log_hello, stderr, o->quiet, "serve-cloud: hellos");
    ratelog_flush(&c.log_bye, stderr, o->quiet, "serve-cloud: BYEs of edges never served");
    if (rc == 0) {
        cloud_summary(&c, stdout);
        if (o->summary && *o->summary) {
            FILE *f = fopen(o->summary, "w");
            if (f) cloud_summary(&c, f), fclose(f);
        }
    }
    cloud_free(&c);
    return rc;
}
