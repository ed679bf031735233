/* conv_direct_s2dx.c: stride-2 convs' backward-data as one stride-1 direct conv per output parity class (sub-pixel decomposition), interleaved into dx. */
#include "nn/ops/conv_direct.h"

#include "util/env.h"

/* RUNE_S2DX=0 sends stride-2 backward-data back to im2col + GEMM (for A/B timing). */
static bool s2dx_enabled(void) {
    static int on = -1;
    return env_switch("RUNE_S2DX", &on) && conv_direct_enabled();
}

#if defined(__AVX512F__) && !defined(RUNE_DOUBLE)
#include <immintrin.h>
#include <omp.h>

#include "nn/profile.h"
#include "nn/tensor.h"

/* One axis of one parity class r of dx (indices 2t + r). The forward reads x[2*o - p + i], so
 * dx[2t + r] gets the taps i = i0 + 2a (a < n, i0 = (r + p) mod 2) from dy[t + e - a] with
 * e = (r + p - i0) / 2. Reversing the taps (a' = n-1-a) makes it a stride-1 correlation
 * out[t] = sum over a' of dy[t - pad + a'] * w[i0 + 2(n-1-a')] with pad = n - 1 - e, which can be
 * negative (the direct kernel masks by bounds, not by a padded copy, so that is fine).
 * n = 0 (a 1x1 kernel's odd class): no tap reaches the class, it is zero in dx. */
typedef struct Phase {
    int i0, n, pad, size; /* first tap, taps, padding, class length (t < size) */
} Phase;

static Phase phase(int r, int k, int p, int in) {
    Phase f = {.i0 = (r + p) % 2};
    f.n = k > f.i0 ? (k - f.i0 + 1) / 2 : 0;
    f.pad = f.n - 1 - (r + p - f.i0) / 2;
    f.size = in > r ? (in - r + 1) / 2 : 0;
    return f;
}

/* The class's weights as a stride-1 conv of dy: ws [G*C][M][fy.n][fx.n], taps reversed and the
 * roles of input and output channels swapped, from w [G*M][C][kh][kw]. Written in order. */
static void class_weights(const float *w, float *ws, const ConvGeom *g, int G, int M, Phase fy, Phase fx) {
    int C = g->C, khw = g->kh * g->kw, sub = fy.n * fx.n;
#pragma omp parallel for schedule(static) if ((size_t)G * C * M * sub > 65536)
    for (int gc = 0; gc < G * C; gc++) {
        int gi = gc / C, c = gc % C;
        float *dst = ws + (size_t)gc * M * sub;
        for (int m = 0; m < M; m++) {
            const float *src = w + (((size_t)gi * M + m) * C + c) * khw;
            for (int a = 0; a < fy.n; a++)
                for (int b = 0; b < fx.n; b++)
                    *dst++ = src[(fy.i0 + 2 * (fy.n - 1 - a)) * g->kw + fx.i0 + 2 * (fx.n - 1 - b)];
        }
    }
}

/* Lanes [0, n) of 16 (n clipped to 0..16). */
static __mmask16 first_lanes(int n) { return n <= 0 ? 0 : n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1); }

/* One dx row (W floats) from its two class rows: d[2t] = p0[t], d[2t + 1] = p1[t] (= or +=);
 * a NULL class row is zero. Two permutes make 32 interleaved floats of 16 + 16. */
static void interleave_row(float *d, const float *p0, const float *p1, int W, bool accumulate) {
    const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    int n0 = (W + 1) / 2, n1 = W / 2; /* even and odd columns */
    for (int t = 0; 2 * t < W; t += 16) {
        __m512 a = p0 ? _mm512_maskz_loadu_ps(first_lanes(n0 - t), p0 + t) : _mm512_setzero_ps();
        __m512 b = p1 ? _mm512_maskz_loadu_ps(first_lanes(n1 - t), p1 + t) : _mm512_setzero_ps();
        __m512 v0 = _mm512_permutex2var_ps(a, lo, b), v1 = _mm512_permutex2var_ps(a, hi, b);
        __mmask16 m0 = first_lanes(W - 2 * t), m1 = first_lanes(W - 2 * t - 16);
        if (accumulate) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, d + 2 * t));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, d + 2 * t + 16));
        }
        _mm512_mask_storeu_ps(d + 2 * t, m0, v0);
        _mm512_mask_storeu_ps(d + 2 * t + 16, m1, v1);
    }
}

/* dx's planes [NC][H][W] from the four class planes cls[ry][rx] ([NC][size_y][size_x], NULL = zero). */
static void interleave(float *dx, float *const cls[2][2], const Phase fy[2], const Phase fx[2], int NC, int H,
                       int W, bool accumulate) {
#pragma omp parallel for schedule(static) if ((size_t)NC * H * W > 65536)
    for (int t = 0; t < NC * H; t++) {
        int q = t / H, ih = t % H, ry = ih % 2, ty = ih / 2;
        const float *p[2];
        for (int rx = 0; rx < 2; rx++)
            p[rx] = cls[ry][rx] ? cls[ry][rx] + ((size_t)q * fy[ry].size + ty) * fx[rx].size : NULL;
        interleave_row(dx + (size_t)t * W, p[0], p[1], W, accumulate);
    }
}

/* Where the classes beat im2col + GEMM + col2im (one thread, bench/RESULTS.md 2026-11-30): dx
 * rows of 32+ columns (ResNet-18 at 480x360: the stem 1.2x, 3x3 1.4x, 1x1 1.1x faster). At 23x30
 * (class rows of 15, one vector) both 3x3 and 1x1 ran 1.3x slower: every output row re-reads the
 * class's whole packed weight (2 MB for 256->512) for only 15 pixels, where the GEMM packs it once. */
static bool worth_it(const ConvGeom *g) { return (g->W + 1) / 2 >= 16; }

bool conv_direct_backward_data_strided(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N,
                                       int G, int M, bool accumulate) {
    if (!s2dx_enabled() || g->sh != 2 || g->sw != 2 || g->dh != 1 || g->dw != 1 || g->kh > 16 || g->kw > 16 ||
        g->ph < 0 || g->pw < 0 || g->ph >= g->kh || g->pw >= g->kw || !worth_it(g))
        return false;
    Phase fy[2] = {phase(0, g->kh, g->ph, g->H), phase(1, g->kh, g->ph, g->H)};
    Phase fx[2] = {phase(0, g->kw, g->pw, g->W), phase(1, g->kw, g->pw, g->W)};
    int C = g->C, NC = N * G * C;
    ArenaMark mark = arena_mark(engine_arena());
    float *cls[2][2] = {{NULL, NULL}, {NULL, NULL}};
    for (int ry = 0; ry < 2; ry++)
        for (int rx = 0; rx < 2; rx++) {
            Phase a = fy[ry], b = fx[rx];
            if (!a.n || !b.n || !a.size || !b.size) continue; /* zero in dx, or no such pixels */
            ConvGeom s = {.C = M, .H = g->OH, .W = g->OW, .kh = a.n, .kw = b.n, .sh = 1, .sw = 1, .ph = a.pad,
                          .pw = b.pad, .dh = 1, .dw = 1, .OH = a.size, .OW = b.size};
            float *ws = arena_alloc(engine_arena(), (size_t)G * C * M * a.n * b.n * sizeof *ws);
            cls[ry][rx] = arena_alloc(engine_arena(), (size_t)NC * a.size * b.size * sizeof(float));
            class_weights(w, ws, g, G, M, a, b);
            if (!conv_direct_forward(dy, ws, NULL, cls[ry][rx], &s, N, G, C, false)) {
                arena_rewind(engine_arena(), mark); /* dx not yet touched */
                return false;
            }
        }
    double t0 = profile_clock();
    interleave(dx, cls, fy, fx, NC, g->H, g->W, accumulate);
    profile_add_since("interleave [conv dx s2]", t0);
    arena_rewind(engine_arena(), mark);
    return true;
}

#else /* a float64 or non-AVX-512 build: im2col + GEMM */

bool conv_direct_backward_data_strided(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N,
                                       int G, int M, bool accumulate) {
    (void)dy, (void)w, (void)dx, (void)g, (void)N, (void)G, (void)M, (void)accumulate, (void)s2dx_enabled;
    return false;
}

#endif
