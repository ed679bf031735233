/* resize.c: MATLAB imresize bicubic (with antialiasing) on 8-bit images and PyTorch bilinear on float frames. */
#include "data/resize.h"

#include <stdlib.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "util/err.h"

/* For each output index along one dimension: ntap source indices and their weights. */
typedef struct Taps {
    int n_out, ntap;
    int *idx;   /* [n_out*ntap] source indices, already clamped into 0..n_in-1 */
    double *wt; /* [n_out*ntap] weights, each row normalised to sum 1 */
} Taps;

/* MATLAB's cubic(): Keys' kernel with a = -0.5. */
static double cubic(double x) {
    double ax = fabs(x), ax2 = ax * ax, ax3 = ax2 * ax;
    if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
    if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
    return 0;
}

/* MATLAB's border rule: contributions() clamps out-of-range indices, "min(max(1, indices),
 * in_length)", which replicates the end samples. (A symmetric mirror, tried first,
 * disagrees with MATLAB's own LR images by up to 10 grey levels along the border; the
 * clamp reproduces them bit for bit.) */
static int clamp_index(long i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : (int)i; }

/* MATLAB's contributions(in_length, out_length, scale, @cubic, 4, true), in 0-based indices. */
static Taps taps_matlab(int n_in, int n_out) {
    double scale = (double)n_out / n_in, kw = 4.0;
    bool shrink = scale < 1;
    if (shrink) kw /= scale; /* antialiasing: stretch the kernel over 1/scale input pixels */
    Taps t = {n_out, (int)ceil(kw) + 2, NULL, NULL};
    t.idx = xmalloc((size_t)n_out * (size_t)t.ntap * sizeof *t.idx);
    t.wt = xmalloc((size_t)n_out * (size_t)t.ntap * sizeof *t.wt);
    for (int o = 0; o < n_out; o++) {
        /* u: the output pixel centre in 1-based input coordinates. */
        double u = (o + 1) / scale + 0.5 * (1 - 1 / scale);
        long left = (long)floor(u - kw / 2);
        double sum = 0;
        for (int j = 0; j < t.ntap; j++) {
            double d = u - (double)(left + j);
            double w = shrink ? scale * cubic(scale * d) : cubic(d);
            t.wt[o * t.ntap + j] = w;
            t.idx[o * t.ntap + j] = clamp_index(left + j - 1, n_in);
            sum += w;
        }
        for (int j = 0; j < t.ntap; j++) t.wt[o * t.ntap + j] /= sum;
    }
    return t;
}

static void taps_free(Taps *t) {
    free(t->idx);
    free(t->wt);
}

/* MATLAB's uint8 cast: round half away from zero, saturate. */
static uint8_t sat_u8(double v) {
    if (!(v > 0)) return 0;
    if (v >= 254.5) return 255;
    return (uint8_t)(v + 0.5);
}

/* Along the height: each output row is a weighted sum of whole input rows, so the inner loop runs
 * over w*c contiguous values (vectorises); acc is one row of double accumulators. Taps are summed
 * in index order, as MATLAB does. */
static Image pass_rows(const Image *src, const Taps *t, double *acc) {
    Image dst = image_alloc(src->w, t->n_out, src->c);
    size_t row = (size_t)src->w * src->c;
    for (int y = 0; y < t->n_out; y++) {
        for (size_t i = 0; i < row; i++) acc[i] = 0;
        for (int j = 0; j < t->ntap; j++) {
            double wt = t->wt[(size_t)y * t->ntap + j];
            if (wt == 0) continue; /* adding 0 * x changes no sum; MATLAB drops such taps too */
            const uint8_t *s = src->px + (size_t)t->idx[(size_t)y * t->ntap + j] * row;
            for (size_t i = 0; i < row; i++) acc[i] += wt * s[i];
        }
        uint8_t *d = dst.px + (size_t)y * row;
        for (size_t i = 0; i < row; i++) d[i] = sat_u8(acc[i]);
    }
    return dst;
}

/* Along the width: each output pixel is a weighted sum of ntap input pixels of its row. */
static Image pass_cols(const Image *src, const Taps *t) {
    int ow = t->n_out, c = src->c;
    Image dst = image_alloc(ow, src->h, c);
    for (int y = 0; y < src->h; y++) {
        const uint8_t *s = src->px + (size_t)y * src->w * c;
        uint8_t *d = dst.px + (size_t)y * ow * c;
        for (int x = 0; x < ow; x++) {
            const int *idx = t->idx + (size_t)x * t->ntap;
            const double *wt = t->wt + (size_t)x * t->ntap;
            for (int ch = 0; ch < c; ch++) {
                double acc = 0;
                for (int j = 0; j < t->ntap; j++) acc += wt[j] * s[(size_t)idx[j] * c + ch];
                d[(size_t)x * c + ch] = sat_u8(acc);
            }
        }
    }
    return dst;
}

/* Both passes produce uint8, as MATLAB's imresizemex does for uint8 input: rounding between the
 * passes is part of the result (without it, Set5/Set14 LR differ from MATLAB's by 0.10-0.22 grey
 * levels on average; with it they match bit for bit). */
Image resize_bicubic(const Image *src, int out_w, int out_h) {
    RN_CHECK(src->w > 0 && src->h > 0 && out_w > 0 && out_h > 0, "resize %dx%d -> %dx%d", src->w, src->h, out_w, out_h);
    /* MATLAB sorts the scales ascending (a stable sort): the dimension that shrinks most goes first. */
    bool cols_first = (double)out_w / src->w < (double)out_h / src->h;
    Taps th = taps_matlab(src->h, out_h), tw = taps_matlab(src->w, out_w);
    double *acc = xmalloc((size_t)(out_w > src->w ? out_w : src->w) * src->c * sizeof *acc);
    Image mid = cols_first ? pass_cols(src, &tw) : pass_rows(src, &th, acc);
    Image out = cols_first ? pass_rows(&mid, &th, acc) : pass_cols(&mid, &tw);
    image_free(&mid);
    free(acc);
    taps_free(&th);
    taps_free(&tw);
    return out;
}

/* PyTorch's linear source index (align_corners=False), in float as its CPU kernel computes it. */
static void linear_taps(int n_in, int n_out, int *i0, int *i1, float *l1) {
    float scale = (float)n_in / (float)n_out;
    for (int o = 0; o < n_out; o++) {
        float s = scale * ((float)o + 0.5f) - 0.5f;
        if (s < 0) s = 0;
        int i = (int)s;
        i0[o] = i;
        i1[o] = i < n_in - 1 ? i + 1 : i;
        l1[o] = s - (float)i;
    }
}

Frame resize_bilinear(const Frame *src, int out_w, int out_h) {
    RN_CHECK(src->w > 0 && src->h > 0 && out_w > 0 && out_h > 0, "resize %dx%d -> %dx%d", src->w, src->h, out_w, out_h);
    int *x0 = xmalloc((size_t)out_w * sizeof *x0), *x1 = xmalloc((size_t)out_w * sizeof *x1);
    int *y0 = xmalloc((size_t)out_h * sizeof *y0), *y1 = xmalloc((size_t)out_h * sizeof *y1);
    float *lx = xmalloc((size_t)out_w * sizeof *lx), *ly = xmalloc((size_t)out_h * sizeof *ly);
    linear_taps(src->w, out_w, x0, x1, lx);
    linear_taps(src->h, out_h, y0, y1, ly);
    Frame out = frame_alloc(out_w, out_h, src->c);
    for (int ch = 0; ch < src->c; ch++) {
        const float *p = src->px + (size_t)ch * src->w * src->h;
        float *q = out.px + (size_t)ch * out_w * out_h;
        for (int y = 0; y < out_h; y++) {
            const float *r0 = p + (size_t)y0[y] * src->w, *r1 = p + (size_t)y1[y] * src->w;
            float b = ly[y], a = 1 - b;
            for (int x = 0; x < out_w; x++) {
                float d = lx[x], c = 1 - d;
                q[(size_t)y * out_w + x] = a * (c * r0[x0[x]] + d * r0[x1[x]]) + b * (c * r1[x0[x]] + d * r1[x1[x]]);
            }
        }
    }
    free(x0), free(x1), free(y0), free(y1), free(lx), free(ly);
    return out;
}
