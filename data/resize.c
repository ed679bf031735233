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
 * in_length)", which replicates the end samples. (Python ports often mirror symmetrically instead;
 * that disagrees with MATLAB's own LR images by up to 10 grey levels along the border, while the
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

/* One pass along width (dim 1) or height (dim 0) over a double image [h*w*c] -> double image. */
static double *pass(const double *src, int w, int h, int c, int dim, const Taps *t) {
    int ow = dim == 1 ? t->n_out : w, oh = dim == 0 ? t->n_out : h;
    double *dst = xmalloc((size_t)ow * (size_t)oh * (size_t)c * sizeof *dst);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int o = dim == 1 ? x : y;
            const int *idx = t->idx + (size_t)o * t->ntap;
            const double *wt = t->wt + (size_t)o * t->ntap;
            for (int ch = 0; ch < c; ch++) {
                double s = 0;
                for (int j = 0; j < t->ntap; j++) {
                    size_t sy = dim == 0 ? (size_t)idx[j] : (size_t)y, sx = dim == 1 ? (size_t)idx[j] : (size_t)x;
                    s += wt[j] * src[(sy * (size_t)w + sx) * (size_t)c + ch];
                }
                dst[((size_t)y * ow + x) * c + ch] = s;
            }
        }
    return dst;
}

static Image bicubic(const Image *src, int out_w, int out_h, bool round_each_pass) {
    RN_CHECK(src->w > 0 && src->h > 0 && out_w > 0 && out_h > 0, "resize %dx%d -> %dx%d", src->w, src->h, out_w, out_h);
    size_t n_in = (size_t)src->w * src->h * src->c;
    double *cur = xmalloc(n_in * sizeof *cur);
    for (size_t i = 0; i < n_in; i++) cur[i] = src->px[i];
    /* MATLAB sorts the scales ascending (a stable sort): the dimension that shrinks most goes first. */
    double sh = (double)out_h / src->h, sw = (double)out_w / src->w;
    int order[2] = {0, 1};
    if (sw < sh) order[0] = 1, order[1] = 0;
    int w = src->w, h = src->h;
    for (int k = 0; k < 2; k++) {
        int dim = order[k];
        Taps t = dim == 0 ? taps_matlab(h, out_h) : taps_matlab(w, out_w);
        double *next = pass(cur, w, h, src->c, dim, &t);
        taps_free(&t);
        free(cur);
        cur = next;
        if (dim == 0) h = out_h; else w = out_w;
        if (round_each_pass)
            for (size_t i = 0, n = (size_t)w * h * src->c; i < n; i++) cur[i] = sat_u8(cur[i]);
    }
    Image out = image_alloc(out_w, out_h, src->c);
    for (size_t i = 0, n = (size_t)out_w * out_h * src->c; i < n; i++) out.px[i] = sat_u8(cur[i]);
    free(cur);
    return out;
}

Image resize_bicubic(const Image *src, int out_w, int out_h) { return bicubic(src, out_w, out_h, true); }

Image resize_bicubic_unrounded(const Image *src, int out_w, int out_h) { return bicubic(src, out_w, out_h, false); }

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
