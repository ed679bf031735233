/* image.c: allocation, 8-bit/float and channel conversions, crops, and whole-file I/O for images. */
#include "data/image.h"

#include <errno.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"

static size_t npix(int w, int h) {
    RN_CHECK(w >= 0 && h >= 0, "image size %dx%d", w, h);
    return (size_t)w * (size_t)h;
}

Image image_alloc(int w, int h, int c) {
    RN_CHECK(c == 1 || c == 3 || c == 4, "image channels %d", c);
    return (Image){w, h, c, xmalloc(npix(w, h) * (size_t)c)};
}

void image_free(Image *im) {
    free(im->px);
    *im = (Image){0};
}

Image16 image16_alloc(int w, int h) { return (Image16){w, h, xmalloc(npix(w, h) * sizeof(uint16_t))}; }

void image16_free(Image16 *im) {
    free(im->px);
    *im = (Image16){0};
}

Frame frame_alloc(int w, int h, int c) {
    RN_CHECK(c >= 1, "frame channels %d", c);
    return (Frame){w, h, c, xmalloc(npix(w, h) * (size_t)c * sizeof(float))};
}

void frame_free(Frame *f) {
    free(f->px);
    *f = (Frame){0};
}

void pixel_unit_table(PixelRule rule, float table[256]) {
    for (int v = 0; v < 256; v++) table[v] = rule == PIXEL_DIV ? (float)(v / 255.0) : v * (1.0f / 255.0f);
}

void image_to_planar(const Image *im, PixelRule rule, float *dst) {
    float unit[256];
    pixel_unit_table(rule, unit);
    size_t n = npix(im->w, im->h);
    for (int ch = 0; ch < im->c; ch++)
        for (size_t i = 0; i < n; i++) dst[(size_t)ch * n + i] = unit[im->px[i * (size_t)im->c + ch]];
}

Frame frame_from_image(const Image *im) {
    Frame f = frame_alloc(im->w, im->h, im->c);
    image_to_planar(im, PIXEL_MUL, f.px);
    return f;
}

static uint8_t to_u8(float v) {
    float x = v * 255.0f + 0.5f; /* round half up; NaN falls to 0 through the comparisons */
    if (!(x >= 0.0f)) return 0;
    if (x >= 255.0f) return 255;
    return (uint8_t)x;
}

/* CHW floats -> HWC bytes, rounded to nearest and clamped to [0,255]. */
Image image_from_frame(const Frame *f) {
    Image im = image_alloc(f->w, f->h, f->c);
    size_t n = npix(f->w, f->h);
    for (int ch = 0; ch < f->c; ch++)
        for (size_t i = 0; i < n; i++) im.px[i * (size_t)f->c + ch] = to_u8(f->px[(size_t)ch * n + i]);
    return im;
}

/* BT.601 luma in integer arithmetic (weights sum to 1 << 16), rounded. */
static uint8_t luma(const uint8_t *p) {
    return (uint8_t)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 32768u) >> 16);
}

Image image_convert(const Image *im, int c) {
    Image out = image_alloc(im->w, im->h, c);
    size_t n = npix(im->w, im->h);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = im->px + i * (size_t)im->c;
        uint8_t *d = out.px + i * (size_t)c;
        uint8_t rgb[3] = {s[0], im->c >= 3 ? s[1] : s[0], im->c >= 3 ? s[2] : s[0]};
        if (c == 1) {
            d[0] = im->c == 1 ? s[0] : luma(rgb);
            continue;
        }
        memcpy(d, rgb, 3);
        if (c == 4) d[3] = im->c == 4 ? s[3] : 255;
    }
    return out;
}

Image image_crop(const Image *im, int x, int y, int w, int h) {
    RN_CHECK(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= im->w && y + h <= im->h,
             "crop %dx%d at (%d,%d) of a %dx%d image", w, h, x, y, im->w, im->h);
    Image out = image_alloc(w, h, im->c);
    size_t row = (size_t)w * (size_t)im->c;
    for (int r = 0; r < h; r++)
        memcpy(out.px + (size_t)r * row, im->px + ((size_t)(y + r) * (size_t)im->w + (size_t)x) * (size_t)im->c, row);
    return out;
}

int file_read_all(const char *path, unsigned char **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = xmalloc(cap);
    for (;;) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) break;
        cap *= 2;
        b = xrealloc(b, cap);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return rn_fail("%s: read error", path);
    }
    *buf = b;
    *len = n;
    return 0;
}

int file_write_all(const char *path, const unsigned char *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return rn_fail("%s: cannot create: %s", path, strerror(errno));
    size_t n = fwrite(buf, 1, len, f);
    int bad = fclose(f) != 0 || n != len;
    if (bad) return rn_fail("%s: write error (disk full?)", path);
    return 0;
}

static const char *ext(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : "";
}

int image_read(const char *path, Image *out, int want_c) {
    const char *e = ext(path);
    if (!strcasecmp(e, "png")) return png_read(path, out, want_c);
    if (!strcasecmp(e, "jpg") || !strcasecmp(e, "jpeg")) return jpeg_read(path, out, want_c);
    return rn_fail("%s: unknown image type (want .png, .jpg or .jpeg)", path);
}

int image_write(const char *path, const Image *im) {
    const char *e = ext(path);
    if (!strcasecmp(e, "png")) return png_write(path, im);
    if (!strcasecmp(e, "jpg") || !strcasecmp(e, "jpeg")) return jpeg_write(path, im, 95);
    return rn_fail("%s: unknown image type (want .png, .jpg or .jpeg)", path);
}
