/* conv_direct.c: convolution (column stride 1 or 2) read straight from the NCHW planes by an AVX-512 register-tile kernel (no im2col). */
#include "nn/ops/conv_direct.h"

#include <stdlib.h>
#include <string.h>

#include "util/env.h"

static int enabled = -1;   /* -1: not yet read from RUNE_CONV */
static bool pointwise_too; /* RUNE_CONV=direct: 1x1 convs' backward-data as well (a benchmark's choice) */

bool conv_direct_enabled(void) {
    if (enabled < 0) {
        const char *e = getenv("RUNE_CONV");
        enabled = !(e && strcmp(e, "gemm") == 0);
        pointwise_too = e && strcmp(e, "direct") == 0;
    }
    return enabled;
}


bool conv_direct_set_enabled(bool on) {
    bool old = conv_direct_enabled();
    enabled = on;
    return old;
}

#if defined(__AVX512F__) && !defined(RUNE_DOUBLE)
#include <immintrin.h>
#include <omp.h>

#include "nn/tensor.h"

/* Pointwise convs' backward-data goes to GEMM unless RUNE_CONV=direct (see conv_direct.h): measured
 * on CARN-M's 1x1 shapes, the direct forward is as fast as OpenBLAS's GEMM or faster (256->64 at
 * 64x64: 22-24 vs 30-32 ms, one thread), its adjoint slower (81 vs 68 ms with dW). */
static bool skip_pointwise(const ConvGeom *g) { return conv_geom_is_pointwise(g) && !pointwise_too; }

/* Why this shape: with stride 1, the input under 16 consecutive output pixels of a row is 16
 * consecutive floats of an input row for every (c, i, j), so one masked load feeds MR output
 * channels' FMAs (the weight broadcast from a packed [K][MR] block). A tile is MR channels x NV*16
 * pixels of one output row held in MR*NV zmm accumulators (<= 24 of the 32 registers); the masks
 * zero the lanes that fall in the padding or past the row's end, so no padded copy is made. */
#define KW_MAX 16

typedef struct Plan {
    const ConvGeom *g;
    int NV, big, step, nmb; /* zmm per row; rows per full block; block rounding; blocks per group */
    bool relu;              /* max(., 0) as the outputs are stored */
} Plan;

static int imin(int a, int b) { return a < b ? a : b; }
static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* Block b's rows padded up to the plan's rounding step (its packed width). */
static int block_rows(const Plan *p, int M, int b) {
    int mr = imin(p->big, M - b * p->big);
    return ceil_div(mr, p->step) * p->step;
}

/* mask[j][v][h]: for vector v of the tile at ow0, the lanes of the h-th 16-float load (stride 2
 * reads a 32-float window per vector, stride 1 only h = 0) whose input column is inside the row and
 * whose output pixel is inside OW; st[v]: lanes inside OW (the stores). */
static void tile_masks(const ConvGeom *g, int NV, int ow0, __mmask16 mask[][4][2], __mmask16 st[4]) {
    for (int v = 0; v < NV; v++) {
        unsigned out = 0;
        for (int l = 0; l < 16; l++) out |= (unsigned)(ow0 + 16 * v + l < g->OW) << l;
        st[v] = (__mmask16)out;
        for (int j = 0; j < g->kw; j++)
            for (int h = 0; h < g->sw; h++) {
                unsigned in = 0;
                for (int l = 0; l < 16; l++) {
                    int e = 16 * h + l; /* element of the window */
                    int iw = (ow0 + 16 * v) * g->sw + e + j * g->dw - g->pw;
                    bool used = e % g->sw == 0 && ow0 + 16 * v + e / g->sw < g->OW;
                    in |= (unsigned)(used && iw >= 0 && iw < g->W) << l;
                }
                mask[j][v][h] = (__mmask16)in;
            }
    }
}

#define EVEN_LANES _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0)

/* A tile's accumulators: rows r < MR of vectors v < NV, the tile's outputs at y + r*ys + 16*v.
 * Filled from y (accumulating), or the bias, or zero; stored under the lane masks st, max(., 0)
 * first when relu. Loops of constant length over acc keep it in registers after inlining. */
static inline __attribute__((always_inline)) void acc_init(__m512 acc[][4], const float *y, size_t ys,
                                                           const __mmask16 *st, const float *bias, int mr,
                                                           bool acc_in, const int MR, const int NV) {
#pragma GCC unroll 24
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r][v] = acc_in && r < mr ? _mm512_maskz_loadu_ps(st[v], y + r * ys + 16 * v)
                        : bias && r < mr ? _mm512_set1_ps(bias[r])
                                         : _mm512_setzero_ps();
}

static inline __attribute__((always_inline)) void acc_store(__m512 acc[][4], float *y, size_t ys,
                                                            const __mmask16 *st, int mr, bool relu, const int MR,
                                                            const int NV) {
#pragma GCC unroll 24
    for (int r = 0; r < MR; r++) /* to MR, not mr: a loop of constant length keeps acc in registers */
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            if (r < mr)
                _mm512_mask_storeu_ps(y + r * ys + 16 * v, st[v],
                                      relu ? _mm512_max_ps(acc[r][v], _mm512_setzero_ps()) : acc[r][v]);
}

/* One tile: y[r, oh, ow0 + 0..16*NV) for r < mr (rows at stride ys) from the group's input x [C,H,W]
 * and packed weights wp [C*kh*kw][MR]. MR, NV and the column stride S are constants after
 * inlining, so the accumulators live in registers; stride 2 loads 32 floats per vector and keeps
 * the even ones (one permute). */
static inline __attribute__((always_inline)) void tile(const float *x, const float *wp, const float *bias,
                                                       float *y, size_t ys, int mr, const ConvGeom *g, int oh,
                                                       int ow0, __mmask16 mask[][4][2], const __mmask16 st[4],
                                                       bool acc_in, bool relu, const int MR, const int NV,
                                                       const int S, const int KW) {
    const int kw = KW ? KW : g->kw; /* 3x3 kernels get a constant: the j loop unrolls, masks stay in k registers */
    __m512 acc[24][4];
    acc_init(acc, y + ow0, ys, st, bias, mr, acc_in, MR, NV);
    size_t plane = (size_t)g->H * g->W;
    __m512i even = EVEN_LANES;
    /* with KW constant, a copy of the masks made of constant indices only: the compiler keeps it in
     * k registers instead of reloading 2*NV*S masks per input row */
    __mmask16 mk[3][4][2];
    if (KW)
#pragma GCC unroll 3
        for (int j = 0; j < 3; j++)
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
#pragma GCC unroll 2
                for (int h = 0; h < S; h++) mk[j][v][h] = mask[j][v][h];
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < g->kh; i++) {
            int ih = oh * g->sh - g->ph + i * g->dh;
            if (ih < 0 || ih >= g->H) continue; /* the row lies in the padding: adds zero */
            const float *row = x + c * plane + (size_t)ih * g->W + ow0 * S - g->pw;
            const float *wk = wp + (size_t)(c * g->kh + i) * kw * MR;
            /* the same input row two tiles on: with 64+ planes in flight the hardware prefetcher
             * loses track, and a plane too large for the caches is then read at DRAM latency */
#pragma GCC unroll 4
            for (int v = 0; v < NV * S; v++) _mm_prefetch((const char *)(row + 32 * NV * S + 16 * v), _MM_HINT_T0);
#pragma GCC unroll 3
            for (int j = 0; j < kw; j++, wk += MR) {
                __m512 b[4];
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++) {
                    const float *at = row + j * g->dw + 16 * S * v;
                    b[v] = _mm512_maskz_loadu_ps(KW ? mk[j][v][0] : mask[j][v][0], at);
                    if (S == 2)
                        b[v] = _mm512_permutex2var_ps(
                            b[v], even, _mm512_maskz_loadu_ps(KW ? mk[j][v][1] : mask[j][v][1], at + 16));
                }
#pragma GCC unroll 24
                for (int r = 0; r < MR; r++) {
                    __m512 a = _mm512_set1_ps(wk[r]);
#pragma GCC unroll 4
                    for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
                }
            }
        }
    acc_store(acc, y + ow0, ys, st, mr, relu, MR, NV);
}

/* The instantiations: MR*NV <= 24 accumulators; a block's MR is the plan's full height or its
 * remainder rounded up to the step (NV 1: 8/16/24, 2: 4/8/12, 3: 4/8, 4: 4); column stride 1 or 2. */
#define TILE_FN(MR, NV, S, KW)                                                                               \
    static void tile_##MR##_##NV##_##S##_##KW(const float *x, const float *wp, const float *bias, float *y,  \
                                              size_t ys, int mr, const ConvGeom *g, int oh, int ow0,       \
                                              __mmask16 mask[][4][2], const __mmask16 st[4], bool acc_in,  \
                                              bool relu) {                                                 \
        tile(x, wp, bias, y, ys, mr, g, oh, ow0, mask, st, acc_in, relu, MR, NV, S, KW);                    \
    }
/* KW 3 (every 3-wide kernel) or 0 (any width, read from the geometry) */
#define TILE_FNS(S, KW)                                                                                      \
    TILE_FN(8, 1, S, KW) TILE_FN(16, 1, S, KW) TILE_FN(24, 1, S, KW) TILE_FN(4, 2, S, KW) TILE_FN(8, 2, S, KW) \
    TILE_FN(12, 2, S, KW) TILE_FN(4, 3, S, KW) TILE_FN(8, 3, S, KW) TILE_FN(4, 4, S, KW)                     \
    static TileFn tile_fn_##S##_##KW(int MR, int NV) {                                                       \
        switch (NV) {                                                                                        \
        case 1: return MR == 8 ? tile_8_1_##S##_##KW : MR == 16 ? tile_16_1_##S##_##KW : tile_24_1_##S##_##KW; \
        case 2: return MR == 4 ? tile_4_2_##S##_##KW : MR == 8 ? tile_8_2_##S##_##KW : tile_12_2_##S##_##KW;   \
        case 3: return MR == 4 ? tile_4_3_##S##_##KW : tile_8_3_##S##_##KW;                                  \
        default: return tile_4_4_##S##_##KW;                                                                 \
        }                                                                                                    \
    }

typedef void (*TileFn)(const float *, const float *, const float *, float *, size_t, int, const ConvGeom *, int,
                       int, __mmask16[][4][2], const __mmask16[4], bool, bool);
TILE_FNS(1, 0)
TILE_FNS(2, 0)
TILE_FNS(1, 3)
TILE_FNS(2, 3)

static TileFn tile_fn(int MR, int NV, int S, int kw) {
    if (kw == 3) return S == 1 ? tile_fn_1_3(MR, NV) : tile_fn_2_3(MR, NV);
    return S == 1 ? tile_fn_1_0(MR, NV) : tile_fn_2_0(MR, NV);
}

static const int BIG[5] = {0, 24, 12, 8, 4}, STEP[5] = {0, 8, 4, 4, 4};

/* Cost of a plan with NV vectors per row, in half-cycles per (c, i, j) step summed over a row's
 * tiles and blocks: each step of an MRxNV tile issues MR*NV FMAs and MR + NV loads, two of either
 * per cycle. Picks the row width that wastes the fewest lanes and loads (e.g. 240 = 5 x 48). */
static long plan_cost(int NV, int M, int OW) {
    long cost = 0;
    for (int m0 = 0; m0 < M; m0 += BIG[NV]) {
        int mr = ceil_div(imin(BIG[NV], M - m0), STEP[NV]) * STEP[NV];
        cost += mr * NV > mr + NV ? mr * NV : mr + NV;
    }
    return cost * ceil_div(OW, 16 * NV);
}

static Plan make_plan(const ConvGeom *g, int M, int width) {
    Plan p = {.g = g, .NV = 1};
    for (int nv = 2; nv <= 4; nv++)
        if (plan_cost(nv, M, width) < plan_cost(p.NV, M, width)) p.NV = nv;
    p.big = BIG[p.NV], p.step = STEP[p.NV], p.nmb = ceil_div(M, p.big);
    return p;
}

/* wp for group gi, block b: [K][MRb] with rows past M zero, K in w's (c, i, j) order, each output
 * channel's row times wscale[channel] when given (BatchNorm folded in at no extra pass). */
static void pack_weights(const float *w, const float *wscale, float *wp, const Plan *p, int G, int M, int K) {
    /* one block per task, and k outer so the writes run straight through the block: ResNet's
     * 512x512x3x3 weights (9.4 MB) took 3.5 ms to pack one thread, row by row, as long as the conv */
#pragma omp parallel for schedule(static) if ((size_t)G * M * K > 65536)
    for (int t = 0; t < G * p->nmb; t++) {
        int gi = t / p->nmb, b = t % p->nmb, m0 = b * p->big, MRb = block_rows(p, M, b), mr = imin(p->big, M - m0);
        float *dst = wp + (size_t)t * K * p->big, s[24];
        const float *src = w + ((size_t)gi * M + m0) * K;
        for (int r = 0; r < MRb; r++) s[r] = r < mr ? (wscale ? wscale[(size_t)gi * M + m0 + r] : 1) : 0;
        for (int k = 0; k < K; k++)
            for (int r = 0; r < MRb; r++) dst[(size_t)k * MRb + r] = r < mr ? s[r] * src[(size_t)r * K + k] : 0;
    }
}

/* One output row oh of image n, group gi: every tile along the row, every channel block. */
static void conv_row(const float *xg, const float *wpg, const float *bias, float *yg, const Plan *p, int M, int K,
                     int oh, bool accumulate) {
    const ConvGeom *g = p->g;
    size_t ys = (size_t)g->OH * g->OW;
    __mmask16 mask[KW_MAX][4][2], st[4];
    for (int ow0 = 0; ow0 < g->OW; ow0 += 16 * p->NV) {
        tile_masks(g, p->NV, ow0, mask, st);
        for (int b = 0; b < p->nmb; b++) {
            int m0 = b * p->big, MRb = block_rows(p, M, b);
            TileFn fn = tile_fn(MRb, p->NV, g->sw, g->kw);
            fn(xg, wpg + (size_t)b * K * p->big, bias ? bias + m0 : NULL, yg + m0 * ys + (size_t)oh * g->OW, ys,
               imin(p->big, M - m0), g, oh, ow0, mask, st, accumulate, p->relu);
        }
    }
}

/* ---- the flattened plane's lane masks, for the weight gradient's tiles ---------------------- */

void conv_direct_plane_masks(const ConvGeom *g, int nvec, uint16_t *masks) {
    int P = g->OH * g->OW;
    for (int v = 0; v < nvec; v++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                unsigned bits = 0;
                for (int l = 0; l < 16; l++) {
                    int p = 16 * v + l, ih = p / g->OW - g->ph + i * g->dh, iw = p % g->OW - g->pw + j * g->dw;
                    bits |= (unsigned)(p < P && ih >= 0 && ih < g->H && iw >= 0 && iw < g->W) << l;
                }
                masks[(size_t)v * g->kh * g->kw + i * g->kw + j] = (uint16_t)bits;
            }
}

/* A pointwise conv has no neighbourhood: its [C, H, W] planes are [C, 1, H*W], one long row whose
 * tiles hold up to 4 vectors (a 16x16 plane's row held one). Taken when the batch alone keeps the
 * threads busy, since a plane is then a single task. RUNE_PW_FLAT=0 turns it off (for A/B timing). */
static bool flatten_pointwise(const ConvGeom *g, int N, int G) {
    static int on = -1;
    /* planes of equal size only: a stride-2 backward-data class (conv_direct_s2dx.c) can be a 1x1
     * unpadded conv whose output has a row more than its input */
    return env_switch("RUNE_PW_FLAT", &on) && conv_geom_is_pointwise(g) && g->OH == g->H && g->OW == g->W && g->OH > 1 &&
           N * G >= 2 * omp_get_max_threads();
}

static bool direct_forward(const real_t *x, const real_t *w, const real_t *wscale, const real_t *bias, real_t *y,
                           const ConvGeom *g, int N, int G, int M, bool accumulate, bool relu) {
    if (!conv_direct_enabled() || g->sw > 2 || g->kw > KW_MAX) return false;
    ConvGeom flat;
    if (flatten_pointwise(g, N, G)) {
        flat = *g;
        flat.H = flat.OH = 1, flat.W = flat.OW = g->H * g->W;
        g = &flat;
    }
    Plan p = make_plan(g, M, g->OW);
    p.relu = relu;
    int K = g->C * g->kh * g->kw;
    size_t xs = (size_t)g->C * g->H * g->W, ys = (size_t)M * g->OH * g->OW;
    ArenaMark mark = arena_mark(engine_arena());
    float *wp = arena_alloc(engine_arena(), (size_t)G * p.nmb * K * p.big * sizeof *wp);
    pack_weights(w, wscale, wp, &p, G, M, K);
    /* Tiles along the flattened plane (a 16x16 plane as 256 contiguous outputs) were tried for short
     * rows: a little faster on one thread, 1.5x slower on two for CARN-M's 16x16 convs; rows it is */
#pragma omp parallel for schedule(dynamic)
    for (int t = 0; t < N * G * g->OH; t++) {
        int ng = t / g->OH, gi = ng % G, oh = t % g->OH;
        conv_row(x + (size_t)ng * xs, wp + (size_t)gi * p.nmb * K * p.big, accumulate || !bias ? NULL : bias + gi * M,
                 y + (size_t)ng * ys, &p, M, K, oh, accumulate);
    }
    arena_rewind(engine_arena(), mark);
    return true;
}

bool conv_direct_forward(const real_t *x, const real_t *w, const real_t *bias, real_t *y, const ConvGeom *g, int N,
                         int G, int M, bool accumulate) {
    return direct_forward(x, w, NULL, bias, y, g, N, G, M, accumulate, false);
}

bool conv_direct_forward_fused(const real_t *x, const real_t *w, const real_t *wscale, const real_t *bias, bool relu,
                               real_t *y, const ConvGeom *g, int N, int G, int M) {
    return direct_forward(x, w, wscale, bias, y, g, N, G, M, false, relu);
}

bool conv_direct_backward_data(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N, int G,
                               int M, bool accumulate) {
    int qh = (g->kh - 1) * g->dh - g->ph, qw = (g->kw - 1) * g->dw - g->pw; /* the adjoint's padding */
    if (!conv_direct_enabled() || g->sh != 1 || g->sw != 1 || g->kw > KW_MAX || qh < 0 || qw < 0 ||
        (skip_pointwise(g) && !flatten_pointwise(g, N, G)))
        return false;
    /* dx[c, ih, iw] = sum over m, i, j of dy[m, ih + ph - i*dh, iw + pw - j*dw] * w[m, c, i, j]: a conv
     * of dy with padding q and the kernel w'[c, m, i', j'] = w[m, c, kh-1-i', kw-1-j'] */
    ConvGeom t = {.C = M, .H = g->OH, .W = g->OW, .kh = g->kh, .kw = g->kw, .sh = 1, .sw = 1, .ph = qh, .pw = qw,
                  .dh = g->dh, .dw = g->dw, .OH = g->H, .OW = g->W};
    int khw = g->kh * g->kw, C = g->C;
    ArenaMark mark = arena_mark(engine_arena());
    float *wt = arena_alloc(engine_arena(), (size_t)G * C * M * khw * sizeof *wt); /* [G*C, M*kh*kw] */
    /* written in order, one input channel per task (the reads then stride; the writes do not) */
#pragma omp parallel for schedule(static) if ((size_t)G * C * M * khw > 65536)
    for (int gc = 0; gc < G * C; gc++) {
        int gi = gc / C, c = gc % C;
        for (int m = 0; m < M; m++)
            for (int k = 0; k < khw; k++)
                wt[((size_t)gc * M + m) * khw + (khw - 1 - k)] = w[(((size_t)gi * M + m) * C + c) * khw + k];
    }
    conv_direct_forward(dy, wt, NULL, dx, &t, N, G, C, accumulate);
    arena_rewind(engine_arena(), mark);
    return true;
}

#else /* a float64 or non-AVX-512 build: always the im2col + GEMM path */

bool conv_direct_forward(const real_t *x, const real_t *w, const real_t *bias, real_t *y, const ConvGeom *g, int N,
                         int G, int M, bool accumulate) {
    (void)x, (void)w, (void)bias, (void)y, (void)g, (void)N, (void)G, (void)M, (void)accumulate;
    return false;
}

bool conv_direct_forward_fused(const real_t *x, const real_t *w, const real_t *wscale, const real_t *bias, bool relu,
                               real_t *y, const ConvGeom *g, int N, int G, int M) {
    (void)x, (void)w, (void)wscale, (void)bias, (void)relu, (void)y, (void)g, (void)N, (void)G, (void)M;
    return false;
}

bool conv_direct_backward_data(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N, int G,
                               int M, bool accumulate) {
    (void)dy, (void)w, (void)dx, (void)g, (void)N, (void)G, (void)M, (void)accumulate;
    return false;
}

#endif
