/* im2col.c: im2col / col2im for GEMM-based convolution (NCHW planes, stride, padding, dilation). */
#include "nn/ops/im2col.h"

#include <stddef.h>

int conv_out_size(int in, int k, int s, int p, int d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

int conv_geom_is_pointwise(const ConvGeom *g) {
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* floor(a / b) for b > 0, also for negative a (C division truncates toward zero). */
static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The output columns [lo, hi) whose input column ow*sw - pw + off lies inside [0, W). Computed
 * once per kernel column so the inner loops carry no bounds tests. */
static void valid_cols(const ConvGeom *g, int off, int *lo, int *hi) {
    int a = -floor_div(off - g->pw, g->sw);               /* ceil((pw - off) / sw) */
    int b = floor_div(g->W - 1 + g->pw - off, g->sw) + 1; /* last valid ow, plus one */
    *lo = a < 0 ? 0 : a > g->OW ? g->OW : a;
    *hi = b > g->OW ? g->OW : b < *lo ? *lo : b;
}

#if defined(__AVX512F__) && !defined(RUNE_DOUBLE)
#include <immintrin.h>
#define ROW_SIMD 1
/* Lanes [lo, hi) of the 16 starting at column ow0, as an AVX-512 mask. */
static inline __mmask16 lanes(int ow0, int lo, int hi) {
    int a = lo - ow0 < 0 ? 0 : lo - ow0, b = hi - ow0 > 16 ? 16 : hi - ow0;
    return b <= a ? 0 : (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1));
}
#endif

/* One output row of one col row: dst[OW] from input row src (NULL = the row is padding), where
 * s[ow * sw] = src[ow*sw - pw + off] is the input under output column ow, valid for ow in [lo, hi).
 * Rows are short (16 to 120 columns) and there are kh*kw*C*OH of them, so per-row calls to
 * memset/memcpy would cost more than the copy: stride 1 uses masked vector loads (the masked-off
 * lanes, which lie in the padding, are never read), other strides plain loops. */
static inline void unfold_row(real_t *restrict dst, const real_t *src, const ConvGeom *g, int off, int lo, int hi) {
    int OW = g->OW;
    if (!src) lo = hi = 0;
    const real_t *s = src ? src - g->pw + off : dst; /* dst: any valid address, never read */
#ifdef ROW_SIMD
    if (g->sw == 1) {
        for (int ow = 0; ow < OW; ow += 16)
            _mm512_mask_storeu_ps(dst + ow, lanes(ow, 0, OW), _mm512_maskz_loadu_ps(lanes(ow, lo, hi), s + ow));
        return;
    }
#endif
    for (int ow = 0; ow < OW; ow++) dst[ow] = ow >= lo && ow < hi ? s[(ptrdiff_t)ow * g->sw] : 0;
}

/* d[ow * sw] += s[ow] for ow in [lo, hi): one output row folded back onto its input row. */
static inline void fold_row(real_t *d, const real_t *restrict s, int sw, int lo, int hi) {
#ifdef ROW_SIMD
    if (sw == 1) {
        for (int ow = lo; ow < hi; ow += 16) {
            __mmask16 m = lanes(ow, ow, hi);
            _mm512_mask_storeu_ps(d + ow, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d + ow), _mm512_maskz_loadu_ps(m, s + ow)));
        }
        return;
    }
#endif
    for (int ow = lo; ow < hi; ow++) d[(ptrdiff_t)ow * sw] += s[ow];
}

void im2col(const real_t *x, const ConvGeom *g, int c0, int c1, int oh0, int oh1, real_t *col) {
    size_t plane = (size_t)g->H * g->W, cols = (size_t)(oh1 - oh0) * g->OW;
    for (int c = c0; c < c1; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                int off = j * g->dw, lo, hi;
                valid_cols(g, off, &lo, &hi);
                real_t *row = col + ((size_t)((c - c0) * g->kh + i) * g->kw + j) * cols; /* [(oh1-oh0)*OW] */
                for (int oh = oh0; oh < oh1; oh++) {
                    int ih = oh * g->sh - g->ph + i * g->dh;
                    const real_t *src = ih >= 0 && ih < g->H ? x + c * plane + (size_t)ih * g->W : NULL;
                    unfold_row(row + (size_t)(oh - oh0) * g->OW, src, g, off, lo, hi);
                }
            }
}

void col2im_add(const real_t *col, const ConvGeom *g, int c0, int c1, int oh0, int oh1, real_t *x) {
    size_t plane = (size_t)g->H * g->W, cols = (size_t)(oh1 - oh0) * g->OW;
    for (int c = c0; c < c1; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                int off = j * g->dw, lo, hi;
                valid_cols(g, off, &lo, &hi);
                const real_t *row = col + ((size_t)((c - c0) * g->kh + i) * g->kw + j) * cols; /* [(oh1-oh0)*OW] */
                for (int oh = oh0; oh < oh1; oh++) {
                    int ih = oh * g->sh - g->ph + i * g->dh;
                    if (ih < 0 || ih >= g->H) continue;
                    fold_row(x + c * plane + (size_t)ih * g->W - g->pw + off, row + (size_t)(oh - oh0) * g->OW, g->sw,
                             lo, hi);
                }
            }
}
