/* loader.c: random crops + flips of dataset frames with their labels and whole-frame label masks (or whole resized frames with their boxes) into NCHW float batches, deterministic per batch index, prefetched on a thread. */
#include "data/loader.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/rng.h"

#define NSLOTS 2 /* one batch being trained on (copied out) + one being decoded is all 2 cores can use */

typedef struct {
    Image a, b; /* SR: HR, LR. SEG: frame, label. DET: the resized frame (b unused) */
    Image m;    /* SEG with a label_mask: the map of the whole label (1 channel) */
    Box *boxes; /* DET: normalised boxes [nboxes] */
    int nboxes;
    bool loaded;
} Entry;

/* One batch's buffers (caller-owned, or a prefetch slot's). */
typedef struct {
    float *in, *target; /* [N*3*in_h*in_w], [N*3*out_h*out_w] */
    uint8_t *label;     /* [N*out_h*out_w] */
    uint8_t *mask;      /* SEG with a label_mask: [N*out_h*out_w] */
    Box *boxes;         /* DET: [N*max_boxes], item i's at i*max_boxes */
    int *nboxes;        /* DET: [N] */
} Batch;

typedef enum { SLOT_FREE, SLOT_FILLING, SLOT_READY } SlotState;

typedef struct {
    SlotState state;
    int64_t batch;
    int rc;
    char err[1024];
    Batch buf;
} Slot;

struct Loader {
    const Dataset *ds;
    LoaderCfg cfg;
    int in_h, in_w, out_h, out_w;
    int max_boxes;  /* DET: the most boxes of any sample (at least 1) */
    int first, items; /* the items of each batch this loader fills (the shard; 0, batch when whole) */
    float unit[256]; /* byte -> [0,1] (PIXEL_MUL; DET: PIXEL_DIV) */
    Batch last;     /* DET: the boxes, SEG: the masks of the batch loader_next returned last */
    bool cache;
    Entry *entries; /* [n] when caching, else [1] reused */
    atomic_int ncached; /* written by the worker, read by loader_cached() from the caller */
    int *perm;      /* permutation of epoch perm_epoch */
    int64_t perm_epoch;
    int64_t next;   /* batch loader_next returns next */
    /* prefetch */
    pthread_t thread;
    bool running, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    Slot slots[NSLOTS];
    int64_t produce; /* next batch the worker decodes */
};

/* ---- RNG: splitmix64, seeded per (seed, stream) so no state crosses batches ---- */

typedef struct {
    uint64_t s;
} Rng;

static Rng rng_for(uint64_t seed, uint64_t domain, uint64_t stream) {
    return (Rng){splitmix64_mix(splitmix64_mix(seed ^ domain) + stream * SPLITMIX64_GAMMA)};
}

static uint64_t rng_next(Rng *r) { return splitmix64_next(&r->s); }

/* Uniform in [0, n) (n small: the modulo bias of a 64-bit draw is negligible). */
static int rng_below(Rng *r, int n) { return (int)(rng_next(r) % (uint64_t)n); }

/* ---- decoding and the frame cache ---- */

/* HR cut to multiples of the scale (top-left kept) so LR = HR / scale exactly. */
static void trim_to_scale(Image *hr, int s) {
    int w = hr->w / s * s, h = hr->h / s * s;
    if (w == hr->w && h == hr->h) return;
    Image t = image_alloc(w, h, hr->c);
    for (int y = 0; y < h; y++) memcpy(t.px + (size_t)y * w * t.c, hr->px + (size_t)y * hr->w * hr->c, (size_t)w * t.c);
    image_free(hr);
    *hr = t;
}

static int decode_sr(const Loader *L, int i, Entry *e) {
    TRY(dataset_load_frame(L->ds, i, &e->a));
    int rc;
    if (L->ds->samples[i].lr) {
        rc = dataset_load_lr(L->ds, i, &e->a, &e->b);
    } else {
        trim_to_scale(&e->a, L->cfg.scale);
        rc = L->cfg.degrade(&e->a, L->cfg.scale, &e->b, L->cfg.degrade_ctx);
        if (rc == 0 && (e->b.w * L->cfg.scale != e->a.w || e->b.h * L->cfg.scale != e->a.h || e->b.c != 3))
            rn_die("degrade function returned %dx%dx%d for HR %dx%d at x%d", e->b.w, e->b.h, e->b.c, e->a.w, e->a.h,
                   L->cfg.scale);
    }
    if (rc == 0 && (e->b.w * L->cfg.scale < L->cfg.patch || e->b.h * L->cfg.scale < L->cfg.patch))
        rc = rn_fail("%s: HR %dx%d is smaller than the %d-pixel patch", L->ds->samples[i].frame, e->a.w, e->a.h,
                     L->cfg.patch);
    if (rc < 0) image_free(&e->a);
    if (rc < 0 && e->b.px) image_free(&e->b);
    return rc;
}

/* The whole label's map (LoaderCfg.label_mask), made before any crop so that crops share it. */
static int make_mask(const Loader *L, const Image *label, Image *m) {
    *m = image_alloc(label->w, label->h, 1);
    int rc = L->cfg.label_mask(label, m->px, L->cfg.label_mask_ctx);
    if (rc < 0) image_free(m);
    return rc;
}

static int decode_seg(const Loader *L, int i, Entry *e) {
    TRY(dataset_load_frame(L->ds, i, &e->a));
    int rc = dataset_load_label(L->ds, i, &e->a, &e->b);
    const char *f = L->ds->samples[i].frame;
    if (rc == 0 && L->cfg.patch == 0 && (e->a.w != L->out_w || e->a.h != L->out_h))
        rc = rn_fail("%s is %dx%d but whole-frame batches are %dx%d (set a crop size)", f, e->a.w, e->a.h, L->out_w,
                     L->out_h);
    if (rc == 0 && (e->a.w < L->out_w || e->a.h < L->out_h))
        rc = rn_fail("%s is %dx%d, smaller than the %dx%d crop", f, e->a.w, e->a.h, L->out_w, L->out_h);
    if (rc == 0 && L->cfg.label_mask) rc = make_mask(L, &e->b, &e->m);
    if (rc < 0) image_free(&e->a);
    if (rc < 0 && e->b.px) image_free(&e->b);
    return rc;
}

static int decode_det(const Loader *L, int i, Entry *e) {
    return dataset_load_square(L->ds, i, L->cfg.patch, &e->a, &e->boxes, &e->nboxes);
}

static int decode(const Loader *L, int i, Entry *e) {
    if (L->cfg.task == LOADER_SR) return decode_sr(L, i, e);
    return L->cfg.task == LOADER_SEG ? decode_seg(L, i, e) : decode_det(L, i, e);
}

static void entry_free(Entry *e) {
    if (!e->loaded) return;
    image_free(&e->a);
    if (e->b.px) image_free(&e->b);
    if (e->m.px) image_free(&e->m);
    free(e->boxes);
    e->boxes = NULL;
    e->loaded = false;
}

/* The decoded sample: from the cache, or decoded into the one reused entry. */
static int get_entry(Loader *L, int i, const Entry **out) {
    Entry *e = L->cache ? &L->entries[i] : &L->entries[0];
    if (!L->cache) entry_free(e);
    if (!e->loaded) {
        memset(e, 0, sizeof *e);
        TRY(decode(L, i, e));
        e->loaded = true;
        if (L->cache) L->ncached++;
    }
    *out = e;
    return 0;
}

/* ---- crops and flips ---- */

/* A crop of H x W at (x0, y0) of an image W0 wide, read through a transpose and flips: output
 * pixel (oy, ox) is source pixel base + oy*dy + ox*dx (in pixels). */
typedef struct {
    long base, dy, dx;
} View;

static View make_view(int w0, int x0, int y0, int h, int w, bool t, bool hf, bool vf) {
    /* un-transposed source row a = oy, column b = ox; transposed a = ox, b = oy (then h == w) */
    long ra = vf ? -(long)w0 : w0, rb = hf ? -1 : 1;
    long base = (long)(y0 + (vf ? h - 1 : 0)) * w0 + x0 + (hf ? w - 1 : 0);
    return t ? (View){base, rb, ra} : (View){base, ra, rb};
}

static void copy_rgb(const Loader *L, const Image *im, View v, int h, int w, float *out) {
    for (int c = 0; c < 3; c++)
        for (int oy = 0; oy < h; oy++) {
            float *o = out + ((size_t)c * h + oy) * w;
            const uint8_t *src = im->px + c;
            long p = v.base + oy * v.dy;
            for (int ox = 0; ox < w; ox++, p += v.dx) o[ox] = L->unit[src[p * 3]];
        }
}

static void copy_label(const Image *im, View v, int h, int w, uint8_t *out) {
    for (int oy = 0; oy < h; oy++) {
        long p = v.base + oy * v.dy;
        for (int ox = 0; ox < w; ox++, p += v.dx) out[(size_t)oy * w + ox] = im->px[p];
    }
}

typedef struct {
    bool t, hf, vf;
} Flips;

static Flips draw_flips(const LoaderCfg *cfg, Rng *r) {
    /* always draw all three so that switching one option off does not shift later draws */
    bool t = rng_next(r) & 1, hf = rng_next(r) & 1, vf = rng_next(r) & 1;
    return (Flips){cfg->rot90 && t, cfg->hflip && hf, cfg->vflip && vf};
}

static void item_sr(const Loader *L, const Entry *e, Rng *r, float *in, float *target) {
    int s = L->cfg.scale, lp = L->in_w, P = L->out_w;
    int lx = rng_below(r, e->b.w - lp + 1), ly = rng_below(r, e->b.h - lp + 1);
    Flips f = draw_flips(&L->cfg, r);
    copy_rgb(L, &e->b, make_view(e->b.w, lx, ly, lp, lp, f.t, f.hf, f.vf), lp, lp, in);
    copy_rgb(L, &e->a, make_view(e->a.w, lx * s, ly * s, P, P, f.t, f.hf, f.vf), P, P, target);
}

/* SEG item: one view (crop, transpose, flips) of the frame, its label and, when made, its mask. */
static void item_seg(const Loader *L, const Entry *e, Rng *r, float *in, uint8_t *label, uint8_t *mask) {
    int h = L->out_h, w = L->out_w;
    int x0 = rng_below(r, e->a.w - w + 1), y0 = rng_below(r, e->a.h - h + 1);
    Flips f = draw_flips(&L->cfg, r);
    View v = make_view(e->a.w, x0, y0, h, w, f.t, f.hf, f.vf);
    copy_rgb(L, &e->a, v, h, w, in);
    copy_label(&e->b, v, h, w, label);
    if (mask) copy_label(&e->m, v, h, w, mask);
}

/* DET item: the frame (mirrored when flip) as HR, its degraded LR, its boxes (mirrored too). The
 * LR is made from the mirrored frame, as the edge would send the mirrored scene. */
static int item_det(const Loader *L, const Entry *e, bool flip, float *in, float *target, Box *boxes, int *nboxes) {
    int P = L->out_w, lp = L->in_w;
    View v = make_view(P, 0, 0, P, P, false, flip, false);
    Image hr = image_alloc(P, P, 3), lr;
    for (int y = 0; y < P; y++)
        for (int x = 0; x < P; x++) memcpy(hr.px + ((size_t)y * P + x) * 3, e->a.px + (v.base + y * v.dy + x * v.dx) * 3, 3);
    copy_rgb(L, &e->a, v, P, P, target);
    int rc = L->cfg.degrade(&hr, L->cfg.scale, &lr, L->cfg.degrade_ctx);
    image_free(&hr);
    TRY(rc);
    if (lr.w != lp || lr.h != lp || lr.c != 3)
        rn_die("degrade function returned %dx%dx%d for HR %dx%d at x%d", lr.w, lr.h, lr.c, P, P, L->cfg.scale);
    copy_rgb(L, &lr, make_view(lp, 0, 0, lp, lp, false, false, false), lp, lp, in);
    image_free(&lr);
    for (int k = 0; k < e->nboxes; k++) {
        Box b = e->boxes[k];
        if (flip) {
            float x0 = b.x0;
            b.x0 = 1 - b.x1, b.x1 = 1 - x0;
        }
        boxes[k] = b;
    }
    *nboxes = e->nboxes;
    return 0;
}

/* Sample of stream item k: position k mod n of epoch k / n's permutation. */
static int sample_of(Loader *L, int64_t k) {
    int n = L->ds->n;
    int64_t epoch = k / n;
    if (epoch != L->perm_epoch) {
        Rng r = rng_for(L->cfg.seed, 0x5eed0e90c4ULL, (uint64_t)epoch);
        for (int i = 0; i < n; i++) L->perm[i] = i;
        for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
            int j = rng_below(&r, i + 1), t = L->perm[i];
            L->perm[i] = L->perm[j];
            L->perm[j] = t;
        }
        L->perm_epoch = epoch;
    }
    return L->perm[k % n];
}

/* DET's stream (see loader.h): sample of stream item k, from epoch k / n's permutation. */
static int det_sample_of(Loader *L, int64_t k) {
    int n = L->ds->n;
    int64_t epoch = k / n;
    if (epoch != L->perm_epoch) {
        uint64_t r = splitmix64_hash(L->cfg.seed ^ splitmix64_hash((uint64_t)epoch + 1));
        for (int i = 0; i < n; i++) L->perm[i] = i;
        for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
            r = splitmix64_hash(r);
            int j = (int)(r % (uint64_t)(i + 1)), t = L->perm[i];
            L->perm[i] = L->perm[j];
            L->perm[j] = t;
        }
        L->perm_epoch = epoch;
    }
    return L->perm[k % n];
}

/* DET's mirror of item i of batch b. */
static bool det_flip(const Loader *L, int64_t b, int i) {
    return L->cfg.hflip && (splitmix64_hash(L->cfg.seed ^ splitmix64_hash((uint64_t)b * 64 + (uint64_t)i + 0x5eed)) & 1);
}

/* Items before a shard draw from the batch's RNG without being decoded: SR and SEG items draw
 * exactly ITEM_DRAWS numbers each (crop x, crop y, three flips), whatever the frame's size. */
#define ITEM_DRAWS 5

static int fill_batch(Loader *L, int64_t b, const Batch *out) {
    int N = L->cfg.batch;
    size_t in_sz = (size_t)3 * L->in_h * L->in_w, out_sz = (size_t)L->out_h * L->out_w;
    Rng r = rng_for(L->cfg.seed, 0xc40b5ULL, (uint64_t)b);
    bool det = L->cfg.task == LOADER_DET;
    if (!det)
        for (int k = 0; k < L->first * ITEM_DRAWS; k++) rng_next(&r);
    for (int j = 0; j < L->items; j++) {
        int i = L->first + j; /* the item's place in the global batch; j its place in ours */
        const Entry *e;
        TRY(get_entry(L, det ? det_sample_of(L, b * N + i) : sample_of(L, b * N + i), &e));
        if (L->cfg.task == LOADER_SR) item_sr(L, e, &r, out->in + j * in_sz, out->target + j * 3 * out_sz);
        else if (!det) item_seg(L, e, &r, out->in + j * in_sz, out->label + j * out_sz, out->mask ? out->mask + j * out_sz : NULL);
        else
            TRY(item_det(L, e, det_flip(L, b, i), out->in + j * in_sz, out->target + j * 3 * out_sz,
                         out->boxes + (size_t)j * L->max_boxes, &out->nboxes[j]));
    }
    return 0;
}

/* ---- prefetch thread ---- */

static void *worker(void *arg) {
    Loader *L = arg;
    pthread_mutex_lock(&L->mu);
    for (;;) {
        Slot *s = NULL;
        while (!L->stop) {
            for (int k = 0; k < NSLOTS && !s; k++)
                if (L->slots[k].state == SLOT_FREE) s = &L->slots[k];
            if (s) break;
            pthread_cond_wait(&L->cv, &L->mu);
        }
        if (L->stop) break;
        s->state = SLOT_FILLING;
        s->batch = L->produce++;
        pthread_mutex_unlock(&L->mu);
        int rc = fill_batch(L, s->batch, &s->buf); /* only this thread touches the cache */
        pthread_mutex_lock(&L->mu);
        s->rc = rc;
        if (rc < 0) snprintf(s->err, sizeof s->err, "%s", rn_errmsg()); /* rn_fail's message is per thread */
        s->state = SLOT_READY;
        pthread_cond_broadcast(&L->cv);
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

static void start_worker(Loader *L) {
    for (int k = 0; k < NSLOTS; k++) L->slots[k].state = SLOT_FREE;
    L->produce = L->next;
    L->stop = false;
    if (pthread_create(&L->thread, NULL, worker, L) != 0) rn_die("cannot start the prefetch thread");
    L->running = true;
}

static void stop_worker(Loader *L) {
    if (!L->running) return;
    pthread_mutex_lock(&L->mu);
    L->stop = true;
    pthread_cond_broadcast(&L->cv);
    pthread_mutex_unlock(&L->mu);
    pthread_join(L->thread, NULL);
    L->running = false;
}

static int next_prefetched(Loader *L, const Batch *out) {
    int N = L->items;
    size_t in_n = (size_t)N * 3 * L->in_h * L->in_w, out_n = (size_t)N * L->out_h * L->out_w;
    pthread_mutex_lock(&L->mu);
    Slot *s = NULL;
    for (;;) {
        for (int k = 0; k < NSLOTS && !s; k++)
            if (L->slots[k].state == SLOT_READY && L->slots[k].batch == L->next) s = &L->slots[k];
        if (s) break;
        pthread_cond_wait(&L->cv, &L->mu);
    }
    pthread_mutex_unlock(&L->mu);
    int rc = s->rc;
    if (rc < 0) {
        rn_fail("%s", s->err);
    } else {
        memcpy(out->in, s->buf.in, in_n * sizeof *out->in);
        if (out->target) memcpy(out->target, s->buf.target, 3 * out_n * sizeof *out->target);
        if (out->label) memcpy(out->label, s->buf.label, out_n);
        if (out->mask) memcpy(out->mask, s->buf.mask, out_n);
        if (out->boxes) memcpy(out->boxes, s->buf.boxes, (size_t)N * L->max_boxes * sizeof *out->boxes);
        if (out->nboxes) memcpy(out->nboxes, s->buf.nboxes, (size_t)N * sizeof *out->nboxes);
    }
    pthread_mutex_lock(&L->mu);
    s->state = SLOT_FREE;
    pthread_cond_broadcast(&L->cv);
    pthread_mutex_unlock(&L->mu);
    return rc;
}

int loader_next(Loader *L, float *in, float *target, uint8_t *label) {
    RN_CHECK(in && (L->cfg.task == LOADER_SEG ? label != NULL : target != NULL), "loader_next needs its buffers");
    bool seg = L->cfg.task == LOADER_SEG, det = L->cfg.task == LOADER_DET;
    Batch out = {in, seg ? NULL : target, seg ? label : NULL, L->last.mask, det ? L->last.boxes : NULL,
                 det ? L->last.nboxes : NULL};
    int rc = L->cfg.prefetch ? next_prefetched(L, &out) : fill_batch(L, L->next, &out);
    if (rc == 0) L->next++;
    else if (L->cfg.prefetch) loader_seek(L, L->next); /* drop batches decoded past the failure; retry later */
    return rc;
}

/* ---- open / close ---- */

static int check_cfg(const Dataset *ds, const LoaderCfg *c) {
    if (ds->n == 0) return rn_fail("%s: empty dataset", ds->name);
    if (c->batch < 1) return rn_fail("batch size %d must be >= 1", c->batch);
    if (c->patch < 0) return rn_fail("patch size %d must be >= 0", c->patch);
    if (c->shard_items < 0 || c->shard_first < 0 || (c->shard_items && c->shard_first + c->shard_items > c->batch))
        return rn_fail("shard of items %d..%d is outside the batch of %d", c->shard_first, c->shard_first + c->shard_items,
                       c->batch);
    if (c->label_mask && c->task != LOADER_SEG) return rn_fail("a label mask is made for segmentation batches only");
    if (c->task == LOADER_SR) {
        if (c->scale < 1 || c->patch < c->scale || c->patch % c->scale)
            return rn_fail("SR patch %d must be a positive multiple of the scale %d", c->patch, c->scale);
        if (ds->scale && ds->scale != c->scale)
            return rn_fail("%s holds x%d pairs, not x%d", ds->name, ds->scale, c->scale);
        for (int i = 0; i < ds->n; i++)
            if (!ds->samples[i].lr && !c->degrade)
                return rn_fail("%s: %s has no LR image and no degrade function was given", ds->name, ds->samples[i].frame);
    } else if (c->task == LOADER_SEG) {
        for (int i = 0; i < ds->n; i++)
            if (!ds->samples[i].label) return rn_fail("%s: %s has no label map", ds->name, ds->samples[i].frame);
        if (c->rot90 && c->patch == 0) return rn_fail("rot90 needs square crops (set a crop size)");
    } else {
        if (c->scale < 1 || c->patch < c->scale || c->patch % c->scale)
            return rn_fail("detection frame side %d must be a positive multiple of the scale %d", c->patch, c->scale);
        if (c->vflip || c->rot90) return rn_fail("detection batches are mirrored left-right only");
        if (!c->degrade) return rn_fail("detection batches need a degrade function for their LR frames");
    }
    for (int i = 0; i < ds->n; i++)
        if (!ds->samples[i].frame) return rn_fail("%s: sample %d has no image", ds->name, i);
    return 0;
}

/* Sizes of the batch items, and whether every decoded frame fits in the cache budget (estimated
 * from the first frame: datasets here hold frames of one size). */
static int plan(Loader *L) {
    const LoaderCfg *c = &L->cfg;
    int w, h;
    TRY(image_probe(L->ds->samples[0].frame, &w, &h));
    if (c->task != LOADER_SEG) {
        L->out_h = L->out_w = c->patch;
        L->in_h = L->in_w = c->patch / c->scale;
    } else {
        L->out_h = L->in_h = c->patch ? c->patch : h;
        L->out_w = L->in_w = c->patch ? c->patch : w;
    }
    double per = (double)w * h * 3 + (c->task == LOADER_SR ? (double)w * h * 3 / ((double)c->scale * c->scale) : (double)w * h);
    if (c->label_mask) per += (double)w * h;                           /* the whole frame's mask */
    if (c->task == LOADER_DET) per = (double)c->patch * c->patch * 3; /* the resized frame is kept, not the file's */
    size_t budget = c->cache_bytes ? c->cache_bytes : (size_t)2 << 30;
    L->cache = per * L->ds->n <= (double)budget;
    return 0;
}

/* Buffers of one batch; with `pixels` false only the boxes and masks (the caller brings its own
 * pixels and labels). */
static Batch batch_alloc(const Loader *L, bool pixels) {
    size_t N = (size_t)L->items, in = N * 3 * L->in_h * L->in_w, out = N * L->out_h * L->out_w;
    Batch b = {0};
    if (pixels) b.in = xmalloc(in * sizeof *b.in);
    if (pixels && L->cfg.task != LOADER_SEG) b.target = xmalloc(3 * out * sizeof *b.target);
    if (pixels && L->cfg.task == LOADER_SEG) b.label = xmalloc(out);
    if (L->cfg.label_mask) b.mask = xmalloc(out);
    if (L->cfg.task == LOADER_DET) {
        b.boxes = xmalloc(N * L->max_boxes * sizeof *b.boxes);
        b.nboxes = xcalloc(N, sizeof *b.nboxes);
    }
    return b;
}

static void batch_free(Batch *b) {
    free(b->in), free(b->target), free(b->label), free(b->mask), free(b->boxes), free(b->nboxes);
    *b = (Batch){0};
}

Loader *loader_open(const Dataset *ds, const LoaderCfg *cfg) {
    if (check_cfg(ds, cfg) < 0) return NULL;
    Loader *L = xcalloc(1, sizeof *L);
    L->ds = ds;
    L->cfg = *cfg;
    L->first = cfg->shard_items ? cfg->shard_first : 0;
    L->items = cfg->shard_items ? cfg->shard_items : cfg->batch;
    pixel_unit_table(cfg->task == LOADER_DET ? PIXEL_DIV : PIXEL_MUL, L->unit);
    L->max_boxes = 1;
    for (int i = 0; i < ds->n; i++) L->max_boxes = ds->samples[i].nboxes > L->max_boxes ? ds->samples[i].nboxes : L->max_boxes;
    if (plan(L) < 0) {
        free(L);
        return NULL;
    }
    L->entries = xcalloc(L->cache ? (size_t)ds->n : 1, sizeof *L->entries);
    L->perm = xmalloc((size_t)ds->n * sizeof *L->perm);
    L->perm_epoch = -1;
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->cv, NULL);
    L->last = batch_alloc(L, false);
    if (cfg->prefetch) {
        for (int k = 0; k < NSLOTS; k++) L->slots[k].buf = batch_alloc(L, true);
        start_worker(L);
    }
    return L;
}

void loader_close(Loader *L) {
    if (!L) return;
    stop_worker(L);
    for (int i = 0; i < (L->cache ? L->ds->n : 1); i++) entry_free(&L->entries[i]);
    for (int k = 0; k < NSLOTS; k++) batch_free(&L->slots[k].buf);
    batch_free(&L->last);
    pthread_mutex_destroy(&L->mu);
    pthread_cond_destroy(&L->cv);
    free(L->entries);
    free(L->perm);
    free(L);
}

void loader_dims(const Loader *L, int *in_h, int *in_w, int *out_h, int *out_w) {
    if (in_h) *in_h = L->in_h;
    if (in_w) *in_w = L->in_w;
    if (out_h) *out_h = L->out_h;
    if (out_w) *out_w = L->out_w;
}

int64_t loader_position(const Loader *L) { return L->next; }

void loader_seek(Loader *L, int64_t batch) {
    RN_CHECK(batch >= 0, "batch %lld", (long long)batch);
    stop_worker(L);
    L->next = batch;
    if (L->cfg.prefetch) start_worker(L);
}

int loader_cached(const Loader *L) { return L->ncached; }

const uint8_t *loader_masks(const Loader *L) {
    RN_CHECK(L->last.mask, "loader_masks: the loader makes no label masks");
    return L->last.mask;
}

const Box *loader_boxes(const Loader *L, int item, int *n) {
    RN_CHECK(L->cfg.task == LOADER_DET && item >= 0 && item < L->items, "loader_boxes: item %d", item);
    *n = L->last.nboxes[item];
    return L->last.boxes + (size_t)item * L->max_boxes;
}
