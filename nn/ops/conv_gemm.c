/* conv_gemm.c: convolution as im2col + GEMM (or no im2col for pointwise convs), parallelised over disjoint output blocks. */
#include "nn/ops/conv_gemm.h"

#include <omp.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/ops/conv_direct.h"
#include "nn/ops/conv_winograd.h"
#include "nn/profile.h"
#include "nn/tensor.h"

/* One block of unfolded columns is sized to stay in a core's L2 (1 MiB here) next to the packed
 * GEMM operands, so im2col writes it and the GEMM reads it back from cache, not memory. Measured
 * (1 thread, CPU time): 128..1024 KiB alike for ResNet shapes, 4 MiB+ 20-40% slower on CARN-M's
 * group convs at 64x64. Blocks narrower than 512 columns made ResNet's 512-channel 12x15 convs
 * 3x slower (the 512x4608 weight is re-packed by every GEMM call). */
#define COL_BLOCK_BYTES ((size_t)384 << 10)
#define MIN_BLOCK_COLS 512

/* Names of the breakdown's sub-regions (rune bench --breakdown): whether data movement or the
 * GEMM itself dominates a conv. conv_transpose2d runs the same passes with the roles swapped. */
#define PART_FWD_COL "im2col [conv y=Wx]"
#define PART_FWD_GEMM "gemm [conv y=Wx]"
#define PART_DX_GEMM "gemm [conv dx=W'dy]"
#define PART_DX_COL "col2im [conv dx=W'dy]"
#define PART_DW_COL "im2col [conv dW]"
#define PART_DW_GEMM "gemm [conv dW]"

static int imin(int a, int b) { return a < b ? a : b; }
static int ceil_div(int a, int b) { return (a + b - 1) / b; }
static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

/* Output rows per block so that `k` unfolded rows of the block fit COL_BLOCK_BYTES, but at least
 * MIN_BLOCK_COLS columns: every GEMM call re-packs the weight, a cost paid back over the columns. */
static int rows_per_block(int k, const ConvGeom *g) {
    size_t row = (size_t)k * g->OW * sizeof(real_t);
    int rb = (int)(COL_BLOCK_BYTES / row), least = ceil_div(MIN_BLOCK_COLS, g->OW);
    if (rb < least) rb = least;
    return rb < 1 ? 1 : rb > g->OH ? g->OH : rb;
}

/* Blocks to split `c` channels into so that `tasks` * blocks spreads evenly over nt threads. */
static int channel_blocks(int tasks, int c, int nt) { return imin(c, nt / gcd(tasks, nt)); }

/* Thread-private scratch of `per` elements for each of nt threads (from the arena). */
static real_t *scratch(int nt, size_t per) {
    return per ? arena_alloc(engine_arena(), (size_t)nt * per * sizeof(real_t)) : NULL;
}

void conv_gemm_forward(const real_t *x, const real_t *w, const real_t *bias, real_t *y, const ConvGeom *g, int N,
                       int G, int M, bool accumulate) {
    double td = profile_clock();
    if (conv_winograd_forward(x, w, NULL, bias, false, accumulate, y, g, N, G, M)) {
        profile_add_since("winograd [conv y=Wx]", td);
        return;
    }
    if (conv_direct_forward(x, w, bias, y, g, N, G, M, accumulate)) {
        profile_add_since("direct [conv y=Wx]", td);
        return;
    }
    int K = g->C * g->kh * g->kw, P = g->OH * g->OW, nt = omp_get_max_threads();
    bool pw = conv_geom_is_pointwise(g);
    int rb = pw ? g->OH : rows_per_block(K, g);
    if (N * ceil_div(g->OH, rb) < nt) rb = ceil_div(g->OH, imin(g->OH, ceil_div(nt, N)));
    int nblk = ceil_div(g->OH, rb);
    size_t xs = (size_t)g->C * g->H * g->W, ys = (size_t)M * P, per = pw ? 0 : (size_t)K * rb * g->OW;
    ArenaMark mark = arena_mark(engine_arena());
    real_t *buf = scratch(nt, per); /* nt x [K, rb*OW] */
    int old = gemm_set_threads(1);
    double t_col = 0, t_gemm = 0; /* thread seconds, for the breakdown only */
#pragma omp parallel for schedule(dynamic) reduction(+ : t_col, t_gemm)
    for (int t = 0; t < N * nblk; t++) {
        int n = t / nblk, oh0 = t % nblk * rb, oh1 = imin(oh0 + rb, g->OH), cols = (oh1 - oh0) * g->OW;
        real_t *col = pw ? NULL : buf + (size_t)omp_get_thread_num() * per; /* [K, cols] */
        for (int gi = 0; gi < G; gi++) {
            const real_t *xg = x + ((size_t)n * G + gi) * xs; /* [C, H, W] */
            const real_t *B = xg + (size_t)oh0 * g->OW;      /* pointwise: the plane is the operand */
            int ldb = P;
            double t0 = profile_clock();
            if (!pw) im2col(xg, g, 0, g->C, oh0, oh1, col), B = col, ldb = cols;
            t0 = profile_lap(&t_col, t0);
            gemm(false, false, M, cols, K, 1, w + (size_t)gi * M * K, K, B, ldb, accumulate ? 1 : 0,
                 y + ((size_t)n * G + gi) * ys + (size_t)oh0 * g->OW, P);
            profile_lap(&t_gemm, t0);
        }
    }
    gemm_set_threads(old);
    if (!pw) profile_add_threads(PART_FWD_COL, t_col, nt);
    profile_add_threads(PART_FWD_GEMM, t_gemm, nt);
    arena_rewind(engine_arena(), mark);
    if (bias && !accumulate) conv_bias_add(y, bias, N, G * M, (size_t)P);
}

/* Backward-data of one (image, group, channel block): dcol = w[:, block]^T dy, folded into dx.
 * t[0], t[1]: this thread's GEMM and col2im seconds (the breakdown's; untouched when it is off). */
static void backward_data_block(const real_t *dyg, const real_t *wg, real_t *dxg, const ConvGeom *g, int M,
                                int c0, int c1, int rb, bool accumulate, real_t *col, double t[2]) {
    int khw = g->kh * g->kw, K = g->C * khw, P = g->OH * g->OW;
    size_t plane = (size_t)g->H * g->W;
    double t0 = profile_clock();
    if (conv_geom_is_pointwise(g)) {
        gemm(true, false, c1 - c0, P, M, 1, wg + c0, K, dyg, P, accumulate ? 1 : 0, dxg + c0 * plane, P);
        profile_lap(&t[0], t0);
        return;
    }
    if (!accumulate) memset(dxg + c0 * plane, 0, (size_t)(c1 - c0) * plane * sizeof *dxg);
    t0 = profile_lap(&t[1], t0);
    for (int oh0 = 0; oh0 < g->OH; oh0 += rb) {
        int oh1 = imin(oh0 + rb, g->OH), cols = (oh1 - oh0) * g->OW;
        gemm(true, false, (c1 - c0) * khw, cols, M, 1, wg + c0 * khw, K, dyg + (size_t)oh0 * g->OW, P, 0, col,
             cols);
        t0 = profile_lap(&t[0], t0);
        col2im_add(col, g, c0, c1, oh0, oh1, dxg); /* row blocks overlap in dx: kept in one thread */
        t0 = profile_lap(&t[1], t0);
    }
}

void conv_gemm_backward_data(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N, int G,
                             int M, bool accumulate) {
    double td = profile_clock();
    if (conv_winograd_backward_data(dy, w, dx, g, N, G, M, accumulate)) {
        profile_add_since("winograd [conv dx=W'dy]", td);
        return;
    }
    if (conv_direct_backward_data(dy, w, dx, g, N, G, M, accumulate)) {
        profile_add_since("direct [conv dx=W'dy]", td);
        return;
    }
    if (conv_direct_backward_data_strided(dy, w, dx, g, N, G, M, accumulate)) {
        profile_add_since("direct s2 [conv dx=W'dy]", td);
        return;
    }
    int khw = g->kh * g->kw, K = g->C * khw, P = g->OH * g->OW, nt = omp_get_max_threads();
    int ncb = channel_blocks(N * G, g->C, nt), cb = ceil_div(g->C, ncb);
    ncb = ceil_div(g->C, cb);
    int rb = rows_per_block(cb * khw, g);
    size_t xs = (size_t)g->C * g->H * g->W, ys = (size_t)M * P;
    size_t per = conv_geom_is_pointwise(g) ? 0 : (size_t)cb * khw * rb * g->OW;
    ArenaMark mark = arena_mark(engine_arena());
    real_t *buf = scratch(nt, per); /* nt x [cb*kh*kw, rb*OW] */
    int old = gemm_set_threads(1);
    double t_gemm = 0, t_col = 0; /* thread seconds, for the breakdown only */
#pragma omp parallel for schedule(dynamic) reduction(+ : t_gemm, t_col)
    for (int t = 0; t < N * G * ncb; t++) {
        int ng = t / ncb, gi = ng % G, c0 = t % ncb * cb, c1 = imin(c0 + cb, g->C);
        double tt[2] = {0, 0};
        backward_data_block(dy + (size_t)ng * ys, w + (size_t)gi * M * K, dx + (size_t)ng * xs, g, M, c0, c1, rb,
                            accumulate, buf + (size_t)omp_get_thread_num() * per, tt);
        t_gemm += tt[0], t_col += tt[1];
    }
    gemm_set_threads(old);
    profile_add_threads(PART_DX_GEMM, t_gemm, nt);
    if (per) profile_add_threads(PART_DX_COL, t_col, nt);
    arena_rewind(engine_arena(), mark);
}

void conv_gemm_backward_weight(const real_t *x, const real_t *dy, real_t *dw, real_t *db, const ConvGeom *g, int N,
                               int G, int M) {
    double td = profile_clock();
    if (conv_direct_backward_weight(x, dy, dw, db, g, N, G, M)) {
        profile_add_since("direct [conv dW]", td);
        return;
    }
    if (db) conv_bias_grad(dy, db, N, G * M, (size_t)g->OH * g->OW);
    int khw = g->kh * g->kw, K = g->C * khw, P = g->OH * g->OW, nt = omp_get_max_threads();
    int ncb = channel_blocks(G, g->C, nt), cb = ceil_div(g->C, ncb);
    ncb = ceil_div(g->C, cb);
    bool pw = conv_geom_is_pointwise(g);
    int rb = pw ? g->OH : rows_per_block(cb * khw, g);
    size_t xs = (size_t)g->C * g->H * g->W, ys = (size_t)M * P, per = pw ? 0 : (size_t)cb * khw * rb * g->OW;
    ArenaMark mark = arena_mark(engine_arena());
    real_t *buf = scratch(nt, per); /* nt x [cb*kh*kw, rb*OW] */
    int old = gemm_set_threads(1);
    double t_col = 0, t_gemm = 0; /* thread seconds, for the breakdown only */
    /* each task owns a block of dw's columns and sums over images in order: no partial buffers */
#pragma omp parallel for schedule(dynamic) reduction(+ : t_col, t_gemm)
    for (int t = 0; t < G * ncb; t++) {
        int gi = t / ncb, c0 = t % ncb * cb, c1 = imin(c0 + cb, g->C);
        real_t *col = pw ? NULL : buf + (size_t)omp_get_thread_num() * per; /* [(c1-c0)*khw, rb*OW] */
        for (int n = 0; n < N; n++) {
            const real_t *xg = x + ((size_t)n * G + gi) * xs, *dyg = dy + ((size_t)n * G + gi) * ys;
            for (int oh0 = 0; oh0 < g->OH; oh0 += rb) {
                int oh1 = imin(oh0 + rb, g->OH), cols = (oh1 - oh0) * g->OW;
                const real_t *B = xg + (size_t)c0 * P + (size_t)oh0 * g->OW;
                double t0 = profile_clock();
                if (!pw) im2col(xg, g, c0, c1, oh0, oh1, col), B = col;
                t0 = profile_lap(&t_col, t0);
                gemm(false, true, M, (c1 - c0) * khw, cols, 1, dyg + (size_t)oh0 * g->OW, P, B, pw ? P : cols, 1,
                     dw + (size_t)gi * M * K + c0 * khw, K);
                profile_lap(&t_gemm, t0);
            }
        }
    }
    gemm_set_threads(old);
    if (!pw) profile_add_threads(PART_DW_COL, t_col, nt);
    profile_add_threads(PART_DW_GEMM, t_gemm, nt);
    arena_rewind(engine_arena(), mark);
}

void conv_bias_add(real_t *y, const real_t *b, int N, int C, size_t P) {
    double t = profile_clock();
#pragma omp parallel for schedule(static) if ((size_t)N * C * P > 65536)
    for (int nc = 0; nc < N * C; nc++) {
        real_t v = b[nc % C], *p = y + (size_t)nc * P;
        for (size_t i = 0; i < P; i++) p[i] += v;
    }
    profile_add_since("bias add [conv]", t);
}

void conv_bias_grad(const real_t *dy, real_t *db, int N, int C, size_t P) {
    double t = profile_clock();
#pragma omp parallel for schedule(static) if ((size_t)N * C * P > 65536)
    for (int c = 0; c < C; c++) {
        double s = 0; /* double: sums over N*P terms */
        for (int n = 0; n < N; n++) {
            const real_t *p = dy + ((size_t)n * C + c) * P;
            /* vector lanes of partial sums, added in a fixed order: one serial chain of double
             * adds ran at one element per add latency, 6 % of an ASR step */
#pragma omp simd reduction(+ : s)
            for (size_t i = 0; i < P; i++) s += p[i];
        }
        db[c] += (real_t)s;
    }
    profile_add_since("bias grad [conv]", t);
}
