/* darknet_input.c: darknet's own input scaling — resize_image (corner-aligned bilinear) and letterbox_image. */
#include <stdlib.h>

#include "nn/models/darknet.h"
#include "util/err.h"

/* Two passes as darknet: columns into a [c][h][ow] buffer, then rows. The last output column/row
 * copies the last input one (scale (in-1)/(out-1) puts them on the same sample). Float sums in
 * the order darknet does them, so the input matches darknet's to rounding. */
static void resize_cols(const float *src, int c, int h, int w, float *part, int ow) {
    float ws = ow > 1 ? (float)(w - 1) / (ow - 1) : 0;
    for (int k = 0; k < c; k++)
        for (int r = 0; r < h; r++) {
            const float *row = src + ((size_t)k * h + r) * w; /* [w] */
            float *o = part + ((size_t)k * h + r) * ow;       /* [ow] */
            for (int x = 0; x < ow; x++) {
                if (x == ow - 1 || w == 1) {
                    o[x] = row[w - 1];
                    continue;
                }
                float sx = x * ws;
                int ix = (int)sx;
                float dx = sx - ix;
                /* float rounding may land on the last sample; darknet would read past the row */
                o[x] = ix >= w - 1 ? row[w - 1] : (1 - dx) * row[ix] + dx * row[ix + 1];
            }
        }
}

void darknet_resize(const float *src, int c, int h, int w, real_t *dst, int oh, int ow) {
    RN_CHECK(c > 0 && h > 0 && w > 0 && oh > 0 && ow > 0, "darknet_resize: %dx%dx%d -> %dx%d", c, h, w, oh, ow);
    float *part = xmalloc((size_t)c * h * ow * sizeof *part); /* [c][h][ow] */
    resize_cols(src, c, h, w, part, ow);
    float hs = oh > 1 ? (float)(h - 1) / (oh - 1) : 0;
    for (int k = 0; k < c; k++)
        for (int r = 0; r < oh; r++) {
            float sy = r * hs;
            int iy = (int)sy;
            float dy = sy - iy;
            bool last = r == oh - 1 || h == 1 || iy >= h - 1;
            if (iy > h - 1) iy = h - 1;
            const float *a = part + ((size_t)k * h + iy) * ow; /* [ow] */
            real_t *o = dst + ((size_t)k * oh + r) * ow;      /* [ow] */
            for (int x = 0; x < ow; x++) {
                float v = (1 - dy) * a[x];
                if (!last) v += dy * a[x + ow];
                o[x] = (real_t)v;
            }
        }
    free(part);
}

void darknet_letterbox(const float *src, int c, int h, int w, real_t *dst, int oh, int ow) {
    int nw, nh;
    if ((float)ow / w < (float)oh / h) nw = ow, nh = h * ow / w;
    else nh = oh, nw = w * oh / h;
    if (nw < 1) nw = 1;
    if (nh < 1) nh = 1;
    real_t *tmp = xmalloc((size_t)c * nh * nw * sizeof *tmp); /* [c][nh][nw] */
    darknet_resize(src, c, h, w, tmp, nh, nw);
    int x0 = (ow - nw) / 2, y0 = (oh - nh) / 2;
    for (size_t i = 0; i < (size_t)c * oh * ow; i++) dst[i] = (real_t)0.5;
    for (int k = 0; k < c; k++)
        for (int y = 0; y < nh; y++)
            for (int x = 0; x < nw; x++)
                dst[((size_t)k * oh + y0 + y) * ow + x0 + x] = tmp[((size_t)k * nh + y) * nw + x];
    free(tmp);
}
