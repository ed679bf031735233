/* loader.c: random crops + flips of dataset frames into NCHW float batches, deterministic per batch index, prefetched on a thread. */
#include "data/loader.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define NSLOTS 2 /* one batch being trained on (copied out) + one being decoded is all 2 cores can use */

typedef struct {
    Image a, b; /* SR: HR, LR. SEG: frame, label */
    bool loaded;
} Entry;

typedef enum { SLOT_FREE, SLOT_FILLING, SLOT_READY } SlotState;

typedef struct {
    SlotState state;
    int64_t batch;
    int rc;
    char err[1024];
    float *in, *target; /* [N*3*in_h*in_w], [N*3*out_h*out_w] */
    uint8_t *label;     /* [N*out_h*out_w] */
} Slot;

struct Loader {
    const Dataset *ds;
    LoaderCfg cfg;
    int in_h, in_w, out_h, out_w;
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

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s;
} Rng;

static Rng rng_for(uint64_t seed, uint64_t domain, uint64_t stream) {
    return (Rng){mix64(mix64(seed ^ domain) + stream * 0x9e3779b97f4a7c15ULL)};
}

static uint64_t rng_next(Rng *r) { return mix64(r->s += 0x9e3779b97f4a7c15ULL); }

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

static int decode_seg(const Loader *L, int i, Entry *e) {
    TRY(dataset_load_frame(L->ds, i, &e->a));
    int rc = dataset_load_label(L->ds, i, &e->a, &e->b);
    const char *f = L->ds->samples[i].frame;
    if (rc == 0 && L->cfg.patch == 0 && (e->a.w != L->out_w || e->a.h != L->out_h))
        rc = rn_fail("%s is %dx%d but whole-frame batches are %dx%d (set a crop size)", f, e->a.w, e->a.h, L->out_w,
                     L->out_h);
    if (rc == 0 && (e->a.w < L->out_w || e->a.h < L->out_h))
        rc = rn_fail("%s is %dx%d, smaller than the %dx%d crop", f, e->a.w, e->a.h, L->out_w, L->out_h);
    if (rc < 0) image_free(&e->a);
    if (rc < 0 && e->b.px) image_free(&e->b);
    return rc;
}

static void entry_free(Entry *e) {
    if (!e->loaded) return;
    image_free(&e->a);
    image_free(&e->b);
    e->loaded = false;
}

/* The decoded sample: from the cache, or decoded into the one reused entry. */
static int get_entry(Loader *L, int i, const Entry **out) {
    Entry *e = L->cache ? &L->entries[i] : &L->entries[0];
    if (!L->cache) entry_free(e);
    if (!e->loaded) {
        memset(e, 0, sizeof *e);
        TRY(L->cfg.task == LOADER_SR ? decode_sr(L, i, e) : decode_seg(L, i, e));
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

static void copy_rgb(const Image *im, View v, int h, int w, float *out) {
    const float k = 1.0f / 255.0f;
    for (int c = 0; c < 3; c++)
        for (int oy = 0; oy < h; oy++) {
            float *o = out + ((size_t)c * h + oy) * w;
            const uint8_t *src = im->px + c;
            long p = v.base + oy * v.dy;
            for (int ox = 0; ox < w; ox++, p += v.dx) o[ox] = src[p * 3] * k;
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
    copy_rgb(&e->b, make_view(e->b.w, lx, ly, lp, lp, f.t, f.hf, f.vf), lp, lp, in);
    copy_rgb(&e->a, make_view(e->a.w, lx * s, ly * s, P, P, f.t, f.hf, f.vf), P, P, target);
}

static void item_seg(const Loader *L, const Entry *e, Rng *r, float *in, uint8_t *label) {
    int h = L->out_h, w = L->out_w;
    int x0 = rng_below(r, e->a.w - w + 1), y0 = rng_below(r, e->a.h - h + 1);
    Flips f = draw_flips(&L->cfg, r);
    View v = make_view(e->a.w, x0, y0, h, w, f.t, f.hf, f.vf);
    copy_rgb(&e->a, v, h, w, in);
    copy_label(&e->b, v, h, w, label);
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

static int fill_batch(Loader *L, int64_t b, float *in, float *target, uint8_t *label) {
    int N = L->cfg.batch;
    size_t in_sz = (size_t)3 * L->in_h * L->in_w, out_sz = (size_t)L->out_h * L->out_w;
    Rng r = rng_for(L->cfg.seed, 0xc40b5ULL, (uint64_t)b);
    for (int i = 0; i < N; i++) {
        const Entry *e;
        TRY(get_entry(L, sample_of(L, b * N + i), &e));
        if (L->cfg.task == LOADER_SR) item_sr(L, e, &r, in + i * in_sz, target + i * 3 * out_sz);
        else item_seg(L, e, &r, in + i * in_sz, label + i * out_sz);
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
        int rc = fill_batch(L, s->batch, s->in, s->target, s->label); /* only this thread touches the cache */
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

static int next_prefetched(Loader *L, float *in, float *target, uint8_t *label) {
    int N = L->cfg.batch;
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
    } else if (L->cfg.task == LOADER_SR) {
        memcpy(in, s->in, in_n * sizeof *in);
        memcpy(target, s->target, 3 * out_n * sizeof *target);
    } else {
        memcpy(in, s->in, in_n * sizeof *in);
        memcpy(label, s->label, out_n);
    }
    pthread_mutex_lock(&L->mu);
    s->state = SLOT_FREE;
    pthread_cond_broadcast(&L->cv);
    pthread_mutex_unlock(&L->mu);
    return rc;
}

int loader_next(Loader *L, float *in, float *target, uint8_t *label) {
    RN_CHECK(in && (L->cfg.task == LOADER_SR ? target != NULL : label != NULL), "loader_next needs its buffers");
    int rc = L->cfg.prefetch ? next_prefetched(L, in, target, label) : fill_batch(L, L->next, in, target, label);
    if (rc == 0) L->next++;
    else if (L->cfg.prefetch) loader_seek(L, L->next); /* drop batches decoded past the failure; retry later */
    return rc;
}

/* ---- open / close ---- */

static int check_cfg(const Dataset *ds, const LoaderCfg *c) {
    if (ds->n == 0) return rn_fail("%s: empty dataset", ds->name);
    if (c->batch < 1) return rn_fail("batch size %d must be >= 1", c->batch);
    if (c->patch < 0) return rn_fail("patch size %d must be >= 0", c->patch);
    if (c->task == LOADER_SR) {
        if (c->scale < 1 || c->patch < c->scale || c->patch % c->scale)
            return rn_fail("SR patch %d must be a positive multiple of the scale %d", c->patch, c->scale);
        if (ds->scale && ds->scale != c->scale)
            return rn_fail("%s holds x%d pairs, not x%d", ds->name, ds->scale, c->scale);
        for (int i = 0; i < ds->n; i++)
            if (!ds->samples[i].lr && !c->degrade)
                return rn_fail("%s: %s has no LR image and no degrade function was given", ds->name, ds->samples[i].frame);
    } else {
        for (int i = 0; i < ds->n; i++)
            if (!ds->samples[i].label) return rn_fail("%s: %s has no label map", ds->name, ds->samples[i].frame);
        if (c->rot90 && c->patch == 0) return rn_fail("rot90 needs square crops (set a crop size)");
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
    if (c->task == LOADER_SR) {
        L->out_h = L->out_w = c->patch;
        L->in_h = L->in_w = c->patch / c->scale;
    } else {
        L->out_h = L->in_h = c->patch ? c->patch : h;
        L->out_w = L->in_w = c->patch ? c->patch : w;
    }
    double per = (double)w * h * 3 + (c->task == LOADER_SR ? (double)w * h * 3 / ((double)c->scale * c->scale) : (double)w * h);
    size_t budget = c->cache_bytes ? c->cache_bytes : (size_t)2 << 30;
    L->cache = per * L->ds->n <= (double)budget;
    return 0;
}

static void alloc_slots(Loader *L) {
    size_t N = (size_t)L->cfg.batch, in = N * 3 * L->in_h * L->in_w, out = N * L->out_h * L->out_w;
    for (int k = 0; k < NSLOTS; k++) {
        Slot *s = &L->slots[k];
        s->in = xmalloc(in * sizeof *s->in);
        if (L->cfg.task == LOADER_SR) s->target = xmalloc(3 * out * sizeof *s->target);
        else s->label = xmalloc(out);
    }
}

Loader *loader_open(const Dataset *ds, const LoaderCfg *cfg) {
    if (check_cfg(ds, cfg) < 0) return NULL;
    Loader *L = xcalloc(1, sizeof *L);
    L->ds = ds;
    L->cfg = *cfg;
    if (plan(L) < 0) {
        free(L);
        return NULL;
    }
    L->entries = xcalloc(L->cache ? (size_t)ds->n : 1, sizeof *L->entries);
    L->perm = xmalloc((size_t)ds->n * sizeof *L->perm);
    L->perm_epoch = -1;
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->cv, NULL);
    if (cfg->prefetch) {
        alloc_slots(L);
        start_worker(L);
    }
    return L;
}

void loader_close(Loader *L) {
    if (!L) return;
    stop_worker(L);
    for (int i = 0; i < (L->cache ? L->ds->n : 1); i++) entry_free(&L->entries[i]);
    for (int k = 0; k < NSLOTS; k++) {
        free(L->slots[k].in);
        free(L->slots[k].target);
        free(L->slots[k].label);
    }
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
