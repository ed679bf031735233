/* test_ops_winograd.c: the Winograd F(4x4, 3x3) conv (nn/ops/conv_winograd.c) against a float64 loop, beside the direct kernel's error. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ops/conv_direct.h"
#include "nn/ops/conv_winograd.h"
#include "nn/tensor.h"
#include "tests/test.h"
#include "util/err.h"
#include "util/rng.h"

typedef struct {
    int n, c, m, h, w, pad;
} Shape;

/* Small batches over the planes ResNet-18 meets at 480x360 (12x15 .. 90x120) and odd ones (13x17,
 * 30x23: ragged tile edges), channel counts that fill MR blocks and 16-lane vectors or leave remainders. */
static const Shape SHAPES[] = {
    {2, 16, 16, 12, 15, 1}, {2, 64, 67, 13, 17, 1}, {2, 67, 64, 30, 23, 0}, {2, 16, 64, 30, 23, 1},
    {1, 64, 16, 90, 120, 1}, {2, 67, 67, 12, 15, 1}, {2, 64, 64, 13, 17, 0}, {1, 16, 67, 45, 60, 1},
    {1, 25, 28, 30, 40, 1}, /* ESPNet-like odd channel counts: buffers that are not whole 64-byte lines */
    {1, 300, 20, 12, 15, 1}, {1, 20, 300, 12, 15, 1}, /* input channels in several chunks (sums carried over) */
};

static ConvGeom geom(const Shape *s) {
    ConvGeom g = {.C = s->c, .H = s->h, .W = s->w, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = s->pad, .pw = s->pad,
                  .dh = 1, .dw = 1};
    g.OH = s->h + 2 * s->pad - 2, g.OW = s->w + 2 * s->pad - 2;
    return g;
}

static float *rand_buf(size_t n, uint64_t seed, float lo, float hi) {
    float *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)((splitmix64_next(&seed) >> 40) * 0x1p-24);
    return p;
}

/* y = (y0 if given) + conv(x, w * wscale) + bias, then max(., 0) when relu, in double; G groups of
 * C -> M channels: x [N, G*C, H, W], w [G*M, C, 3, 3], y [N, G*M, OH, OW]. */
static void ref_forward_g(const float *x, const float *w, const float *wscale, const float *bias, bool relu,
                          const float *y0, double *y, const ConvGeom *g, int N, int G, int M) {
    for (int n = 0; n < N; n++)
        for (int m = 0; m < G * M; m++)
            for (int oh = 0; oh < g->OH; oh++)
                for (int ow = 0; ow < g->OW; ow++) {
                    double s = 0;
                    for (int c = 0; c < g->C; c++)
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++) {
                                int ih = oh - g->ph + i, iw = ow - g->pw + j;
                                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) continue;
                                s += (double)x[(((size_t)n * G * g->C + m / M * g->C + c) * g->H + ih) * g->W + iw] *
                                     w[(((size_t)m * g->C + c) * 3 + i) * 3 + j];
                            }
                    size_t k = (((size_t)n * G * M + m) * g->OH + oh) * g->OW + ow;
                    if (wscale) s *= wscale[m];
                    if (bias) s += bias[m];
                    if (y0) s += y0[k];
                    y[k] = relu && s < 0 ? 0 : s;
                }
}

/* dx = (dx0 if given) + the conv's adjoint of dy, in double (G groups, layouts as ref_forward_g). */
static void ref_backward_data_g(const float *dy, const float *w, const float *dx0, double *dx, const ConvGeom *g,
                                int N, int G, int M) {
    size_t nx = (size_t)N * G * g->C * g->H * g->W;
    for (size_t i = 0; i < nx; i++) dx[i] = dx0 ? dx0[i] : 0;
    for (int n = 0; n < N; n++)
        for (int m = 0; m < G * M; m++)
            for (int oh = 0; oh < g->OH; oh++)
                for (int ow = 0; ow < g->OW; ow++) {
                    double d = dy[(((size_t)n * G * M + m) * g->OH + oh) * g->OW + ow];
                    for (int c = 0; c < g->C; c++)
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++) {
                                int ih = oh - g->ph + i, iw = ow - g->pw + j;
                                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) continue;
                                dx[(((size_t)n * G * g->C + m / M * g->C + c) * g->H + ih) * g->W + iw] +=
                                    d * w[(((size_t)m * g->C + c) * 3 + i) * 3 + j];
                            }
                }
}

/* max |got - ref| / max |ref|: the error relative to the output's scale. */
static double rel_err(const float *got, const double *ref, size_t n) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(ref[i])), worst = fmax(worst, fabs(got[i] - ref[i]));
    return worst / (scale > 0 ? scale : 1);
}

/* The bound: a multiple of the direct kernel's error (float32, one FMA chain per output) on the same
 * data, both relative to the output's largest magnitude. Measured on these shapes (x, w uniform in
 * [-1, 1], 2026-11-30): direct 3.5e-7 (16 channels) .. 1.7e-6 (300), Winograd F(4x4, 3x3) 3.2e-6 ..
 * 9.7e-6, 4.6 to 11.2 times the direct kernel's, as expected from the transforms' constants (up to 8
 * in A, 5 in B, 1/6 and 1/24 in G). The factor 16 is that 11.2 rounded up; a wrong transform
 * coefficient gives errors of 1e-3 and more. */
#define WINOGRAD_FACTOR 16

/* Every shape through both schemes of conv_winograd.c (blocks of tiles with U transformed up front,
 * and U transformed per output channel block inside the loop) and through the default choice. */
static const char *SCHEMES[3] = {"0", "1", NULL};

/* The kernels exist only in float32 builds for AVX-512 (and so does the direct kernel these tests
 * compare with); elsewhere the tests that run them are skipped, and the refusals still checked. */
static void need_winograd(void) {
    if (!conv_winograd_built()) SKIP("this build has no Winograd kernels (float32 for AVX-512 only)");
}

/* One thread or two, one block per thread or threads sharing a block: the same bits. */
TEST(winograd_same_bits_on_any_thread_count) {
    need_winograd();
    static const Shape cases[] = {{1, 64, 64, 90, 120, 1}, {1, 128, 64, 12, 15, 1}};
    for (size_t k = 0; k < 2; k++) {
        const Shape *s = &cases[k];
        ConvGeom g = geom(s);
        size_t nx = (size_t)s->n * s->c * s->h * s->w, ny = (size_t)s->n * s->m * g.OH * g.OW;
        float *x = rand_buf(nx, 800 + k, -1, 1), *w = rand_buf((size_t)s->m * s->c * 9, 900 + k, -1, 1);
        float *y1 = xmalloc(ny * sizeof *y1), *y2 = xmalloc(ny * sizeof *y2);
        int old = omp_get_max_threads();
        omp_set_num_threads(1);
        EXPECT(conv_winograd_forward(x, w, NULL, NULL, false, false, y1, &g, s->n, 1, s->m), "case %zu", k);
        omp_set_num_threads(2);
        EXPECT(conv_winograd_forward(x, w, NULL, NULL, false, false, y2, &g, s->n, 1, s->m), "case %zu", k);
        omp_set_num_threads(old);
        EXPECT(memcmp(y1, y2, ny * sizeof *y1) == 0, "case %zu: 1 and 2 threads differ", k);
        free(x), free(w), free(y1), free(y2);
    }
}

/* The shapes it must leave to the other paths: false, and the output untouched. */
TEST(winograd_refuses_what_it_does_not_compute) {
    static const struct { int c, m, k, stride, dil, groups; } cases[] = {
        {32, 32, 3, 2, 1, 1}, /* stride 2 */
        {32, 32, 3, 1, 1, 2}, /* groups 2 */
        {32, 32, 1, 1, 1, 1}, /* 1x1 */
        {32, 32, 3, 1, 2, 1}, /* dilation 2 */
        {32, 32, 5, 1, 1, 1}, /* 5x5 */
    };
    float *x = rand_buf(2 * 32 * 20 * 20, 1000, -1, 1), *w = rand_buf(32 * 32 * 25, 1001, -1, 1);
    float *y = xmalloc(2 * 32 * 20 * 20 * sizeof *y);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int G = cases[k].groups, kk = cases[k].k, d = cases[k].dil, st = cases[k].stride;
        ConvGeom g = {.C = cases[k].c / G, .H = 20, .W = 20, .kh = kk, .kw = kk, .sh = st, .sw = st, .ph = 1, .pw = 1,
                      .dh = d, .dw = d};
        g.OH = conv_out_size(20, kk, st, 1, d), g.OW = g.OH;
        for (int i = 0; i < 2 * 32 * 20 * 20; i++) y[i] = 7;
        EXPECT(!conv_winograd_forward(x, w, NULL, NULL, false, false, y, &g, 2, G, cases[k].m / G), "case %zu", k);
        EXPECT(!conv_winograd_backward_data(x, w, y, &g, 2, G, cases[k].m / G, true), "case %zu", k);
        bool same = true;
        for (int i = 0; i < 2 * 32 * 20 * 20; i++) same &= y[i] == 7;
        EXPECT(same, "case %zu: output touched", k);
    }
    /* too few tiles to pay for the weight transform: 8x8 outputs of one image are 4 tiles */
    ConvGeom small = {.C = 32, .H = 8, .W = 8, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = 1, .pw = 1, .dh = 1, .dw = 1,
                      .OH = 8, .OW = 8};
    EXPECT(!conv_winograd_forward(x, w, NULL, NULL, false, false, y, &small, 1, 1, 32), "8x8 plane");
    EXPECT(conv_winograd_forward(x, w, NULL, NULL, false, false, y, &small, 3, 1, 32) || !conv_winograd_built(),
           "three 8x8 planes");
    ConvGeom g = {.C = 32, .H = 20, .W = 20, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = 1, .pw = 1, .dh = 1, .dw = 1,
                  .OH = 20, .OW = 20};
    bool old = conv_winograd_set_enabled(false);
    EXPECT(!conv_winograd_forward(x, w, NULL, NULL, false, false, y, &g, 2, 1, 32), "switched off");
    conv_winograd_set_enabled(true);
    EXPECT(conv_winograd_forward(x, w, NULL, NULL, false, false, y, &g, 2, 1, 32) || !conv_winograd_built(), "switched on");
    conv_winograd_set_enabled(old);
    free(x), free(w), free(y);
}

/* Grouped convs (G groups of c -> m channels; the CARN-M shapes are 4 groups of 16): planes with tile
 * rows of 16+ tiles (what conv_winograd.c takes for groups > 1), odd sizes, ragged tile edges, batch
 * 1 and 3, 16 and 20 channels a group, m > c (forward only: backward-data is refused there). */
typedef struct {
    int n, G, c, m, h, w, pad;
} GShape;
static const GShape GSHAPES[] = {
    {3, 2, 16, 16, 9, 67, 1}, {1, 4, 16, 16, 13, 70, 0}, {1, 4, 20, 20, 11, 65, 1},
    {3, 2, 20, 16, 7, 66, 1}, {1, 4, 16, 20, 10, 64, 1}, {1, 4, 16, 64, 6, 90, 1},
};

static ConvGeom ggeom(const GShape *s) {
    Shape t = {s->n, s->c, s->m, s->h, s->w, s->pad};
    return geom(&t);
}

/* Shape s (k = its index * 3 + the scheme) forward, fused, accumulate against float64 and the direct
 * kernel; seed offsets the random data; worst[0], worst[1]: the largest winograd / direct errors. */
static void check_forward(const GShape *s, size_t kk, uint64_t seed, double worst[2]) {
    size_t k = kk / 3;
    if (SCHEMES[kk % 3]) setenv("RUNE_WINOGRAD_FUSED", SCHEMES[kk % 3], 1);
    else unsetenv("RUNE_WINOGRAD_FUSED");
    ConvGeom g = ggeom(s);
    int GM = s->G * s->m;
    size_t nx = (size_t)s->n * s->G * s->c * s->h * s->w, ny = (size_t)s->n * GM * g.OH * g.OW;
    float *x = rand_buf(nx, seed + 1 + k, -1, 1), *w = rand_buf((size_t)GM * s->c * 9, seed + 100 + k, -1, 1);
    float *wscale = rand_buf((size_t)GM, seed + 200 + k, 0.5f, 1.5f), *bias = rand_buf((size_t)GM, seed + 300 + k, -2, 2);
    float *y = xmalloc(ny * sizeof *y), *y0 = rand_buf(ny, seed + 400 + k, -1, 1);
    double *ref = xmalloc(ny * sizeof *ref);
    for (int v = 0; v < 4; v++) { /* 0: plain, 1: bias, 2: wscale + bias + relu, 3: accumulate */
        const float *ws = v == 2 ? wscale : NULL, *b = v == 1 || v == 2 ? bias : NULL;
        bool relu = v == 2, acc = v == 3;
        ref_forward_g(x, w, ws, b, relu, acc ? y0 : NULL, ref, &g, s->n, s->G, s->m);
        memcpy(y, y0, ny * sizeof *y);
        bool took = conv_winograd_forward(x, w, ws, b, relu, acc, y, &g, s->n, s->G, s->m);
        EXPECT(took, "shape %zu (groups %d): winograd refused", k, s->G);
        double ew = rel_err(y, ref, ny);
        memcpy(y, y0, ny * sizeof *y);
        double ed = -1;
        if (acc ? conv_direct_forward(x, w, NULL, y, &g, s->n, s->G, s->m, true)
                : conv_direct_forward_fused(x, w, ws, b, relu, y, &g, s->n, s->G, s->m))
            ed = rel_err(y, ref, ny);
        printf("    %dx(%d groups %d->%d) %dx%d pad %d scheme %s case %d: relative max error winograd %.2e direct %.2e\n",
               s->n, s->G, s->c, s->m, s->h, s->w, s->pad, SCHEMES[kk % 3] ? SCHEMES[kk % 3] : "default", v, ew, ed);
        EXPECT(ed > 0 && ew < WINOGRAD_FACTOR * ed, "shape %zu (groups %d) case %d: error %.2e, direct %.2e", k, s->G,
               v, ew, ed);
        worst[0] = fmax(worst[0], ew), worst[1] = fmax(worst[1], ed);
    }
    free(x), free(w), free(wscale), free(bias), free(y), free(y0), free(ref);
}

/* The same for backward-data, plain and accumulating; grouped shapes with m > c must be refused. */
static void check_backward_data(const GShape *s, size_t kk, uint64_t seed, double worst[2]) {
    size_t k = kk / 3;
    if (SCHEMES[kk % 3]) setenv("RUNE_WINOGRAD_FUSED", SCHEMES[kk % 3], 1);
    else unsetenv("RUNE_WINOGRAD_FUSED");
    ConvGeom g = ggeom(s);
    int GM = s->G * s->m;
    size_t nx = (size_t)s->n * s->G * s->c * s->h * s->w, ny = (size_t)s->n * GM * g.OH * g.OW;
    float *dy = rand_buf(ny, seed + 500 + k, -1, 1), *w = rand_buf((size_t)GM * s->c * 9, seed + 600 + k, -1, 1);
    float *dx = xmalloc(nx * sizeof *dx), *dx0 = rand_buf(nx, seed + 700 + k, -1, 1);
    double *ref = xmalloc(nx * sizeof *ref);
    for (int acc = 0; acc < 2; acc++) {
        memcpy(dx, dx0, nx * sizeof *dx);
        bool took = conv_winograd_backward_data(dy, w, dx, &g, s->n, s->G, s->m, acc);
        if (s->G > 1 && s->m > s->c) { /* measured slower there: left to the direct kernel, dx untouched */
            EXPECT(!took && memcmp(dx, dx0, nx * sizeof *dx) == 0, "grouped shape %zu: m > c taken", k);
            continue;
        }
        EXPECT(took, "shape %zu (groups %d): winograd refused", k, s->G);
        ref_backward_data_g(dy, w, acc ? dx0 : NULL, ref, &g, s->n, s->G, s->m);
        double ew = rel_err(dx, ref, nx), ed = -1;
        memcpy(dx, dx0, nx * sizeof *dx);
        if (conv_direct_backward_data(dy, w, dx, &g, s->n, s->G, s->m, acc)) ed = rel_err(dx, ref, nx);
        printf("    %dx(%d groups %d->%d) %dx%d pad %d scheme %s accumulate %d: dx relative max error winograd %.2e direct %.2e\n",
               s->n, s->G, s->c, s->m, s->h, s->w, s->pad, SCHEMES[kk % 3] ? SCHEMES[kk % 3] : "default", acc, ew, ed);
        EXPECT(ed > 0 && ew < WINOGRAD_FACTOR * ed, "shape %zu (groups %d) accumulate %d: error %.2e, direct %.2e", k,
               s->G, acc, ew, ed);
        worst[0] = fmax(worst[0], ew), worst[1] = fmax(worst[1], ed);
    }
    free(dy), free(w), free(dx), free(dx0), free(ref);
}

/* check over every ungrouped shape (as groups of one) and scheme; prints the worst errors. */
static void check_ungrouped(void (*check)(const GShape *, size_t, uint64_t, double[2])) {
    double worst[2] = {0, 0};
    for (size_t kk = 0; kk < 3 * sizeof SHAPES / sizeof *SHAPES; kk++) {
        const Shape *u = &SHAPES[kk / 3];
        GShape s = {u->n, 1, u->c, u->m, u->h, u->w, u->pad};
        check(&s, kk, 0, worst);
    }
    unsetenv("RUNE_WINOGRAD_FUSED");
    printf("    worst: winograd %.2e direct %.2e\n", worst[0], worst[1]);
}

TEST(winograd_forward_matches_float64) {
    need_winograd();
    check_ungrouped(check_forward);
}

TEST(winograd_backward_data_matches_float64) {
    need_winograd();
    check_ungrouped(check_backward_data);
}

TEST(winograd_grouped_forward_matches_float64) {
    need_winograd();
    double worst[2] = {0, 0};
    for (size_t kk = 0; kk < 3 * sizeof GSHAPES / sizeof *GSHAPES; kk++) check_forward(&GSHAPES[kk / 3], kk, 1000, worst);
    unsetenv("RUNE_WINOGRAD_FUSED");
    printf("    worst: winograd %.2e direct %.2e\n", worst[0], worst[1]);
}

TEST(winograd_grouped_backward_data_matches_float64) {
    need_winograd();
    double worst[2] = {0, 0};
    for (size_t kk = 0; kk < 3 * sizeof GSHAPES / sizeof *GSHAPES; kk++)
        check_backward_data(&GSHAPES[kk / 3], kk, 1000, worst);
    unsetenv("RUNE_WINOGRAD_FUSED");
    printf("    worst: winograd %.2e direct %.2e\n", worst[0], worst[1]);
}

/* Grouped shapes it leaves to the direct kernel (measured slower, conv_winograd.c's group_pays):
 * CARN-M's training planes (16x16, batch 16 and 1), 8 channels a group. False, output untouched. */
TEST(winograd_grouped_refuses_below_threshold) {
    static const GShape cases[] = {{16, 4, 16, 16, 16, 16, 1}, {1, 4, 16, 16, 16, 16, 1}, {1, 4, 8, 8, 20, 80, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const GShape *s = &cases[k];
        ConvGeom g = ggeom(s);
        size_t nx = (size_t)s->n * s->G * s->c * s->h * s->w, ny = (size_t)s->n * s->G * s->m * g.OH * g.OW;
        float *x = rand_buf(nx, 1900 + k, -1, 1), *w = rand_buf((size_t)s->G * s->m * s->c * 9, 2000 + k, -1, 1);
        float *y = xmalloc(ny * sizeof *y), *dx = xmalloc(nx * sizeof *dx);
        for (size_t i = 0; i < ny; i++) y[i] = 7;
        for (size_t i = 0; i < nx; i++) dx[i] = 7;
        EXPECT(!conv_winograd_forward(x, w, NULL, NULL, false, false, y, &g, s->n, s->G, s->m), "case %zu", k);
        EXPECT(!conv_winograd_backward_data(y, w, dx, &g, s->n, s->G, s->m, true), "case %zu", k);
        bool same = true;
        for (size_t i = 0; i < ny; i++) same &= y[i] == 7;
        for (size_t i = 0; i < nx; i++) same &= dx[i] == 7;
        EXPECT(same, "case %zu: output touched", k);
        free(x), free(w), free(y), free(dx);
    }
}
