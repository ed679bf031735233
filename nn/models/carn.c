/* carn.c: CARN / CARN-M parameters (PyTorch state_dict names), initialisation and forward pass. */
#include "nn/models/carn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn/ops/ops.h"
#include "nn/profile.h"
#include "util/err.h"
#include "util/rng.h"

#define CH 64 /* feature channels, fixed by the architecture */

/* DIV2K RGB mean, as upstream's MeanShift((0.4488, 0.4371, 0.4040)). */
static const double DIV2K_MEAN[3] = {0.4488, 0.4371, 0.4040};

const char *carn_kind_name(CarnKind kind) { return kind == CARN_M ? "carn_m" : "carn"; }

/* ---- parameter declaration ------------------------------------------------------------------- */

/* Every CARN conv: stride 1, "same" padding, bias. */
static Conv add_conv(ParamSet *ps, const char *prefix, int cin, int cout, int k, int groups) {
    return conv_decl(ps, prefix, cin, cout, k, 1, k / 2, 1, groups, true);
}

static Conv add_shifter(ParamSet *ps, const char *prefix) {
    Conv c = add_conv(ps, pname("%s.shifter", prefix), 3, 3, 1, 1);
    /* frozen before finalize, so no grad buffer is attached (upstream sets requires_grad=False) */
    c.w->requires_grad = c.b->requires_grad = false;
    return c;
}

/* Residual unit `unit` of block prefix (e.g. "b1.b2"): CARN body.0/body.2 (3x3), CARN-M
 * body.0/body.2 (grouped 3x3) and body.4 (1x1). */
static void add_residual(Carn *m, Conv *r, const char *prefix) {
    int g = m->kind == CARN_M ? m->group : 1;
    r[0] = add_conv(&m->ps, pname("%s.body.0", prefix), CH, CH, 3, g);
    r[1] = add_conv(&m->ps, pname("%s.body.2", prefix), CH, CH, 3, g);
    if (m->kind == CARN_M) r[2] = add_conv(&m->ps, pname("%s.body.4", prefix), CH, CH, 1, 1);
}

/* The three 1x1 fusions "prefix.c1..c3" (prefix "" for the global ones). */
static void add_fusions(ParamSet *ps, Conv *c, const char *prefix) {
    for (int i = 0; i < 3; i++)
        c[i] = add_conv(ps, pname("%s%sc%d.body.0", prefix, *prefix ? "." : "", i + 1), CH * (i + 2), CH, 1, 1);
}

static void add_block(Carn *m, int bi) {
    CarnBlock *b = &m->blk[bi];
    char p[64];
    /* CARN-M shares one efficient residual block per cascade (bK.b1); CARN has three */
    int nunits = m->kind == CARN_M ? 1 : 3;
    for (int u = 0; u < nunits; u++) {
        snprintf(p, sizeof p, "b%d.b%d", bi + 1, u + 1);
        add_residual(m, b->r[u], p);
    }
    snprintf(p, sizeof p, "b%d", bi + 1);
    add_fusions(&m->ps, b->c, p);
}

static void add_head(Carn *m, int scale) {
    CarnHead *h = &m->head[m->nheads++];
    memset(h, 0, sizeof *h);
    h->scale = scale;
    switch (scale) {
    case 2: h->nstages = 1, h->factor[0] = 2; break;
    case 3: h->nstages = 1, h->factor[0] = 3; break;
    case 4: h->nstages = 2, h->factor[0] = h->factor[1] = 2; break;
    case 6: h->nstages = 2, h->factor[0] = 2, h->factor[1] = 3; break;
    case 8: h->nstages = 3, h->factor[0] = h->factor[1] = h->factor[2] = 2; break;
    default: rn_die("CARN has no x%d head (2, 3, 4, 6, 8)", scale);
    }
    for (int s = 0; s < h->nstages; s++) {
        char p[64];
        int f = h->factor[s];
        if (m->multi_scale) snprintf(p, sizeof p, "upsample.up%d.body.%d", scale, 3 * s);
        else snprintf(p, sizeof p, "upsample.up.body.%d", 3 * s);
        h->conv[s] = add_conv(&m->ps, p, CH, CH * f * f, 3, m->group);
    }
}

static Carn *carn_build(CarnKind kind, bool multi, const int *scales, int n) {
    RN_CHECK(n >= 1 && n <= CARN_MAX_HEADS, "1..%d heads", CARN_MAX_HEADS);
    Carn *m = xcalloc(1, sizeof *m);
    m->kind = kind;
    m->group = kind == CARN_M ? 4 : 1;
    m->multi_scale = multi;
    params_init(&m->ps);
    /* declaration order = upstream's state_dict order */
    m->sub_mean = add_shifter(&m->ps, "sub_mean");
    m->add_mean = add_shifter(&m->ps, "add_mean");
    m->entry = add_conv(&m->ps, "entry", 3, CH, 3, 1);
    for (int i = 0; i < 3; i++) add_block(m, i);
    add_fusions(&m->ps, m->c, "");
    for (int i = 0; i < n; i++) {
        RN_CHECK(!carn_has_scale(m, scales[i]), "head x%d given twice", scales[i]);
        add_head(m, scales[i]);
    }
    m->exit = add_conv(&m->ps, "exit", CH, 3, 3, 1);
    params_finalize(&m->ps);
    carn_init_weights(m, 1);
    return m;
}

Carn *carn_new(CarnKind kind, int scale) {
    static const int published[3] = {2, 3, 4};
    if (scale == 0) return carn_build(kind, true, published, 3);
    return carn_build(kind, false, &scale, 1);
}

Carn *carn_new_heads(CarnKind kind, const int *scales, int n) { return carn_build(kind, true, scales, n); }

void carn_free(Carn *m) {
    if (!m) return;
    params_free(&m->ps);
    free(m);
}

bool carn_has_scale(const Carn *m, int scale) {
    for (int i = 0; i < m->nheads; i++)
        if (m->head[i].scale == scale) return true;
    return false;
}

/* ---- initialisation ------------------------------------------------------------------------- */


static void set_shifter(Conv c, double sign) {
    memset(c.w->data, 0, 9 * sizeof(real_t));
    for (int i = 0; i < 3; i++) {
        c.w->data[i * 3 + i] = 1;
        c.b->data[i] = (real_t)(sign * DIV2K_MEAN[i]);
    }
}

void carn_init_weights(Carn *m, unsigned long long seed) {
    uint64_t s = seed;
    ParamSet *ps = &m->ps;
    for (int i = 0; i < ps->count; i++) {
        Tensor *t = ps->t[i];
        if (ps->is_buffer[i] || !t->requires_grad) continue;
        /* PyTorch's Conv2d default: weight kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in)), bias
         * U(+-1/sqrt(fan_in)) with the fan_in of its weight (the entry just before it) */
        Tensor *w = strstr(t->name, ".bias") ? ps->t[i - 1] : t;
        layers_uniform_fan_in(t, TC(w) * TH(w) * TW(w), splitmix64_next, &s);
    }
    set_shifter(m->sub_mean, -1);
    set_shifter(m->add_mean, +1);
}

void carn_set_trainable(Carn *m, bool on) {
    params_set_trainable(&m->ps, on);
    Conv sh[2] = {m->sub_mean, m->add_mean};
    for (int i = 0; i < 2; i++) {
        sh[i].w->requires_grad = sh[i].b->requires_grad = false;
        sh[i].w->grad = sh[i].b->grad = NULL;
    }
}

/* ---- forward ------------------------------------------------------------------------------- */

/* CARN: relu(conv(relu(conv(x))) + x); CARN-M: relu(conv1x1(relu(gconv(relu(gconv(x))))) + x). */
static Tensor *residual(const Carn *m, const Conv *r, Tensor *x) {
    Tensor *y = conv_relu_fwd(&r[0], x);
    if (m->kind == CARN_M) y = conv_fwd(&r[2], conv_relu_fwd(&r[1], y));
    else y = conv_fwd(&r[1], y);
    return op_add_relu(y, x);
}

/* The cascading pattern shared by blocks and the global level: unit(i, x) is the i-th residual
 * unit (or block); the 1x1 fusions see every earlier output concatenated. */
typedef Tensor *(*UnitFn)(const Carn *m, const void *ctx, int i, Tensor *x);

static Tensor *cascade(const Carn *m, const void *ctx, UnitFn unit, const Conv *c, Tensor *x) {
    Tensor *cat[4] = {x, NULL, NULL, NULL};
    Tensor *o = x;
    for (int i = 0; i < 3; i++) {
        cat[i + 1] = unit(m, ctx, i, o);
        o = conv_relu_fwd(&c[i], op_concat(cat, i + 2));
    }
    return o;
}

static Tensor *block_unit(const Carn *m, const void *ctx, int i, Tensor *x) {
    const CarnBlock *b = ctx;
    return residual(m, b->r[m->kind == CARN_M ? 0 : i], x);
}

/* Inference only: drops every activation allocated since mark except t (copied below the mark).
 * Without a tape nothing refers to those temporaries, and this keeps a tile's memory at about a
 * third of what the whole forward would hold. With grad on it returns t untouched. */
static Tensor *keep_only(Tensor *t, ArenaMark mark) {
    if (engine_grad_enabled() || t->device != DEV_CPU) return t; /* the device arena is not rewound */
    double pt = profile_begin(); /* the move: a row of its own in rune bench --breakdown */
    const real_t *src = t->data;
    int sh[4] = {TN(t), TC(t), TH(t), TW(t)};
    arena_rewind(engine_arena(), mark); /* t's memory stays readable: rewinding frees nothing */
    Tensor *k = tensor_new(sh[0], sh[1], sh[2], sh[3]);
    /* k is allocated in the order t's header and data were, from the mark on, so it starts no
     * later in the arena than t did and its header never lands on t's data: one move, in place
     * where they overlap (the output of the last head stage is 44 MB at 480x360; a copy out and
     * back through fresh malloc'd pages cost more than the pixel shuffle itself) */
    size_t n = tensor_numel(k);
    if ((size_t)(src - k->data) >= n) { /* apart (as every move here measured so far): both threads copy */
#pragma omp parallel for schedule(static) if (n > 262144)
        for (size_t b = 0; b < n; b += 65536) memcpy(k->data + b, src + b, (n - b < 65536 ? n - b : 65536) * sizeof(real_t));
    } else {
        memmove(k->data, src, n * sizeof(real_t));
    }
    profile_end(PROF_FWD, "carn keep_only (move down, rewind)", pt);
    return k;
}

static Tensor *global_unit(const Carn *m, const void *ctx, int i, Tensor *x) {
    (void)ctx;
    ArenaMark mark = arena_mark(engine_arena());
    return keep_only(cascade(m, &m->blk[i], block_unit, m->blk[i].c, x), mark);
}

static const CarnHead *find_head(const Carn *m, int scale) {
    for (int i = 0; i < m->nheads; i++)
        if (m->head[i].scale == scale) return &m->head[i];
    rn_die("this %s model has no x%d head", carn_kind_name(m->kind), scale);
}

Tensor *carn_forward(Carn *m, Tensor *lr, int scale) {
    const CarnHead *h = find_head(m, scale);
    RN_CHECK(TC(lr) == 3, "CARN wants RGB input, got %d channels", TC(lr));
    Tensor *x = conv_fwd(&m->sub_mean, lr);
    x = conv_fwd(&m->entry, x);
    x = cascade(m, NULL, global_unit, m->c, x);
    for (int s = 0; s < h->nstages; s++) {
        ArenaMark mark = arena_mark(engine_arena());
        x = keep_only(op_pixel_shuffle(conv_relu_fwd(&h->conv[s], x), h->factor[s]), mark);
    }
    ArenaMark mark = arena_mark(engine_arena());
    return keep_only(conv_fwd(&m->add_mean, conv_fwd(&m->exit, x)), mark);
}

int carn_receptive_radius(const Carn *m, int scale) {
    const CarnHead *h = find_head(m, scale);
    /* 3x3 convs at LR: entry + 2 per residual unit x 3 units x 3 blocks; each head stage's conv
     * and the exit conv run at finer grids and add at most one LR pixel each */
    return 1 + 18 + h->nstages + 1;
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

void carn_attrs(const Carn *m, CkptAttrs *at) {
    char heads[64] = "";
    for (int i = 0; i < m->nheads; i++) {
        size_t len = strlen(heads);
        snprintf(heads + len, sizeof heads - len, "%s%d", i ? "," : "", m->head[i].scale);
    }
    attrs_set_str(at, "model", carn_kind_name(m->kind));
    attrs_set_int(at, "group", m->group);
    attrs_set_int(at, "multi_scale", m->multi_scale);
    attrs_set_str(at, "heads", heads);
    if (!m->multi_scale) attrs_set_int(at, "scale", m->head[0].scale);
}

int carn_save(const char *path, const Carn *m, CkptAttrs *extra) {
    CkptAttrs at = {0};
    if (extra) at = *extra;
    carn_attrs(m, &at);
    return ckpt_save(path, &m->ps, &at, NULL);
}

static int parse_kind(const char *path, const char *model, CarnKind *kind) {
    if (!strcasecmp(model, "carn_m") || !strcasecmp(model, "carn-m")) *kind = CARN_M;
    else if (!strcasecmp(model, "carn")) *kind = CARN_FULL;
    else return rn_fail("%s: checkpoint of model '%s', not CARN / CARN-M", path, model);
    return 0;
}

static int parse_heads(const char *path, const char *s, int *scales, int *n) {
    *n = 0;
    for (const char *p = s; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || *n == CARN_MAX_HEADS || (v != 2 && v != 3 && v != 4 && v != 6 && v != 8))
            return rn_fail("%s: bad CARN heads attribute '%s' (want e.g. \"2,3,4\")", path, s);
        scales[(*n)++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    if (*n == 0) return rn_fail("%s: empty CARN heads attribute", path);
    return 0;
}

static Carn *build_from_attrs(const char *path, const CkptAttrs *at, CarnKind kind) {
    const char *heads = attrs_get_str(at, "heads", NULL);
    if (!heads) return carn_new(kind, 0); /* the published layout: multi-scale x2/x3/x4 */
    int scales[CARN_MAX_HEADS], n;
    if (parse_heads(path, heads, scales, &n) < 0) return NULL;
    if (!attrs_get_int(at, "multi_scale", 1)) {
        if (n != 1) return rn_fail("%s: single-scale CARN with %d heads", path, n), NULL;
        return carn_new(kind, scales[0]);
    }
    return carn_new_heads(kind, scales, n);
}

int carn_load(const char *path, Carn **out, CkptAttrs *at_out) {
    CkptAttrs at = {0};
    *out = NULL;
    TRY(ckpt_read_attrs(path, &at));
    const char *model = attrs_get_str(&at, "model", NULL);
    if (!model) return rn_fail("%s: no 'model' attribute; not a CARN checkpoint (import .pth files with rune import)", path);
    CarnKind kind = CARN_M;
    TRY(parse_kind(path, model, &kind));
    Carn *m = build_from_attrs(path, &at, kind);
    if (!m) return -1;
    if (ckpt_load(path, &m->ps, &at, NULL) < 0) {
        carn_free(m);
        return -1;
    }
    if (at_out) *at_out = at;
    *out = m;
    return 0;
}

int carn_copy_matching(Carn *dst, const Carn *src) {
    int copied = 0;
    for (int i = 0; i < src->ps.count; i++) {
        const Tensor *s = src->ps.t[i];
        Tensor *d = params_find(&dst->ps, s->name);
        if (!d || !tensor_same_shape(d, s)) continue;
        memcpy(d->data, s->data, tensor_numel(s) * sizeof(real_t));
        copied++;
    }
    return copied;
}

/* ---- tiled inference --------------------------------------------------------------------------- */

/* LR tile [y0,y0+th) x [x0,x0+tw) with context: crop [cy0,cy1) x [cx0,cx1) of lr into a tensor. */
static Tensor *crop_lr(const real_t *lr, int h, int w, int cy0, int cy1, int cx0, int cx1) {
    Tensor *t = tensor_new(1, 3, cy1 - cy0, cx1 - cx0);
    for (int c = 0; c < 3; c++)
        for (int y = cy0; y < cy1; y++)
            memcpy(t->data + ((size_t)c * (cy1 - cy0) + (y - cy0)) * (cx1 - cx0),
                   lr + ((size_t)c * h + y) * w + cx0, (size_t)(cx1 - cx0) * sizeof(real_t));
    return t;
}

/* Start of the context window of length len (<= n) around a tile starting at t0: pad before the
 * tile, shifted inward at the image borders rather than shrunk. Every tile then runs on an input
 * of the same size, so each tile makes the same arena allocations and memory stays flat. */
static int window_start(int t0, int pad, int len, int n) {
    int c0 = t0 - pad < 0 ? 0 : t0 - pad;
    return c0 > n - len ? n - len : c0;
}

static void run_tile(Carn *m, const real_t *lr, int h, int w, int s, int y0, int x0, int th, int tw, int pad,
                     int tile, CarnTileFn emit, void *ctx) {
    int ch = tile + 2 * pad < h ? tile + 2 * pad : h, cw = tile + 2 * pad < w ? tile + 2 * pad : w;
    int cy0 = window_start(y0, pad, ch, h), cy1 = cy0 + ch;
    int cx0 = window_start(x0, pad, cw, w), cx1 = cx0 + cw;
    /* the crop is cut on the host and goes to the model's device; the result comes back for emit */
    Tensor *x = tensor_on(crop_lr(lr, h, w, cy0, cy1, cx0, cx1), m->ps.device);
    const Tensor *sr = tensor_host(carn_forward(m, x, s)); /* [1,3,(cy1-cy0)s,(cx1-cx0)s] */
    int oh = th * s, ow = tw * s, oy = (y0 - cy0) * s, ox = (x0 - cx0) * s;
    real_t *valid = arena_alloc(engine_arena(), (size_t)3 * oh * ow * sizeof(real_t)); /* [3,oh,ow] */
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < oh; y++)
            memcpy(valid + ((size_t)c * oh + y) * ow, sr->data + ((size_t)c * TH(sr) + oy + y) * TW(sr) + ox,
                   (size_t)ow * sizeof(real_t));
    emit(ctx, valid, oh, ow, y0 * s, x0 * s);
}

void carn_upscale_tiled(Carn *m, const real_t *lr, int h, int w, int scale, int tile, int pad,
                        CarnTileFn emit, void *ctx) {
    RN_CHECK(tile > 0 && h > 0 && w > 0, "tile %d, image %dx%d", tile, w, h);
    if (pad < 0) pad = carn_receptive_radius(m, scale) + 2;
    bool old = engine_set_grad(false);
    for (int y0 = 0; y0 < h; y0 += tile)
        for (int x0 = 0; x0 < w; x0 += tile) {
            EngineMark mk = engine_mark(); /* host and device: each tile's activations die with it */
            int th = y0 + tile > h ? h - y0 : tile, tw = x0 + tile > w ? w - x0 : tile;
            run_tile(m, lr, h, w, scale, y0, x0, th, tw, pad, tile, emit, ctx);
            engine_rewind(mk);
        }
    engine_set_grad(old);
}

typedef struct {
    real_t *out;
    int H, W;
} BufCtx;

static void emit_buf(void *ctx, const real_t *sr, int th, int tw, int y0, int x0) {
    BufCtx *b = ctx;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < th; y++)
            memcpy(b->out + ((size_t)c * b->H + y0 + y) * b->W + x0, sr + ((size_t)c * th + y) * tw,
                   (size_t)tw * sizeof(real_t));
}

void carn_upscale_tiled_buf(Carn *m, const real_t *lr, int h, int w, int scale, int tile, int pad,
                            real_t *out) {
    BufCtx b = {out, h * scale, w * scale};
    carn_upscale_tiled(m, lr, h, w, scale, tile, pad, emit_buf, &b);
}
