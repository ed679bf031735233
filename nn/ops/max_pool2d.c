/* max_pool2d.c: max pooling (kernel k, stride s, padding p as -inf); backward routes to the argmax. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/pool_backward.h"
#include "util/err.h"

/* Outputs [ox0, ox1) of one output row whose windows lie inside the row (no clipping): the same
 * scan as pool_window, turned inside out so that each window element is one pass over the row's
 * outputs, a loop the compiler vectorises (the scalar scan was 1/16 of SwiftNet's forward with a
 * tape). The (y, x) order of the passes is the window's row-major order, so ties and NaNs resolve
 * exactly as there. */
static void pool_row_inner(const real_t *in, int W, int y0, int y1, int k, int s, int p, int ox0, int ox1,
                           real_t *out, int *arg) {
    for (int ox = ox0; ox < ox1; ox++) out[ox] = -INFINITY, arg[ox] = y0 * W + ox * s - p;
    for (int y = y0; y < y1; y++)
        for (int j = 0; j < k; j++) {
            const real_t *r = in + (size_t)y * W - p + j;
            int base = y * W - p + j;
#pragma omp simd
            for (int ox = ox0; ox < ox1; ox++) {
                real_t v = r[ox * s];
                bool t = v > out[ox] || v != v;
                out[ox] = t ? v : out[ox];
                arg[ox] = t ? base + ox * s : arg[ox];
            }
        }
}

/* One output of one row: the window scanned in row-major order. Like PyTorch, the first maximum
 * wins a tie; a NaN wins over any number (the last NaN seen). */
static void pool_window(const real_t *in, int W, int y0, int y1, int ox, int k, int s, int p, real_t *out,
                        int *arg) {
    int x0 = ox * s - p, x1 = x0 + k < W ? x0 + k : W;
    if (x0 < 0) x0 = 0;
    int best = y0 * W + x0;
    real_t m = -INFINITY;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            real_t v = in[y * W + x];
            if (v > m || isnan(v)) m = v, best = y * W + x;
        }
    out[ox] = m, arg[ox] = best;
}

/* One plane: out [OH,OW] = window maxima of in [H,W]; arg [OH,OW] = index in the plane of the
 * maximum. Columns whose windows are clipped by the padding go one by one, the rest a row at a time. */
static void pool_plane(const real_t *in, int H, int W, real_t *out, int *arg, int OH, int OW, int k, int s, int p) {
    int oxa = (p + s - 1) / s, oxb = W + p < k ? 0 : (W + p - k) / s + 1; /* x0 >= 0, x0 + k <= W in [oxa, oxb) */
    if (oxb > OW) oxb = OW;
    if (oxa > oxb) oxa = oxb = OW;
    for (int oy = 0; oy < OH; oy++) {
        int y0 = oy * s - p, y1 = y0 + k < H ? y0 + k : H;
        if (y0 < 0) y0 = 0;
        real_t *orow = out + (size_t)oy * OW;
        int *arow = arg + (size_t)oy * OW;
        for (int ox = 0; ox < oxa; ox++) pool_window(in, W, y0, y1, ox, k, s, p, orow, arow);
        pool_row_inner(in, W, y0, y1, k, s, p, oxa, oxb, orow, arow);
        for (int ox = oxb; ox < OW; ox++) pool_window(in, W, y0, y1, ox, k, s, p, orow, arow);
    }
}

/* The larger of a and b, a NaN in either winning (pool_plane's rule), branch-free so loops vectorise. */
static inline real_t max_nan(real_t a, real_t b) { return b > a || b != b ? b : a; }

/* ev[j] / od[j] = the max over rows [y0, y1) of column 2j / 2j+1 (od's last is -inf for odd W). */
static void pool_rows_deinterleaved(const real_t *in, int W, int y0, int y1, real_t *ev, real_t *od) {
    int half = W / 2;
    const real_t *r = in + (size_t)y0 * W;
    for (int j = 0; j < half; j++) ev[j] = r[2 * j], od[j] = r[2 * j + 1];
    if (W % 2) ev[half] = r[W - 1], od[half] = -INFINITY;
    for (int y = y0 + 1; y < y1; y++) {
        r = in + (size_t)y * W;
        for (int j = 0; j < half; j++) ev[j] = max_nan(ev[j], r[2 * j]), od[j] = max_nan(od[j], r[2 * j + 1]);
        if (W % 2) ev[half] = max_nan(ev[half], r[W - 1]);
    }
}

/* o[ox] = max over window columns x = 2*ox - p + t, t < k, inside [0, W): column x is ev[x/2] or
 * od[x/2]; one pass over the outputs per t, the clipped ends left out of that pass. */
static void pool_cols_stride2(const real_t *ev, const real_t *od, int W, real_t *o, int OW, int k, int p) {
    for (int ox = 0; ox < OW; ox++) o[ox] = -INFINITY;
    for (int t = 0; t < k; t++) {
        int sh = t - p; /* x = 2*ox + sh */
        int lo = sh < 0 ? (-sh + 1) / 2 : 0, hi = (W - 1 - sh) / 2 + 1; /* 0 <= x < W for ox in [lo, hi) */
        if (W - 1 - sh < 0) hi = 0;
        if (hi > OW) hi = OW;
        const real_t *src = (sh % 2 == 0 ? ev : od) + (sh >= 0 ? sh / 2 : -((-sh + 1) / 2));
        for (int ox = lo; ox < hi; ox++) o[ox] = max_nan(o[ox], src[ox]);
    }
}

/* pool_plane without the argmax, for inference (no tape): the k rows of each window are reduced
 * element by element first (a vector loop over whole rows), then each output takes the max of k
 * neighbours of that row. The maxima are pool_plane's; only the argmax bookkeeping is skipped,
 * which made the scalar loop 1/9 of SwiftNet's forward at 480x360. Stride 2 reduces the rows
 * straight into their even and odd columns, so that the neighbours of consecutive outputs are
 * consecutive floats (a vector loop again; the strided scalar max was 8 % of SwiftNet's forward). */
static void pool_plane_values(const real_t *in, int H, int W, real_t *out, int OH, int OW, int k, int s, int p,
                              real_t *row) {
    int half = (W + 1) / 2;
    real_t *ev = row, *od = row + half; /* stride 2: columns 2j and 2j+1 of the reduced row */
    for (int oy = 0; oy < OH; oy++) {
        int y0 = oy * s - p, y1 = y0 + k < H ? y0 + k : H;
        if (y0 < 0) y0 = 0;
        real_t *o = out + (size_t)oy * OW;
        if (s == 2) {
            pool_rows_deinterleaved(in, W, y0, y1, ev, od);
            pool_cols_stride2(ev, od, W, o, OW, k, p);
            continue;
        }
        for (int x = 0; x < W; x++) row[x] = in[(size_t)y0 * W + x];
        for (int y = y0 + 1; y < y1; y++)
            for (int x = 0; x < W; x++) row[x] = max_nan(row[x], in[(size_t)y * W + x]);
        for (int ox = 0; ox < OW; ox++) {
            int x0 = ox * s - p, x1 = x0 + k < W ? x0 + k : W;
            if (x0 < 0) x0 = 0;
            real_t m = row[x0];
            for (int x = x0 + 1; x < x1; x++) m = max_nan(m, row[x]);
            o[ox] = m;
        }
    }
}

/* Each output's gradient goes to its window's argmax (saved [N,C,OH,OW] plane indices). */
static void max_pool_plane_backward(const Node *n, int q, const real_t *go, double *acc) {
    size_t ohw = (size_t)TH(n->out) * TW(n->out);
    const int *arg = (const int *)n->saved + (size_t)q * ohw; /* [OH,OW] */
    for (size_t o = 0; o < ohw; o++) acc[arg[o]] += go[o];
}

static void max_pool_backward(Node *n) { pool_backward(n, max_pool_plane_backward); }

Tensor *op_max_pool2d_at(Tensor *x, int k, int s, int off, int OH, int OW, OpId id) {
    OPS_DISPATCH(max_pool2d_at, x->device, x, k, s, off, OH, OW, id);
    int H = TH(x), W = TW(x), planes = TN(x) * TC(x);
    Tensor *out = tensor_new(TN(x), TC(x), OH, OW); /* [N,C,OH,OW] */
    if (!tape_wants(x, NULL, NULL, NULL)) {
        real_t *rows = arena_alloc(engine_arena(), (size_t)omp_get_max_threads() * (W + 2) * sizeof *rows);
#pragma omp parallel for schedule(static) if (planes > 1 && tensor_numel(x) > 16384)
        for (int q = 0; q < planes; q++)
            pool_plane_values(x->data + (size_t)q * H * W, H, W, out->data + (size_t)q * OH * OW, OH, OW, k, s, off,
                              rows + (size_t)omp_get_thread_num() * (W + 2));
        return out;
    }
    int *arg = arena_alloc(engine_arena(), tensor_numel(out) * sizeof(int)); /* [N,C,OH,OW] */
#pragma omp parallel for schedule(static) if (planes > 1 && tensor_numel(x) > 16384)
    for (int q = 0; q < planes; q++)
        pool_plane(x->data + (size_t)q * H * W, H, W, out->data + (size_t)q * OH * OW, arg + (size_t)q * OH * OW, OH, OW,
                   k, s, off);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(id, max_pool_backward, out, x, NULL, NULL, NULL);
        n->saved = arg;
        n->iarg[0] = k, n->iarg[1] = s, n->iarg[2] = off;
    }
    return out;
}

/* No dispatch line: device-neutral checks, then op_max_pool2d_at dispatches. */
Tensor *op_max_pool2d(Tensor *x, int k, int s, int p) {
    RN_CHECK(k >= 1 && s >= 1 && p >= 0 && p <= k / 2, "max_pool2d: kernel %d stride %d padding %d (padding at most k/2)", k, s, p);
    int H = TH(x), W = TW(x), OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
    RN_CHECK(H + 2 * p >= k && W + 2 * p >= k, "max_pool2d: input %dx%d smaller than kernel %d", H, W, k);
    return op_max_pool2d_at(x, k, s, p, OH, OW, OP_MAX_POOL2D);
}
