/* sr_metrics.c: Y-channel PSNR and SSIM (ssim_index.m protocol) on 8-bit images. */
#include "profile/sr_metrics.h"

#include <math.h>
#include <stdlib.h>

#include "data/resize.h"
#include "util/err.h"

/* Planar frames go straight into engine buffers; profile/ is built in float32 only. */
_Static_assert(sizeof(real_t) == sizeof(float), "profile/ expects the float32 engine");

double psnr_rgb(const Image *a, const Image *b) {
    RN_CHECK(a->w == b->w && a->h == b->h && a->c == b->c, "psnr_rgb: %dx%dx%d vs %dx%dx%d", a->w, a->h, a->c, b->w,
             b->h, b->c);
    double se = 0;
    size_t n = (size_t)a->w * a->h * a->c;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a->px[i] - b->px[i];
        se += d * d;
    }
    return se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 * (double)n / se);
}

double degrade_bilinear_psnr(const Image *hr, const Degraded *d) {
    Image crop = degrade_crop(hr, d->scale);
    Frame lr = frame_from_image(&d->lr);
    Frame up = resize_bilinear(&lr, d->hr_w, d->hr_h);
    Image up8 = image_from_frame(&up);
    double p = psnr_rgb(&crop, &up8);
    image_free(&crop), image_free(&up8);
    frame_free(&lr), frame_free(&up);
    return p;
}

void sr_y_channel(const Image *im, double *y) {
    size_t n = (size_t)im->w * im->h;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = im->px + i * im->c;
        double r = p[0] / 255.0, g = im->c >= 3 ? p[1] / 255.0 : r, b = im->c >= 3 ? p[2] / 255.0 : r;
        /* MATLAB returns uint8 for uint8 input: round (Y is always >= 16, so floor(+0.5) = round) */
        y[i] = floor(16.0 + 65.481 * r + 128.553 * g + 24.966 * b + 0.5);
    }
}

/* Y of both images with the border cropped: *ya, *yb malloc'ed [*h * *w]. */
static void cropped_y(const Image *a, const Image *b, int border, double **ya, double **yb, int *h, int *w) {
    RN_CHECK(a->w == b->w && a->h == b->h, "SR metrics on images of different sizes %dx%d vs %dx%d", a->w, a->h, b->w, b->h);
    RN_CHECK((a->c == 1 || a->c >= 3) && (b->c == 1 || b->c >= 3), "SR metrics want gray or RGB images");
    RN_CHECK(border >= 0 && 2 * border < a->w && 2 * border < a->h, "border %d too large for %dx%d", border, a->w, a->h);
    *h = a->h - 2 * border, *w = a->w - 2 * border;
    double *fa = xmalloc((size_t)a->w * a->h * sizeof *fa), *fb = xmalloc((size_t)a->w * a->h * sizeof *fb);
    sr_y_channel(a, fa);
    sr_y_channel(b, fb);
    *ya = xmalloc((size_t)*h * *w * sizeof **ya), *yb = xmalloc((size_t)*h * *w * sizeof **yb);
    for (int y = 0; y < *h; y++)
        for (int x = 0; x < *w; x++) {
            (*ya)[(size_t)y * *w + x] = fa[(size_t)(y + border) * a->w + x + border];
            (*yb)[(size_t)y * *w + x] = fb[(size_t)(y + border) * a->w + x + border];
        }
    free(fa);
    free(fb);
}

double sr_psnr(const Image *a, const Image *b, int border) {
    double *ya, *yb;
    int h, w;
    cropped_y(a, b, border, &ya, &yb, &h, &w);
    double se = 0;
    for (size_t i = 0; i < (size_t)h * w; i++) se += (ya[i] - yb[i]) * (ya[i] - yb[i]);
    free(ya);
    free(yb);
    double mse = se / ((double)h * w);
    return mse == 0 ? INFINITY : 10 * log10(255.0 * 255.0 / mse);
}

#define WIN 11

/* The normalised 11x11 Gaussian (sigma 1.5) is separable: g(x) g(y) with g normalised to sum 1. */
static void gauss_1d(double *g) {
    double s = 0;
    for (int i = 0; i < WIN; i++) s += g[i] = exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
    for (int i = 0; i < WIN; i++) g[i] /= s;
}

/* 'valid' Gaussian filtering of src [h,w] into dst [h-10, w-10], rows then columns. */
static void filter_valid(const double *src, int h, int w, const double *g, double *tmp, double *dst) {
    int ow = w - WIN + 1, oh = h - WIN + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < ow; x++) {
            double s = 0;
            for (int k = 0; k < WIN; k++) s += g[k] * src[(size_t)y * w + x + k];
            tmp[(size_t)y * ow + x] = s;
        }
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            double s = 0;
            for (int k = 0; k < WIN; k++) s += g[k] * tmp[(size_t)(y + k) * ow + x];
            dst[(size_t)y * ow + x] = s;
        }
}

double sr_ssim(const Image *a, const Image *b, int border) {
    double *x, *y;
    int h, w;
    cropped_y(a, b, border, &x, &y, &h, &w);
    RN_CHECK(h >= WIN && w >= WIN, "SSIM needs at least 11x11 pixels after cropping, got %dx%d", w, h);
    size_t n = (size_t)h * w, on = (size_t)(h - WIN + 1) * (w - WIN + 1);
    double g[WIN], c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
    gauss_1d(g);
    double *prod = xmalloc(n * sizeof *prod), *tmp = xmalloc(n * sizeof *tmp);
    double *m[5]; /* filtered x, y, xx, yy, xy: each [on] */
    for (int i = 0; i < 5; i++) m[i] = xmalloc(on * sizeof *m[i]);
    filter_valid(x, h, w, g, tmp, m[0]);
    filter_valid(y, h, w, g, tmp, m[1]);
    const double *pa[3] = {x, y, x}, *pb[3] = {x, y, y};
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < n; i++) prod[i] = pa[k][i] * pb[k][i];
        filter_valid(prod, h, w, g, tmp, m[2 + k]);
    }
    double sum = 0;
    for (size_t i = 0; i < on; i++) {
        double mx = m[0][i], my = m[1][i];
        double sxx = m[2][i] - mx * mx, syy = m[3][i] - my * my, sxy = m[4][i] - mx * my;
        sum += ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
    }
    for (int i = 0; i < 5; i++) free(m[i]);
    free(prod), free(tmp), free(x), free(y);
    return sum / (double)on;
}

static void emit_u8(void *ctx, const real_t *sr, int th, int tw, int y0, int x0) {
    Image *out = ctx;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < th; y++)
            for (int x = 0; x < tw; x++) {
                double v = sr[((size_t)c * th + y) * tw + x];
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                out->px[((size_t)(y0 + y) * out->w + x0 + x) * 3 + c] = (uint8_t)floor(v * 255 + 0.5);
            }
}

void sr_upscale_image(Carn *m, const Image *lr, int scale, int tile, Image *out) {
    int w = lr->w, h = lr->h;
    real_t *x = xmalloc((size_t)3 * w * h * sizeof *x); /* [3,h,w] planar in [0,1] */
    if (lr->c == 3) image_to_planar(lr, PIXEL_DIV, x);
    else { /* gray replicated, alpha dropped */
        Image rgb = image_convert(lr, 3);
        image_to_planar(&rgb, PIXEL_DIV, x);
        image_free(&rgb);
    }
    *out = image_alloc(w * scale, h * scale, 3);
    carn_upscale_tiled(m, x, h, w, scale, tile > 0 ? tile : (w > h ? w : h), -1, emit_u8, out);
    free(x);
}
