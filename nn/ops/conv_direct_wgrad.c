/* conv_direct_wgrad.c: a stride-1 "same" conv's weight gradient read straight from the NCHW planes by an AVX-512 register-tile kernel. */
#include "nn/ops/conv_direct.h"

#if defined(__AVX512F__) && !defined(RUNE_DOUBLE)
#include <immintrin.h>

#include "nn/tensor.h"

/* Why this shape: dw[m, (c,i,j)] sums dy[m, p] * x[c, p shifted by (i, j)] over the pixels p. With
 * stride 1 and an output plane as wide as the input ("same" convs), the shift is one offset in the
 * flattened plane, (i*dh - ph)*W + j*dw - pw, so 16 consecutive output pixels meet 16 consecutive
 * input floats for every (c, i, j), whatever the row length; a per-(vector, i, j) lane mask zeroes
 * the lanes whose shifted pixel falls outside the plane or wraps to another row. A tile is MR
 * output channels x KR weight columns held in 24 zmm partial sums; each step loads MR vectors of dy
 * and KR of x for MR*KR FMAs. Pixels are taken in chunks that stay in L2 while every tile reads
 * them; a tile's sums are reduced and added to dw at the end of each chunk, in chunk order, so the
 * result is the same for any thread count. */
#define MR 4
#define KR 6
#define CHUNK_VECS 256
#define PREFETCH_AHEAD 128 /* floats: 8 vectors ahead on each shifted plane */

typedef struct Wg {
    const ConvGeom *g;
    int G, M, K, khw, nvec;
    const __mmask16 *masks; /* [nvec][kh*kw] */
} Wg;

static int ceil_div(int a, int b) { return (a + b - 1) / b; }


/* Pointers to the MR rows of dy and the KR shifted planes of x that tile (m0, k0) of group gi reads
 * in image n, and each column's tap (i*kw + j, its mask's index). */
static void tile_rows(const Wg *w, const float *x, const float *dy, int n, int gi, int m0, int k0,
                      const float *dp[MR], const float *xp[KR], int tap[KR]) {
    const ConvGeom *g = w->g;
    size_t P = (size_t)g->OH * g->OW, HW = (size_t)g->H * g->W;
    for (int a = 0; a < MR; a++) /* rows past M repeat row m0: summed, never stored */
        dp[a] = dy + (((size_t)n * w->G + gi) * w->M + (m0 + a < w->M ? m0 + a : m0)) * P;
    for (int q = 0; q < KR; q++) {
        int k = k0 + q < w->K ? k0 + q : k0, c = k / w->khw, i = k % w->khw / g->kw, j = k % g->kw;
        tap[q] = k % w->khw;
        xp[q] = x + (((size_t)n * w->G + gi) * g->C + c) * HW + (ptrdiff_t)(i * g->dh - g->ph) * g->W + j * g->dw -
                g->pw;
    }
}

/* One tile over images [n0, n1), vectors [v0, v1) of each plane: dw block (m0.., k0..) += the sums. */
static void tile(const Wg *w, const float *x, const float *dy, float *dw, int gi, int m0, int k0, int n0, int n1,
                 int v0, int v1) {
    size_t P = (size_t)w->g->OH * w->g->OW;
    __mmask16 tail = (__mmask16)(P % 16 ? (1u << P % 16) - 1 : 0xffff);
    __m512 acc[MR][KR];
#pragma GCC unroll 4
    for (int a = 0; a < MR; a++)
#pragma GCC unroll 6
        for (int q = 0; q < KR; q++) acc[a][q] = _mm512_setzero_ps();
    for (int n = n0; n < n1; n++) {
        const float *dp[MR], *xp[KR];
        int tap[KR];
        tile_rows(w, x, dy, n, gi, m0, k0, dp, xp, tap);
        for (int v = v0; v < v1; v++) {
            const __mmask16 *mv = w->masks + (size_t)v * w->khw;
            __mmask16 out = v == w->nvec - 1 ? tail : 0xffff;
            __m512 d[MR];
#pragma GCC unroll 4
            for (int a = 0; a < MR; a++) d[a] = _mm512_maskz_loadu_ps(out, dp[a] + 16 * v);
#pragma GCC unroll 6
            for (int q = 0; q < KR; q++) {
                _mm_prefetch((const char *)(xp[q] + 16 * v + PREFETCH_AHEAD), _MM_HINT_T0);
                __m512 b = _mm512_maskz_loadu_ps(mv[tap[q]], xp[q] + 16 * v);
#pragma GCC unroll 4
                for (int a = 0; a < MR; a++) acc[a][q] = _mm512_fmadd_ps(d[a], b, acc[a][q]);
            }
        }
    }
#pragma GCC unroll 4
    for (int a = 0; a < MR; a++)
#pragma GCC unroll 6
        for (int q = 0; q < KR; q++)
            if (m0 + a < w->M && k0 + q < w->K)
                dw[((size_t)gi * w->M + m0 + a) * w->K + k0 + q] += _mm512_reduce_add_ps(acc[a][q]);
}

/* Bias task: the sums of dy's rows m0..m0+MR over the chunk, added to the double sums bs[m]. Run in
 * the same parallel region as the chunk's tiles, so dy is read while it is in cache. */
static void bias_sums(const Wg *w, const float *dy, double *bs, int gi, int m0, int n0, int n1, int v0, int v1) {
    size_t P = (size_t)w->g->OH * w->g->OW;
    __mmask16 tail = (__mmask16)(P % 16 ? (1u << P % 16) - 1 : 0xffff);
    for (int a = 0; a < MR && m0 + a < w->M; a++) {
        __m512 s = _mm512_setzero_ps();
        for (int n = n0; n < n1; n++) {
            const float *d = dy + (((size_t)n * w->G + gi) * w->M + m0 + a) * P;
            for (int v = v0; v < v1; v++)
                s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(v == w->nvec - 1 ? tail : 0xffff, d + 16 * v));
        }
        bs[(size_t)gi * w->M + m0 + a] += _mm512_reduce_add_ps(s);
    }
}

bool conv_direct_backward_weight(const real_t *x, const real_t *dy, real_t *dw, real_t *db, const ConvGeom *g, int N,
                                 int G, int M) {
    if (!conv_direct_enabled() || g->sh != 1 || g->sw != 1 || g->OW != g->W)
        return false;
    Wg w = {.g = g, .G = G, .M = M, .K = g->C * g->kh * g->kw, .khw = g->kh * g->kw,
            .nvec = ceil_div(g->OH * g->OW, 16)};
    int nmb = ceil_div(M, MR), nkb = ceil_div(w.K, KR), tiles = G * nmb * nkb, tasks = tiles + (db ? G * nmb : 0);
    ArenaMark mark = arena_mark(engine_arena());
    __mmask16 *masks = arena_alloc(engine_arena(), (size_t)w.nvec * w.khw * sizeof *masks);
    double *bs = db ? arena_zalloc(engine_arena(), (size_t)G * M * sizeof *bs) : NULL;
    conv_direct_plane_masks(g, w.nvec, (uint16_t *)masks);
    w.masks = masks;
    /* chunks of about CHUNK_VECS vectors: several small images, or part of a large one */
    int imgs = w.nvec < CHUNK_VECS ? CHUNK_VECS / w.nvec : 1, vecs = w.nvec < CHUNK_VECS ? w.nvec : CHUNK_VECS;
    for (int n0 = 0; n0 < N; n0 += imgs)
        for (int v0 = 0; v0 < w.nvec; v0 += vecs) {
            int n1 = n0 + imgs < N ? n0 + imgs : N, v1 = v0 + vecs < w.nvec ? v0 + vecs : w.nvec;
#pragma omp parallel for schedule(static)
            for (int t = 0; t < tasks; t++) {
                if (t < tiles) tile(&w, x, dy, dw, t / (nmb * nkb), t / nkb % nmb * MR, t % nkb * KR, n0, n1, v0, v1);
                else bias_sums(&w, dy, bs, (t - tiles) / nmb, (t - tiles) % nmb * MR, n0, n1, v0, v1);
            }
        }
    for (int m = 0; db && m < G * M; m++) db[m] += (real_t)bs[m];
    arena_rewind(engine_arena(), mark);
    return true;
}

#else /* a float64 or non-AVX-512 build: always the im2col + GEMM path */

bool conv_direct_backward_weight(const real_t *x, const real_t *dy, real_t *dw, real_t *db, const ConvGeom *g, int N,
                                 int G, int M) {
    (void)x, (void)dy, (void)dw, (void)db, (void)g, (void)N, (void)G, (void)M;
    return false;
}

#endif
