/* resize_bilinear.c: bilinear resize to any size, PyTorch F.interpolate(align_corners=False). */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/resize_taps.h"
#include "util/err.h"

typedef struct {
    Taps y, x;
} ResizeSaved;

/* Scatters one plane's output gradient into acc [H,W] (double, so that the up to (2*in/out)^2
 * contributions per input add up without float rounding). Separably: each output row is first
 * scattered along x into row [W], then added into its two input rows with the y weights, a vector
 * loop; half the scalar scatters of doing all four taps per output. */
static void resize_plane_backward(const ResizeSaved *s, const real_t *go, int OH, int OW, double *acc, int W,
                                  double *row) {
    for (int oy = 0; oy < OH; oy++) {
        memset(row, 0, (size_t)W * sizeof *row);
        const real_t *g = go + (size_t)oy * OW;
        for (int ox = 0; ox < OW; ox++)
            row[s->x.i0[ox]] += (double)g[ox] * s->x.w0[ox], row[s->x.i1[ox]] += (double)g[ox] * s->x.w1[ox];
        double *r0 = acc + (size_t)s->y.i0[oy] * W, *r1 = acc + (size_t)s->y.i1[oy] * W;
        double wy0 = s->y.w0[oy], wy1 = s->y.w1[oy];
        for (int x = 0; x < W; x++) r0[x] += wy0 * row[x];
        for (int x = 0; x < W; x++) r1[x] += wy1 * row[x];
    }
}

static void resize_backward(Node *n) {
    if (!node_wants(n, 0)) return;
    Tensor *x = n->in[0], *out = n->out;
    const ResizeSaved *s = n->saved;
    int H = TH(x), W = TW(x), OH = TH(out), OW = TW(out), planes = TN(x) * TC(x);
    size_t hw = (size_t)H * W;
    bool acc_dx;
    real_t *dx = tensor_grad_write(x, &acc_dx); /* [N,C,H,W] */
    /* one plane per iteration: a plane's scatter stays inside its own input plane */
#pragma omp parallel if (planes > 1 && (size_t)planes * OH * OW > 16384)
    {
        double *acc = xmalloc((hw + (size_t)W) * sizeof *acc); /* [H,W] + a row [W] per thread */
#pragma omp for schedule(static)
        for (int p = 0; p < planes; p++) {
            memset(acc, 0, hw * sizeof *acc);
            resize_plane_backward(s, out->grad + (size_t)p * OH * OW, OH, OW, acc, W, acc + hw);
            real_t *gi = dx + (size_t)p * hw; /* [H,W] */
            if (acc_dx)
                for (size_t i = 0; i < hw; i++) gi[i] += (real_t)acc[i];
            else
                for (size_t i = 0; i < hw; i++) gi[i] = (real_t)acc[i];
        }
        free(acc);
    }
}

/* Row r of a plane [., W] resized along x into h [ow]: two taps per output. */
static void resize_row_x(const ResizeSaved *s, const real_t *r, int ow, real_t *h) {
    for (int ox = 0; ox < ow; ox++) h[ox] = s->x.w0[ox] * r[s->x.i0[ox]] + s->x.w1[ox] * r[s->x.i1[ox]];
}

/* One plane, separably: each input row is resized along x once, when an output row first needs it
 * (h[0], h[1] keep the last two; the taps move down monotonically), then output rows are two-row
 * blends, a vector loop. The gathers per output fall from four to about one when upsampling. The
 * sums are those of the direct formula regrouped: wy0*(x-resized row i0) + wy1*(x-resized row i1). */
static void resize_plane(const ResizeSaved *s, const real_t *in, int W, real_t *o, int oh, int ow, real_t *buf) {
    real_t *h[2] = {buf, buf + ow};
    int have[2] = {-1, -1};
    for (int oy = 0; oy < oh; oy++) {
        int want[2] = {s->y.i0[oy], s->y.i1[oy]};
        const real_t *src[2];
        for (int t = 0; t < 2; t++) {
            int k = have[0] == want[t] ? 0 : have[1] == want[t] ? 1 : -1;
            if (k < 0) { /* replace the row the other tap does not use */
                k = have[0] == want[1 - t] ? 1 : 0;
                resize_row_x(s, in + (size_t)want[t] * W, ow, h[k]);
                have[k] = want[t];
            }
            src[t] = h[k];
        }
        real_t wy0 = s->y.w0[oy], wy1 = s->y.w1[oy], *d = o + (size_t)oy * ow;
        for (int ox = 0; ox < ow; ox++) d[ox] = wy0 * src[0][ox] + wy1 * src[1][ox];
    }
}

Tensor *op_resize_bilinear(Tensor *x, int oh, int ow) {
    OPS_DISPATCH(resize_bilinear, x->device, x, oh, ow);
    RN_CHECK(oh > 0 && ow > 0, "resize_bilinear: output size %dx%d", oh, ow);
    int H = TH(x), W = TW(x), planes = TN(x) * TC(x);
    ResizeSaved *s = arena_alloc(engine_arena(), sizeof *s);
    s->y = resize_taps(H, oh), s->x = resize_taps(W, ow);
    Tensor *out = tensor_new(TN(x), TC(x), oh, ow); /* [N,C,oh,ow] */
    real_t *rows = arena_alloc(engine_arena(), (size_t)omp_get_max_threads() * 2 * ow * sizeof *rows);
#pragma omp parallel for schedule(static) if (planes > 1 && (size_t)planes * oh * ow > 16384)
    for (int p = 0; p < planes; p++)
        resize_plane(s, x->data + (size_t)p * H * W, W, out->data + (size_t)p * oh * ow, oh, ow,
                     rows + (size_t)omp_get_thread_num() * 2 * ow);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_RESIZE_BILINEAR, resize_backward, out, x, NULL, NULL, NULL);
        n->saved = s;
    }
    return out;
}
