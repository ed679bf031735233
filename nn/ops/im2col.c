/* im2col.c: im2col / col2im for GEMM-based convolution (NCHW planes, stride, padding, dilation). */
#include "nn/ops/im2col.h"

#include <stddef.h>
#include <string.h>

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

/* One output row of one col row: dst[OW] from input row src (NULL = the row is padding). */
static void unfold_row(real_t *dst, const real_t *src, const ConvGeom *g, int off, int lo, int hi) {
    if (!src) {
        memset(dst, 0, (size_t)g->OW * sizeof *dst);
        return;
    }
    memset(dst, 0, (size_t)lo * sizeof *dst);
    const real_t *s = src + (ptrdiff_t)lo * g->sw - g->pw + off;
    if (g->sw == 1) memcpy(dst + lo, s, (size_t)(hi - lo) * sizeof *dst);
    else
        for (int ow = lo; ow < hi; ow++) dst[ow] = s[(ptrdiff_t)(ow - lo) * g->sw];
    memset(dst + hi, 0, (size_t)(g->OW - hi) * sizeof *dst);
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
                    real_t *d = x + c * plane + (size_t)ih * g->W + (ptrdiff_t)lo * g->sw - g->pw + off;
                    const real_t *s = row + (size_t)(oh - oh0) * g->OW;
                    if (g->sw == 1)
                        for (int ow = lo; ow < hi; ow++) d[ow - lo] += s[ow];
                    else
                        for (int ow = lo; ow < hi; ow++) d[(ptrdiff_t)(ow - lo) * g->sw] += s[ow];
                }
            }
}
