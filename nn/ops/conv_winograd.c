/* conv_winograd.c: stride-1 3x3 convolutions by Winograd F(4x4, 3x3) (Lavin & Gray 2016) with AVX-512 transforms and GEMM kernel. */
#include "nn/ops/conv_winograd.h"

#include <stdlib.h>
#include <string.h>

#include "util/env.h"

static int enabled = -1; /* -1: not yet read from RUNE_WINOGRAD */

bool conv_winograd_enabled(void) { return env_switch("RUNE_WINOGRAD", &enabled); }

bool conv_winograd_set_enabled(bool on) {
    bool old = conv_winograd_enabled();
    enabled = on;
    return old;
}

#if defined(__AVX512F__) && !defined(RUNE_DOUBLE)
#include <immintrin.h>
#include <omp.h>

#include "nn/tensor.h"

/* The algorithm, per image and channel pair: each 4x4 block of outputs (a tile) comes from the 6x6
 * input window under it as Y = A^T [(G g G^T) . (B^T d B)] A, with Lavin's matrices for the points
 * 0, +-1, +-2, oo:
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * Summed over input channels, the elementwise product becomes 36 independent GEMMs (one per
 * transform point p): Mt[p] (M x tiles) = U[p] (M x C) * V[p] (C x tiles). The multiplies per
 * output and input channel drop from 9 to 36/16; the transforms are additions and cost O(C + M),
 * not O(C * M), per tile, so the saving is largest for many channels.
 *
 * Layout: a vector holds 16 tiles (the SIMD lanes), a block NV vectors. For each block the input
 * transform writes V [36][C][16*NV] (sized to stay in L2), then for each block of MR output
 * channels the kernel multiplies the 36 points into Mt [36][MR][16*NV] and the output transform
 * turns those into 4x4 outputs straight into y (with bias and ReLU). The weights are transformed
 * once per call into U [M/MR][36][C][MR], in the order the kernel broadcasts them. */

enum { NPT = 36 }; /* transform points: 6x6 */

/* Up to 16 tiles in the lanes of one vector: tile row th0 (+ l / width for rows > 1), tile column
 * tw0 + l % width, for l < rows * width. A tile row of 16 tiles or more is cut into vectors of one
 * row (its input is then one stretch of each input row, read with plain loads); shorter tile rows
 * (small planes) are packed several to a vector and read with gathers. */
typedef struct Vec {
    int n, th0, tw0, rows, width;
} Vec;

typedef struct Plan {
    const ConvGeom *g;
    int M, TH, TW, nvec, NV, T, MR, nmb, nblk; /* T = 16*NV tiles per block; nmb blocks of MR channels */
    int xc, yc; /* channels per image of x and y: G*C and G*M (a group's C and M are a slice of them) */
    Vec *vecs;
    const float *bias;
    bool relu, accumulate, flip; /* flip: backward-data's kernel (U's layout follows) */
} Plan;

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }
static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* Lanes [lo, hi) clipped to a vector's 16. */
static __mmask16 range_mask(int lo, int hi) {
    lo = imax(lo, 0), hi = imin(hi, 16);
    return hi > lo ? (__mmask16)(((1u << (hi - lo)) - 1) << lo) : 0;
}

/* ---- the 1-D transforms, on 16 tiles at a time -------------------------------------------- */

/* o = B^T d (6 -> 6), shared differences first: 12 adds and FMAs instead of 36 multiply-adds. */
static inline __attribute__((always_inline)) void bt6(const __m512 d[6], __m512 o[6]) {
    const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), five = _mm512_set1_ps(5);
    __m512 s34 = _mm512_add_ps(d[3], d[4]), s12 = _mm512_add_ps(d[1], d[2]);
    __m512 d43 = _mm512_sub_ps(d[4], d[3]), d12 = _mm512_sub_ps(d[1], d[2]);
    __m512 d42 = _mm512_sub_ps(d[4], d[2]), d31 = _mm512_sub_ps(d[3], d[1]);
    o[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4])); /* 4d0 - 5d2 + d4 */
    o[1] = _mm512_fnmadd_ps(four, s12, s34);                                /* -4d1 - 4d2 + d3 + d4 */
    o[2] = _mm512_fmadd_ps(four, d12, d43);                                 /* 4d1 - 4d2 - d3 + d4 */
    o[3] = _mm512_fmadd_ps(two, d31, d42);                                  /* -2d1 - d2 + 2d3 + d4 */
    o[4] = _mm512_fnmadd_ps(two, d31, d42);                                 /* 2d1 - d2 - 2d3 + d4 */
    o[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5])); /* 4d1 - 5d3 + d5 */
}

/* o = A^T m (6 -> 4). */
static inline __attribute__((always_inline)) void at6(const __m512 m[6], __m512 o[4]) {
    __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
    __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
    o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
    o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2), d34, d12);
    o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4), s34, s12);
    o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8), d34, d12), m[5]);
}

/* o = G g (3 -> 6). */
static inline __attribute__((always_inline)) void g3(__m512 a, __m512 b, __m512 c, __m512 o[6]) {
    __m512 ac = _mm512_add_ps(a, c), q = _mm512_fmadd_ps(a, _mm512_set1_ps(1.0f / 24), _mm512_mul_ps(c, _mm512_set1_ps(1.0f / 6)));
    __m512 b12 = _mm512_mul_ps(b, _mm512_set1_ps(1.0f / 12));
    o[0] = _mm512_mul_ps(a, _mm512_set1_ps(0.25f));
    o[1] = _mm512_mul_ps(_mm512_add_ps(ac, b), _mm512_set1_ps(-1.0f / 6));
    o[2] = _mm512_mul_ps(_mm512_sub_ps(ac, b), _mm512_set1_ps(-1.0f / 6));
    o[3] = _mm512_add_ps(q, b12);
    o[4] = _mm512_sub_ps(q, b12);
    o[5] = c;
}

/* ---- weight transform ------------------------------------------------------------------- */

/* Where the kernels are: forward, g[k] of output channel m and input channel c at w[m*C*9 + c*9 + k];
 * backward-data (flip), the conv's output channel o = the layer's input channel and its input
 * channel i = the layer's output channel, g[k] at w[i*O*9 + o*9 + 8 - k] (O output channels here):
 * the flipped, transposed kernel read in place. Either way 16 kernels side by side along the
 * contiguous index are 144 consecutive floats, the weight transform's unit. */
typedef struct Kernel {
    const float *w, *wscale; /* wscale [M] or NULL: each output channel's kernel times it */
    int C, M;
    bool flip;
} Kernel;

/* U's layout per transform point for a chunk of cc input channels: forward, [cc/16][MR][16] (lanes
 * = 16 input channels of one output channel, as transformed); backward, [cc][MR] (lanes = output
 * channels). Floats per point, a whole number of 64-byte lines. */
static size_t u_point(bool flip, int MR, int cc) {
    return flip ? ((size_t)cc * MR + 15) / 16 * 16 : (size_t)ceil_div(cc, 16) * 16 * MR;
}

/* The 9 taps of 16 consecutive 3x3 kernels (144 floats at src, the first n of them read, the rest
 * zero): tap j of kernel l into lane l of g[j]. A gather would do it in 9 instructions but cost
 * 3x more here (26 cycles each on this machine); 5 permutes and 4 blends per tap instead. */
static inline __attribute__((always_inline)) void taps16(const float *src, int n, const float *next,
                                                         const __mmask16 sel[9][5], __m512 g[9]) {
    __m512 z[10];
    for (int q = 0; q < 9; q++) z[q] = _mm512_maskz_loadu_ps(range_mask(0, 9 * n - 16 * q), src + 16 * q);
    /* the group after next: the weights come from memory (9.4 MB for 512 -> 512), and without this
     * the loads' latency made the transform 2x slower (1 thread, 12x15 plane) */
    for (int q = 0; q < 9; q++) _mm_prefetch((const char *)(next + 16 * q), _MM_HINT_T0);
    z[9] = _mm512_setzero_ps();
    const __m512i nine = _mm512_set_epi32(135, 126, 117, 108, 99, 90, 81, 72, 63, 54, 45, 36, 27, 18, 9, 0);
    for (int j = 0; j < 9; j++) {
        __m512i idx = _mm512_add_epi32(nine, _mm512_set1_epi32(j)); /* element 9l + j; the permutes use its low 5 bits */
        __m512 r = _mm512_permutex2var_ps(z[0], idx, z[1]);
        for (int a = 1; a < 5; a++) r = _mm512_mask_mov_ps(r, sel[j][a], _mm512_permutex2var_ps(z[2 * a], idx, z[2 * a + 1]));
        g[j] = r;
    }
}

/* sel[j][a]: the lanes l whose element 9l + j lies in registers 2a, 2a+1 of taps16. */
static void taps_select(__mmask16 sel[9][5]) {
    for (int j = 0; j < 9; j++)
        for (int a = 0; a < 5; a++) {
            unsigned bits = 0;
            for (int l = 0; l < 16; l++) bits |= (unsigned)((9 * l + j) / 32 == a) << l;
            sel[j][a] = (__mmask16)bits;
        }
}

/* u[36] = G g G^T for the 16 kernels in the lanes of g[9] (taps in row-major order). */
static inline __attribute__((always_inline)) void kernel_transform(const __m512 g[9], __m512 u[36]) {
    __m512 t[6][3];
    for (int j = 0; j < 3; j++) { /* columns: t = G g */
        __m512 o[6];
        g3(g[j], g[3 + j], g[6 + j], o);
        for (int a = 0; a < 6; a++) t[a][j] = o[a];
    }
    for (int a = 0; a < 6; a++) g3(t[a][0], t[a][1], t[a][2], u + 6 * a); /* rows: U = t G^T */
}

/* U [36][u_point] for output channels mb*MR + r (rows past M zero) and input channels [c0, c1). */
static void weights_block(const Kernel *k, int MR, int mb, int c0, int c1, float *U) {
    __mmask16 sel[9][5];
    taps_select(sel);
    int m0 = mb * MR, mr = imin(MR, k->M - m0);
    size_t ps = u_point(k->flip, MR, c1 - c0);
    __m512 g[9], f[9], u[36];
    if (k->flip) { /* lanes: the MR output channels, contiguous for a fixed input channel */
        __m512 scale = k->wscale ? _mm512_maskz_loadu_ps(range_mask(0, mr), k->wscale + m0) : _mm512_set1_ps(1);
        for (int c = c0; c < c1; c++) {
            const float *src = k->w + ((size_t)c * k->M + m0) * 9;
            taps16(src, mr, src + (size_t)2 * k->M * 9, sel, f);
            for (int j = 0; j < 9; j++) g[j] = _mm512_mul_ps(scale, f[8 - j]);
            kernel_transform(g, u);
            for (int q = 0; q < NPT; q++) _mm512_mask_storeu_ps(U + q * ps + (size_t)(c - c0) * MR, range_mask(0, MR), u[q]);
        }
        return;
    }
    for (int r = 0; r < MR; r++) /* lanes: 16 input channels, contiguous for a fixed output channel */
        for (int cg = c0; cg < c1; cg += 16) {
            float *dst = U + (size_t)(cg - c0) * MR + (size_t)r * 16;
            if (r >= mr) {
                for (int q = 0; q < NPT; q++) _mm512_store_ps(dst + q * ps, _mm512_setzero_ps());
                continue;
            }
            const float *src = k->w + ((size_t)(m0 + r) * k->C + cg) * 9;
            taps16(src, imin(16, c1 - cg), src + 2 * 144, sel, g);
            if (k->wscale)
                for (int j = 0; j < 9; j++) g[j] = _mm512_mul_ps(_mm512_set1_ps(k->wscale[m0 + r]), g[j]);
            kernel_transform(g, u);
            for (int q = 0; q < NPT; q++) _mm512_store_ps(dst + q * ps, u[q]);
        }
}

/* All of U: [M/MR][36][u_point(C)]. */
static void transform_weights(const Kernel *k, int MR, int nmb, float *U) {
    size_t per = NPT * u_point(k->flip, MR, k->C);
#pragma omp parallel for schedule(static) if ((size_t)k->M * k->C > 4096)
    for (int mb = 0; mb < nmb; mb++) weights_block(k, MR, mb, 0, k->C, U + (size_t)mb * per);
}

/* ---- input transform -------------------------------------------------------------------- */

/* The last two stages of V = B^T d B for one vector of tiles: h[r] = the 6 rows already transformed
 * along their columns (d B); the columns of h transformed (B^T h) and stored as the 36 points, each
 * 16 floats at dst + p*pstride. */
static inline __attribute__((always_inline)) void finish_input(__m512 h[6][6], float *dst, size_t pstride) {
    for (int s = 0; s < 6; s++) {
        __m512 col[6], o[6];
        for (int r = 0; r < 6; r++) col[r] = h[r][s];
        bt6(col, o);
        for (int r = 0; r < 6; r++) _mm512_store_ps(dst + (size_t)(r * 6 + s) * pstride, o[r]);
    }
}

/* Element k, k+4, k+8, ... of the 64 floats a0|a1|a2|a3: the windows of 16 consecutive tiles start
 * every 4 columns, so column k of every window is one phase of the row (two permutes and a blend). */
static inline __attribute__((always_inline)) __m512 phase(__m512 a0, __m512 a1, __m512 a2, __m512 a3, int k) {
    const __m512i lo = _mm512_set_epi32(28, 24, 20, 16, 12, 8, 4, 0, 28, 24, 20, 16, 12, 8, 4, 0);
    __m512i ix = _mm512_add_epi32(lo, _mm512_set1_epi32(k));
    __m512 first = _mm512_permutex2var_ps(a0, ix, a1), second = _mm512_permutex2var_ps(a2, ix, a3);
    return _mm512_mask_blend_ps(0xff00, first, second);
}

/* One row of 16 consecutive tiles of one tile row: the windows' 6 columns from 66 consecutive floats
 * of the input row starting at column iw0 (lanes outside the row masked to zero: the padding). */
static inline __attribute__((always_inline)) void row_contig(const float *row, const __mmask16 m[5], __m512 d[6]) {
    __m512 a0 = _mm512_maskz_loadu_ps(m[0], row), a1 = _mm512_maskz_loadu_ps(m[1], row + 16);
    __m512 a2 = _mm512_maskz_loadu_ps(m[2], row + 32), a3 = _mm512_maskz_loadu_ps(m[3], row + 48);
    __m512i e64 = _mm512_castps_si512(_mm512_maskz_loadu_ps(m[4], row + 64)); /* columns 64, 65 in lanes 0, 1 */
    for (int k = 0; k < 4; k++) d[k] = phase(a0, a1, a2, a3, k);
    /* columns 4 and 5 of window l are columns 0 and 1 of window l + 1: shift down one lane */
    d[4] = _mm512_castsi512_ps(_mm512_alignr_epi32(e64, _mm512_castps_si512(d[0]), 1));
    d[5] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_alignr_epi32(e64, e64, 1), _mm512_castps_si512(d[1]), 1));
}

/* Where a vector's lanes read: input offset of each window's top-left (row * W + column, may be
 * negative in the padding) and the lanes whose window row r / column s lies inside the plane. */
typedef struct Lanes {
    int base[16];
    __mmask16 rowok[6], colok[6], contig[5]; /* contig: row_contig's load masks */
    int iw0;                                 /* contiguous vectors: first window's column */
} Lanes;

static void lane_info(const ConvGeom *g, const Vec *v, Lanes *L) {
    unsigned rok[6] = {0}, cok[6] = {0};
    for (int l = 0; l < 16; l++) {
        L->base[l] = 0;
        if (l >= v->rows * v->width) continue;
        int ih0 = 4 * (v->th0 + l / v->width) - g->ph, iw0 = 4 * (v->tw0 + l % v->width) - g->pw;
        L->base[l] = ih0 * g->W + iw0;
        for (int r = 0; r < 6; r++) rok[r] |= (unsigned)(ih0 + r >= 0 && ih0 + r < g->H) << l;
        for (int s = 0; s < 6; s++) cok[s] |= (unsigned)(iw0 + s >= 0 && iw0 + s < g->W) << l;
    }
    for (int k = 0; k < 6; k++) L->rowok[k] = (__mmask16)rok[k], L->colok[k] = (__mmask16)cok[k];
    L->iw0 = 4 * v->tw0 - g->pw;
    for (int q = 0; q < 4; q++) L->contig[q] = range_mask(-L->iw0 - 16 * q, g->W - L->iw0 - 16 * q);
    L->contig[4] = range_mask(-L->iw0 - 64, g->W - L->iw0 - 64) & 3;
}

/* V's 36 points of one vector and channel from the input plane (dst: this vector's lanes of point 0). */
static void input_vector(const float *plane, const ConvGeom *g, const Vec *v, const Lanes *L, float *dst,
                         size_t pstride) {
    __m512 h[6][6];
    for (int r = 0; r < 6; r++) {
        __m512 d[6];
        if (v->rows == 1) {
            int ih = 4 * v->th0 - g->ph + r;
            if (ih < 0 || ih >= g->H) {
                for (int s = 0; s < 6; s++) h[r][s] = _mm512_setzero_ps();
                continue;
            }
            row_contig(plane + (ptrdiff_t)ih * g->W + L->iw0, L->contig, d);
        } else {
            __m512i at = _mm512_add_epi32(_mm512_loadu_si512(L->base), _mm512_set1_epi32(r * g->W));
            for (int s = 0; s < 6; s++)
                d[s] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), L->rowok[r] & L->colok[s],
                                                _mm512_add_epi32(at, _mm512_set1_epi32(s)), plane, 4);
        }
        bt6(d, h[r]);
    }
    finish_input(h, dst, pstride);
}

/* V [36][C][T] of block b for channels [c0, c1); vectors past the last are zero. */
static void transform_block(const Plan *p, int b, const float *x, float *V, int c0, int c1) {
    const ConvGeom *g = p->g;
    size_t plane = (size_t)g->H * g->W, pstride = (size_t)g->C * p->T;
    for (int vi = 0; vi < p->NV; vi++) {
        int k = b * p->NV + vi;
        if (k >= p->nvec) {
            for (int c = c0; c < c1; c++)
                for (int q = 0; q < NPT; q++) _mm512_store_ps(V + q * pstride + (size_t)c * p->T + 16 * vi, _mm512_setzero_ps());
            continue;
        }
        const Vec *v = &p->vecs[k];
        Lanes L;
        lane_info(g, v, &L);
        for (int c = c0; c < c1; c++)
            input_vector(x + ((size_t)v->n * p->xc + c) * plane, g, v, &L, V + (size_t)c * p->T + 16 * vi, pstride);
    }
}

/* ---- the 36 GEMMs ----------------------------------------------------------------------- */

/* Mt [MR][T] (+)= U_p^T V_p [C][T] for one point: MR x NV accumulators (<= 24 zmm), one weight
 * broadcast feeding NV FMAs and one vector of V feeding MR. U_p is [C][MR] (backward-data's layout)
 * or, RC, [C/16][MR][16] (the forward's); in both each broadcast's offset is a constant. */
static inline __attribute__((always_inline)) void gemm_point(const float *u, const float *v, float *mt, int C,
                                                             bool acc_in, const int MR, const int NV,
                                                             const bool RC) {
    __m512 acc[16][4];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++)
            acc[r][j] = acc_in ? _mm512_load_ps(mt + (size_t)r * 16 * NV + 16 * j) : _mm512_setzero_ps();
    for (int c0 = 0; c0 < C; c0 += 16) {
        int n = imin(16, C - c0);
        for (int c = 0; c < n; c++, v += 16 * NV) {
            const float *uc = RC ? u + c : u + c * MR;
            __m512 b[4];
#pragma GCC unroll 4
            for (int j = 0; j < NV; j++) b[j] = _mm512_load_ps(v + 16 * j);
#pragma GCC unroll 16
            for (int r = 0; r < MR; r++) {
                __m512 a = _mm512_set1_ps(uc[RC ? 16 * r : r]);
#pragma GCC unroll 4
                for (int j = 0; j < NV; j++) acc[r][j] = _mm512_fmadd_ps(a, b[j], acc[r][j]);
            }
        }
        u += 16 * MR;
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) _mm512_store_ps(mt + (size_t)r * 16 * NV + 16 * j, acc[r][j]);
}

typedef void (*GemmFn)(const float *, const float *, float *, int, bool);
#define GEMM_FN(MR, NV, RC, tag)                                                                        \
    static void gemm_##MR##_##NV##_##tag(const float *u, const float *v, float *mt, int C, bool acc_in) { \
        gemm_point(u, v, mt, C, acc_in, MR, NV, RC);                                                   \
    }
#define GEMM_FNS(RC, tag) GEMM_FN(16, 1, RC, tag) GEMM_FN(12, 2, RC, tag) GEMM_FN(8, 3, RC, tag) GEMM_FN(6, 4, RC, tag)
GEMM_FNS(true, rc)
GEMM_FNS(false, cr)
static const int MR_OF_NV[5] = {0, 16, 12, 8, 6};
static GemmFn gemm_fn(int NV, bool flip) {
    if (flip) return NV == 1 ? gemm_16_1_cr : NV == 2 ? gemm_12_2_cr : NV == 3 ? gemm_8_3_cr : gemm_6_4_cr;
    return NV == 1 ? gemm_16_1_rc : NV == 2 ? gemm_12_2_rc : NV == 3 ? gemm_8_3_rc : gemm_6_4_rc;
}

/* ---- output transform ------------------------------------------------------------------- */

/* The 64 floats 4l + j <- o[j] lane l (the inverse of phase()): the 4x4 tiles' rows side by side. */
static inline __attribute__((always_inline)) void interleave(const __m512 o[4], __m512 z[4]) {
    const __m512i pair_lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i pair_hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const __m512i quad_lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const __m512i quad_hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    __m512d a = _mm512_castps_pd(_mm512_permutex2var_ps(o[0], pair_lo, o[1])); /* lanes 0-7 of o0, o1 */
    __m512d b = _mm512_castps_pd(_mm512_permutex2var_ps(o[2], pair_lo, o[3]));
    __m512d c = _mm512_castps_pd(_mm512_permutex2var_ps(o[0], pair_hi, o[1])); /* lanes 8-15 */
    __m512d d = _mm512_castps_pd(_mm512_permutex2var_ps(o[2], pair_hi, o[3]));
    z[0] = _mm512_castpd_ps(_mm512_permutex2var_pd(a, quad_lo, b));
    z[1] = _mm512_castpd_ps(_mm512_permutex2var_pd(a, quad_hi, b));
    z[2] = _mm512_castpd_ps(_mm512_permutex2var_pd(c, quad_lo, d));
    z[3] = _mm512_castpd_ps(_mm512_permutex2var_pd(c, quad_hi, d));
}

/* Bias or accumulation, then ReLU, then the masked store of 16 floats. */
static inline __attribute__((always_inline)) void put16(float *at, __mmask16 m, __m512 z, const Plan *p, __m512 bias) {
    z = p->accumulate ? _mm512_add_ps(z, _mm512_maskz_loadu_ps(m, at)) : _mm512_add_ps(z, bias);
    if (p->relu) z = _mm512_max_ps(z, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(at, m, z);
}

static inline __attribute__((always_inline)) void put4(float *at, __mmask8 m, __m128 z, const Plan *p, __m128 bias) {
    z = p->accumulate ? _mm_add_ps(z, _mm_maskz_loadu_ps(m, at)) : _mm_add_ps(z, bias);
    if (p->relu) z = _mm_max_ps(z, _mm_setzero_ps());
    _mm_mask_storeu_ps(at, m, z);
}

/* One output channel of one vector: Y = A^T m A from the 36 points at mt + p*pstride, into the plane. */
static void output_vector(const float *mt, size_t pstride, const Plan *p, const Vec *v, float *yplane, float bias) {
    const ConvGeom *g = p->g;
    __m512 h[6][4];
    for (int a = 0; a < 6; a++) { /* rows of m along their columns: m A */
        __m512 m[6];
        for (int s = 0; s < 6; s++) m[s] = _mm512_load_ps(mt + (size_t)(a * 6 + s) * pstride);
        at6(m, h[a]);
    }
    __m512 out[4][4]; /* [output row i][output column j] */
    for (int j = 0; j < 4; j++) {
        __m512 col[6], o[4];
        for (int a = 0; a < 6; a++) col[a] = h[a][j];
        at6(col, o);
        for (int i = 0; i < 4; i++) out[i][j] = o[i];
    }
    __m512 b16 = _mm512_set1_ps(bias);
    __m128 b4 = _mm_set1_ps(bias);
    for (int i = 0; i < 4; i++) {
        __m512 z[4];
        interleave(out[i], z);
        if (v->rows == 1) { /* 16 tiles side by side: 64 consecutive outputs of row oh */
            int oh = 4 * v->th0 + i, ow0 = 4 * v->tw0;
            if (oh >= g->OH) break;
            float *row = yplane + (size_t)oh * g->OW + ow0;
            for (int q = 0; q < 4; q++) {
                __mmask16 m = range_mask(0, imin(g->OW - ow0 - 16 * q, 4 * v->width - 16 * q));
                if (m) put16(row + 16 * q, m, z[q], p, b16);
            }
            continue;
        }
        for (int l = 0; l < v->rows * v->width; l++) { /* packed tile rows: 4 outputs per lane */
            int oh = 4 * (v->th0 + l / v->width) + i, ow = 4 * (v->tw0 + l % v->width);
            if (v->th0 + l / v->width >= p->TH || oh >= g->OH) continue;
            __m128 q4;
            switch (l % 4) { /* the extract's lane index must be a constant */
            case 0: q4 = _mm512_extractf32x4_ps(z[l / 4], 0); break;
            case 1: q4 = _mm512_extractf32x4_ps(z[l / 4], 1); break;
            case 2: q4 = _mm512_extractf32x4_ps(z[l / 4], 2); break;
            default: q4 = _mm512_extractf32x4_ps(z[l / 4], 3); break;
            }
            put4(yplane + (size_t)oh * g->OW + ow, (__mmask8)range_mask(0, imin(4, g->OW - ow)), q4, p, b4);
        }
    }
}

/* The output transform of channel block mb of block b from its Mt [36][MR][T]. */
static void output_block(const Plan *p, int b, const float *Mt, int mb, float *y) {
    size_t yplane = (size_t)p->g->OH * p->g->OW;
    for (int r = 0; r < p->MR && mb * p->MR + r < p->M; r++) {
        int m = mb * p->MR + r;
        for (int vi = 0; vi < p->NV && b * p->NV + vi < p->nvec; vi++) {
            const Vec *v = &p->vecs[b * p->NV + vi];
            output_vector(Mt + (size_t)r * p->T + 16 * vi, (size_t)p->MR * p->T, p, v,
                          y + ((size_t)v->n * p->yc + m) * yplane, p->bias && !p->accumulate ? p->bias[m] : 0);
        }
    }
}

/* Output channel blocks [mb0, mb1) of block b: the 36 GEMMs into Mt, then the output transform. */
static void multiply_block(const Plan *p, int b, const float *U, const float *V, float *Mt, int mb0, int mb1,
                           float *y) {
    int C = p->g->C;
    GemmFn fn = gemm_fn(p->NV, p->flip);
    size_t ps = u_point(p->flip, p->MR, C);
    for (int mb = mb0; mb < mb1; mb++) {
        const float *u = U + (size_t)mb * NPT * ps;
        for (int q = 0; q < NPT; q++)
            fn(u + q * ps, V + (size_t)q * C * p->T, Mt + (size_t)q * p->MR * p->T, C, false);
        output_block(p, b, Mt, mb, y);
    }
}

/* ---- planning and the two parallel schemes ----------------------------------------------- */

/* The vectors of all images in order: tile rows of 16+ tiles cut into vectors, shorter ones packed. */
static int make_vecs(int N, int TH, int TW, Vec *out) {
    int k = 0;
    for (int n = 0; n < N; n++) {
        if (TW >= 16) {
            for (int th = 0; th < TH; th++)
                for (int tw0 = 0; tw0 < TW; tw0 += 16) out[k++] = (Vec){n, th, tw0, 1, imin(16, TW - tw0)};
        } else {
            int rows = 16 / TW;
            for (int th0 = 0; th0 < TH; th0 += rows) out[k++] = (Vec){n, th0, 0, imin(rows, TH - th0), TW};
        }
    }
    return k;
}

/* Vectors per block: as many as keep V [36][C][16*NV] within ~600 KiB (half this machine's L2, the
 * rest for U's block and Mt), at least 1, at most 4, and no more than there are. */
static int pick_nv(int C, int nvec) {
    int nv = (int)((600u << 10) / ((size_t)NPT * C * 16 * sizeof(float)));
    return imax(1, imin(imin(nv, 4), nvec));
}

/* Many tiles: U is transformed once, then each thread transforms and multiplies whole blocks in its
 * own buffers (V and Mt stay in L2; U is read once per block). */
static void run_blocks(const Plan *p, const Kernel *k, const float *x, float *y) {
    int nt = omp_get_max_threads(), C = p->g->C;
    size_t vsz = (size_t)NPT * C * p->T, msz = (size_t)NPT * p->MR * p->T;
    float *U = arena_alloc(engine_arena(), (size_t)p->nmb * NPT * u_point(p->flip, p->MR, C) * sizeof *U);
    transform_weights(k, p->MR, p->nmb, U);
    float *V = arena_alloc(engine_arena(), (size_t)nt * (vsz + msz) * sizeof *V);
#pragma omp parallel for schedule(dynamic)
    for (int b = 0; b < p->nblk; b++) {
        float *v = V + (size_t)omp_get_thread_num() * (vsz + msz);
        transform_block(p, b, x, v, 0, C);
        multiply_block(p, b, U, v, v + vsz, 0, p->nmb, y);
    }
}

/* Few tiles for many weights (small planes, many channels): there writing all of U (37 MB for
 * 512 -> 512) and reading it back cost more than the GEMMs. So V of every block is transformed
 * first, then each task takes one block of MR output channels, transforms its weights a chunk of
 * input channels at a time into an L2-sized buffer, and runs every block's GEMMs on that chunk,
 * summing over the chunks in order (the same arithmetic as run_blocks, to the bit). */
static void run_fused(const Plan *p, const Kernel *k, const float *x, float *y) {
    int nt = omp_get_max_threads(), C = p->g->C;
    /* chunks of a multiple of 16 input channels whose U (36 x cc x MR) fills half of L2 */
    int cc = imin(C, imax(16, (int)((512u << 10) / ((size_t)NPT * p->MR * sizeof(float))) / 16 * 16));
    size_t vsz = (size_t)NPT * C * p->T, msz = (size_t)NPT * p->MR * p->T, ps = u_point(p->flip, p->MR, cc);
    size_t usz = NPT * ps;
    float *V = arena_alloc(engine_arena(), (size_t)p->nblk * vsz * sizeof *V);
    float *scratch = arena_alloc(engine_arena(), (size_t)nt * (usz + p->nblk * msz) * sizeof *V);
    int tchunk = imax(1, ceil_div(C, 4 * nt)), ntc = ceil_div(C, tchunk);
    GemmFn fn = gemm_fn(p->NV, p->flip);
#pragma omp parallel
    {
        float *U = scratch + (size_t)omp_get_thread_num() * (usz + p->nblk * msz), *Mt = U + usz;
#pragma omp for schedule(static)
        for (int t = 0; t < p->nblk * ntc; t++) {
            int b = t / ntc, c0 = t % ntc * tchunk;
            transform_block(p, b, x, V + (size_t)b * vsz, c0, imin(C, c0 + tchunk));
        }
#pragma omp for schedule(dynamic)
        for (int mb = 0; mb < p->nmb; mb++) {
            for (int c0 = 0; c0 < C; c0 += cc) {
                int c1 = imin(C, c0 + cc);
                weights_block(k, p->MR, mb, c0, c1, U);
                for (int b = 0; b < p->nblk; b++)
                    for (int q = 0; q < NPT; q++)
                        fn(U + q * u_point(p->flip, p->MR, c1 - c0), V + b * vsz + ((size_t)q * C + c0) * p->T,
                           Mt + b * msz + (size_t)q * p->MR * p->T, c1 - c0, c0 > 0);
            }
            for (int b = 0; b < p->nblk; b++) output_block(p, b, Mt + b * msz, mb, y);
        }
    }
}

/* Where it pays, measured on one thread against the direct kernel (bench/RESULTS.md): the weight
 * transform costs about as much as 4-8 tiles' GEMMs, so planes of under 12 tiles in all (8x8: 0.7x
 * the direct kernel's speed at 128 channels, 12x15: 1.0-1.5x, 16x12: 1.2x at 64) and channel
 * counts under 16 stay with the direct kernel. */
static bool conv_winograd_pays(const ConvGeom *g, int N, int M) {
    return g->C >= 16 && M >= 16 && (long)N * ceil_div(g->OH, 4) * ceil_div(g->OW, 4) >= 12;
}

/* RUNE_WINOGRAD_GROUPS=0 keeps grouped convs on the other paths (for A/B timing); on by default. */
static bool groups_on(void) {
    static int on = -1;
    return env_switch("RUNE_WINOGRAD_GROUPS", &on);
}

/* Grouped convs (C and M per group, measured on one thread against the direct kernel, CARN-M's
 * 64 -> 64 and 64 -> 256 in 4 groups, 2026-11-30): with tile rows of 16 tiles or more (outputs 61+
 * wide, read with plain loads) forward and backward-data 1.35-1.5x at 120x90 and 64x64 (one image),
 * the head's forward 1.4-1.5x at 120x90 and 240x180. Narrower planes, whose tiles are gathered, lose:
 * 16x16 0.85-0.91x at batch 1, 4 and 16 (16 channels a group: the gathers cost more than the GEMMs
 * save). Backward-data with more outputs than inputs per group (the head's, 16 <- 64 a group) loses
 * as well: 0.65x at 240x180, 0.82x at 16x16 (its input transform runs over 4x the channels). */
static bool group_pays(int G, int tile_width, int C, int M, bool backward) {
    return G == 1 || (groups_on() && tile_width >= 16 && !(backward && M > C));
}

static bool applies(const ConvGeom *g, int N, int G, int M, bool backward) {
    int tile_width = ceil_div(backward ? g->W : g->OW, 4);
    return conv_winograd_enabled() && G >= 1 && group_pays(G, tile_width, g->C, M, backward) && g->kh == 3 &&
           g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 && conv_winograd_pays(g, N, M);
}

/* run_fused up to 4 blocks (measured, 1 thread: 256 -> 256 at 23x30, 3 blocks, 1.9 ms fused vs 2.5
 * blocked; 512 -> 512 at 12x15, 1 block, 2.9 vs 6.1), run_blocks above. RUNE_WINOGRAD_FUSED=0|1
 * forces one (the tests cover both). */
static bool use_fused(const Plan *p) {
    const char *e = getenv("RUNE_WINOGRAD_FUSED"); /* read per call: the tests switch it between cases */
    if (e) return atoi(e) != 0;
    return p->nblk <= 4;
}

/* The forward conv on geometry g (C in, M out per group, G groups) with group 0's kernel read through
 * k: x [N, G*C, H, W], y [N, G*M, OH, OW], group gi's kernels (and wscale, bias) M further on per
 * group. One group after the other, each with the whole thread team: a group is an independent conv
 * on a slice of the channels, and the vectors of tiles are the same for all. */
static void winograd(const float *x, const Kernel *k, const float *bias, bool relu, bool accumulate, float *y,
                     const ConvGeom *g, int N, int G, int M) {
    Plan p = {.g = g, .M = M, .TH = ceil_div(g->OH, 4), .TW = ceil_div(g->OW, 4), .relu = relu,
              .accumulate = accumulate, .flip = k->flip, .xc = G * g->C, .yc = G * M};
    ArenaMark mark = arena_mark(engine_arena());
    p.vecs = arena_alloc(engine_arena(), (size_t)N * p.TH * ceil_div(p.TW, 16) * sizeof *p.vecs);
    p.nvec = make_vecs(N, p.TH, p.TW, p.vecs);
    p.NV = pick_nv(g->C, p.nvec), p.T = 16 * p.NV, p.MR = MR_OF_NV[p.NV];
    p.nmb = ceil_div(M, p.MR), p.nblk = ceil_div(p.nvec, p.NV);
    bool fused = use_fused(&p);
    size_t xplane = (size_t)g->H * g->W, yplane = (size_t)g->OH * g->OW;
    for (int gi = 0; gi < G; gi++) {
        ArenaMark gm = arena_mark(engine_arena());
        Kernel kg = *k;
        kg.w = k->w + (size_t)gi * M * g->C * 9; /* group gi's [M, C, 3, 3] (backward: [C_layer, M_layer]) */
        if (k->wscale) kg.wscale = k->wscale + (size_t)gi * M;
        p.bias = bias ? bias + (size_t)gi * M : NULL;
        const float *xg = x + (size_t)gi * g->C * xplane;
        float *yg = y + (size_t)gi * M * yplane;
        if (fused) run_fused(&p, &kg, xg, yg);
        else run_blocks(&p, &kg, xg, yg);
        arena_rewind(engine_arena(), gm);
    }
    arena_rewind(engine_arena(), mark);
}

bool conv_winograd_forward(const real_t *x, const real_t *w, const real_t *wscale, const real_t *bias, bool relu,
                           bool accumulate, real_t *y, const ConvGeom *g, int N, int G, int M) {
    if (!applies(g, N, G, M, false)) return false;
    Kernel k = {.w = w, .wscale = wscale, .C = g->C, .M = M, .flip = false};
    winograd(x, &k, bias, relu, accumulate, y, g, N, G, M);
    return true;
}

bool conv_winograd_backward_data(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N, int G,
                                 int M, bool accumulate) {
    int qh = 2 - g->ph, qw = 2 - g->pw; /* the adjoint's padding */
    if (!applies(g, N, G, M, true) || qh < 0 || qw < 0) return false;
    /* dx[c, ih, iw] = sum over m, i, j of dy[m, ih + ph - i, iw + pw - j] * w[m, c, i, j]: a conv of
     * dy (M channels) with padding 2 - p and the kernel w'[c, m, k] = w[m, c, 8 - k], read in place */
    ConvGeom t = {.C = M, .H = g->OH, .W = g->OW, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = qh, .pw = qw,
                  .dh = 1, .dw = 1, .OH = g->H, .OW = g->W};
    Kernel k = {.w = w, .wscale = NULL, .C = M, .M = g->C, .flip = true};
    winograd(dy, &k, NULL, false, accumulate, dx, &t, N, G, g->C);
    return true;
}

bool conv_winograd_built(void) { return true; }

#else /* a float64 or non-AVX-512 build: the direct or im2col path */

bool conv_winograd_built(void) { return false; }

bool conv_winograd_forward(const real_t *x, const real_t *w, const real_t *wscale, const real_t *bias, bool relu,
                           bool accumulate, real_t *y, const ConvGeom *g, int N, int G, int M) {
    (void)x, (void)w, (void)wscale, (void)bias, (void)relu, (void)accumulate, (void)y, (void)g, (void)N, (void)G,
        (void)M;
    return false;
}

bool conv_winograd_backward_data(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N, int G,
                                 int M, bool accumulate) {
    (void)dy, (void)w, (void)dx, (void)g, (void)N, (void)G, (void)M, (void)accumulate;
    return false;
}

#endif
