/* test_ops_conv.c: conv2d and conv_transpose2d against PyTorch (scripts/fixtures/gen_conv.py) and a direct loop. */
#include <stdlib.h>
#include <string.h>

#include "nn/ops/ops.h"
#include "tests/fixture.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "util/err.h"

typedef struct {
    const char *name;
    bool transposed, bias;
    ConvArgs a;
    int out_pad;
} Case;

static ConvArgs args2(int sh, int sw, int ph, int pw, int d, int g) {
    return (ConvArgs){.stride_h = sh, .stride_w = sw, .pad_h = ph, .pad_w = pw, .dil_h = d, .dil_w = d, .groups = g};
}

/* Runs one fixture config forward and backward and compares everything with PyTorch. */
static void check_case(Fixture *f, const Case *c) {
    char k[64];
#define FX(s) (snprintf(k, sizeof k, "%s_%s", c->name, s), k)
    printf("  %s\n", c->name);
    Tensor *x = fx_tensor(f, FX("x")), *w = fx_tensor(f, FX("w")), *b = c->bias ? fx_tensor(f, FX("b")) : NULL;
    x->requires_grad = w->requires_grad = true;
    if (b) b->requires_grad = true;
    Tensor *y = c->transposed ? op_conv_transpose2d(x, w, b, c->a, c->out_pad, c->out_pad) : op_conv2d(x, w, b, c->a);
    fx_expect(f, FX("y"), y->data, tensor_numel(y), 1e-5, 1e-5);
    tape_backward_seed(y, fx_tensor(f, FX("seed"))->data);
    fx_expect(f, FX("dx"), x->grad, tensor_numel(x), 1e-5, 1e-5);
    fx_expect(f, FX("dw"), w->grad, tensor_numel(w), 1e-5, 1e-5);
    if (b) fx_expect(f, FX("db"), b->grad, tensor_numel(b), 1e-5, 1e-5);
    engine_step_reset();
#undef FX
}

TEST(torch_conv2d) {
    Fixture *f = fx_open("conv.h5");
    if (!f) return;
    Case cases[] = {
        {"basic", false, true, conv_args(2, 1, 1, 1), 0},
        {"carn_group", false, true, conv_args(1, 1, 1, 4), 0},
        {"esp_dilated", false, false, conv_args(1, 2, 2, 1), 0},
        {"pointwise", false, true, conv_args(1, 0, 1, 1), 0},
        {"depthwise", false, true, conv_args(1, 1, 1, 6), 0},
        {"down1x1", false, false, conv_args(2, 0, 1, 1), 0},
        {"asym", false, true, args2(2, 1, 1, 0, 1, 1), 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_case(f, &cases[i]);
    fx_close(f);
}

TEST(torch_conv_transpose2d) {
    Fixture *f = fx_open("conv.h5");
    if (!f) return;
    Case cases[] = {
        {"tconv", true, true, conv_args(2, 1, 1, 1), 1},
        {"tconv_g2d2", true, false, conv_args(1, 1, 2, 2), 1},
        {"tconv_k2", true, false, conv_args(2, 0, 1, 1), 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_case(f, &cases[i]);
    fx_close(f);
}

/* Direct-loop conv2d in double: y, and dx/dw for a given dy. */
static void direct_conv(const Tensor *x, const Tensor *w, const Tensor *y, const real_t *dy, ConvArgs a,
                        double *yr, double *dxr, double *dwr) {
    int Ci = TC(x), H = TH(x), W = TW(x), Co = TN(w), kh = TH(w), kw = TW(w), OH = TH(y), OW = TW(y);
    int cg = Ci / a.groups, og = Co / a.groups; /* channels per group in and out */
    for (int n = 0; n < TN(x); n++)
        for (int o = 0; o < Co; o++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    size_t yi = (((size_t)n * Co + o) * OH + oh) * OW + ow;
                    double s = 0;
                    for (int c = 0; c < cg; c++)
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++) {
                                int ih = oh * a.stride_h - a.pad_h + i * a.dil_h, iw = ow * a.stride_w - a.pad_w + j * a.dil_w;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                size_t xi = (((size_t)n * Ci + o / og * cg + c) * H + ih) * W + iw;
                                size_t wi = (((size_t)o * cg + c) * kh + i) * kw + j;
                                s += (double)x->data[xi] * w->data[wi];
                                dxr[xi] += (double)dy[yi] * w->data[wi];
                                dwr[wi] += (double)dy[yi] * x->data[xi];
                            }
                    yr[yi] = s;
                }
}

static double max_rel_err(const real_t *got, const double *ref, size_t n) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(ref[i]));
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(got[i] - ref[i]));
    return worst / (scale > 0 ? scale : 1);
}

/* Wide planes with many channels: im2col is split into row blocks and backward-data into channel
 * blocks across threads, paths the tiny PyTorch fixtures never reach. */
TEST(conv2d_blocked_matches_direct_loop) {
    Tensor *x = grad_input(1, 48, 9, 230, 1), *w = grad_input(40, 48, 3, 3, 2);
    ConvArgs a = conv_args(1, 1, 1, 1);
    Tensor *y = op_conv2d(x, w, NULL, a);
    Tensor *dy = tensor_like(y);
    fill_uniform(dy, 3, -1, 1);
    tape_backward_seed(y, dy->data);
    size_t ny = tensor_numel(y), nx = tensor_numel(x), nw = tensor_numel(w);
    double *yr = xcalloc(ny, sizeof *yr), *dxr = xcalloc(nx, sizeof *dxr), *dwr = xcalloc(nw, sizeof *dwr);
    direct_conv(x, w, y, dy->data, a, yr, dxr, dwr);
    double ey = max_rel_err(y->data, yr, ny), ex = max_rel_err(x->grad, dxr, nx), ew = max_rel_err(w->grad, dwr, nw);
    printf("    relative max errors: y %.2e dx %.2e dw %.2e\n", ey, ex, ew);
    EXPECT(ey < 1e-5 && ex < 1e-5 && ew < 1e-5, "y %.2e dx %.2e dw %.2e", ey, ex, ew);
    free(yr), free(dxr), free(dwr);
}

/* Two runs on the same inputs give bit-identical outputs and gradients (no atomics, fixed order). */
TEST(conv2d_deterministic) {
    real_t *first[3] = {0};
    for (int run = 0; run < 2; run++) {
        Tensor *x = grad_input(4, 16, 12, 12, 7), *w = grad_input(16, 4, 3, 3, 8), *b = grad_input(16, 1, 1, 1, 9);
        Tensor *y = op_conv2d(x, w, b, conv_args(1, 1, 1, 4));
        Tensor *dy = tensor_like(y);
        fill_uniform(dy, 10, -1, 1);
        tape_backward_seed(y, dy->data);
        real_t *got[3] = {y->data, x->grad, w->grad};
        size_t n[3] = {tensor_numel(y), tensor_numel(x), tensor_numel(w)};
        for (int i = 0; i < 3; i++) {
            if (run == 0) first[i] = memcpy(xmalloc(n[i] * sizeof(real_t)), got[i], n[i] * sizeof(real_t));
            else EXPECT(memcmp(first[i], got[i], n[i] * sizeof(real_t)) == 0, "output %d differs between runs", i);
        }
        engine_step_reset();
    }
    for (int i = 0; i < 3; i++) free(first[i]);
}

/* Geometries that reach every branch of the direct kernels (nn/ops/conv_direct*.c) where
 * the build has them, and the im2col path elsewhere: rows that are not a multiple of 16 or of a
 * tile, output channels that leave a remainder block, valid (unpadded) convs whose planes shrink,
 * dilation, groups, wide and asymmetric kernels, several small images per weight-gradient chunk and
 * a plane split across chunks, column stride 2, short rows, and a bias with its gradient. Each against the double-precision loop above. */
TEST(conv2d_direct_geometries_match_direct_loop) {
    static const struct { int n, c, h, w, m, kh, kw, ph, pw, d, g, sh, sw; } cases[] = {
        {2, 5, 7, 37, 19, 3, 3, 1, 1, 1, 1, 1, 1},   /* row tail, M remainder */
        {2, 6, 9, 23, 7, 3, 3, 0, 0, 1, 1, 1, 1},    /* valid conv: OW != W */
        {1, 8, 11, 40, 6, 5, 5, 4, 4, 2, 2, 1, 1},   /* dilation 2, groups 2 */
        {3, 4, 16, 16, 27, 7, 7, 3, 3, 1, 1, 1, 1},  /* 16-wide rows, 7x7 */
        {1, 6, 10, 50, 3, 3, 1, 1, 0, 1, 1, 1, 1},   /* 3x1, three outputs */
        {2, 4, 6, 33, 8, 1, 1, 1, 1, 1, 1, 1, 1},    /* 1x1 with padding: not pointwise */
        {20, 8, 4, 4, 16, 3, 3, 1, 1, 1, 4, 1, 1},   /* many tiny images, groups 4 */
        {1, 3, 70, 80, 5, 3, 3, 1, 1, 1, 1, 1, 1},   /* a plane over one weight-gradient chunk */
        {2, 16, 5, 130, 64, 3, 3, 1, 1, 1, 4, 1, 1}, /* CARN-like groups, 130-wide rows */
        {1, 3, 21, 75, 10, 7, 7, 3, 3, 1, 1, 2, 2}, /* ResNet's stem: 7x7 stride 2, odd plane */
        {2, 8, 9, 66, 12, 3, 3, 1, 1, 1, 1, 2, 2},  /* 3x3 stride 2 */
        {1, 8, 8, 40, 16, 1, 1, 0, 0, 1, 1, 2, 2},  /* 1x1 stride 2 (a downsample) */
        {1, 4, 7, 35, 6, 3, 3, 2, 2, 2, 1, 1, 2},   /* column stride 2 only, dilated */
        {2, 6, 9, 14, 20, 3, 3, 2, 2, 2, 1, 1, 1},  /* short rows, dilated, 126 pixels */
        {1, 5, 12, 15, 30, 3, 5, 1, 2, 1, 1, 1, 1}, /* ResNet layer4's 12x15 plane, a 3x5 kernel */
        {8, 24, 9, 13, 20, 1, 1, 0, 0, 1, 1, 1, 1}, /* pointwise over a batch: planes as one row */
        {3, 16, 16, 16, 64, 1, 1, 0, 0, 1, 2, 1, 1}, /* grouped pointwise, CARN's 16x16 */
        /* stride 2's backward-data by parity classes (nn/ops/conv_direct_s2dx.c): classes of
         * different sizes, a class with no taps (1x1), sub-paddings that differ per class and axis
         * and go negative (pad k-1), a 16-wide kernel, a plane one row high; rows of 31+ columns, the
         * narrowest the path takes */
        {1, 8, 13, 37, 16, 3, 3, 1, 1, 1, 1, 2, 2},  /* 3x3 s2, odd plane */
        {2, 8, 10, 34, 12, 3, 3, 1, 1, 1, 1, 2, 2},  /* 3x3 s2, even plane, batch 2 */
        {2, 8, 9, 33, 16, 1, 1, 0, 0, 1, 1, 2, 2},   /* 1x1 s2, odd plane */
        {2, 3, 19, 41, 8, 7, 7, 3, 3, 1, 1, 2, 2},   /* the stem's 7x7 s2, 3 channels, batch 2 */
        {2, 8, 11, 36, 12, 3, 3, 1, 1, 1, 2, 2, 2},  /* groups 2 */
        {1, 6, 12, 31, 10, 3, 5, 2, 0, 1, 1, 2, 2},  /* asymmetric kernel and pads */
        {1, 4, 9, 35, 6, 3, 3, 0, 2, 1, 1, 2, 2},    /* unpadded rows, columns padded k-1 */
        {1, 4, 9, 40, 6, 2, 16, 1, 15, 1, 2, 2, 2},  /* 16 wide, groups 2 */
        {1, 4, 1, 33, 4, 3, 3, 1, 1, 1, 1, 2, 2},    /* one row: an empty class */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const __typeof__(cases[0]) *c = &cases[k];
        ConvArgs a = {c->sh, c->sw, c->ph, c->pw, c->d, c->d, c->g};
        Tensor *x = grad_input(c->n, c->c, c->h, c->w, 20 + (unsigned)k);
        Tensor *w = grad_input(c->m, c->c / c->g, c->kh, c->kw, 40 + (unsigned)k);
        Tensor *b = grad_input(c->m, 1, 1, 1, 60 + (unsigned)k);
        Tensor *y = op_conv2d(x, w, b, a), *dy = tensor_like(y);
        fill_uniform(dy, 80 + (unsigned)k, -1, 1);
        tape_backward_seed(y, dy->data);
        size_t ny = tensor_numel(y), nx = tensor_numel(x), nw = tensor_numel(w), P = (size_t)TH(y) * TW(y);
        double *yr = xcalloc(ny, sizeof *yr), *dxr = xcalloc(nx, sizeof *dxr), *dwr = xcalloc(nw, sizeof *dwr);
        direct_conv(x, w, y, dy->data, a, yr, dxr, dwr);
        for (size_t i = 0; i < ny; i++) yr[i] += b->data[i / P % c->m];
        double *dbr = xcalloc((size_t)c->m, sizeof *dbr);
        for (size_t i = 0; i < ny; i++) dbr[i / P % c->m] += dy->data[i];
        double ey = max_rel_err(y->data, yr, ny), ex = max_rel_err(x->grad, dxr, nx), ew = max_rel_err(w->grad, dwr, nw);
        double eb = max_rel_err(b->grad, dbr, (size_t)c->m);
        printf("    case %zu: relative max errors y %.2e dx %.2e dw %.2e db %.2e\n", k, ey, ex, ew, eb);
        EXPECT(ey < 1e-5 && ex < 1e-5 && ew < 1e-5 && eb < 1e-5, "case %zu: y %.2e dx %.2e dw %.2e db %.2e", k, ey, ex,
               ew, eb);
        free(yr), free(dxr), free(dwr), free(dbr);
        engine_step_reset();
    }
}

/* Without a tape, op_conv2d_relu's fused store equals relu(conv2d) bit for bit (same kernel, same
 * order, the max taken on the same value), on the direct path and on im2col's (stride 3); with a
 * tape it is the two ops, so gradients flow as through them. */
TEST(conv2d_relu_fused_equals_relu_of_conv) {
    static const int stride[2] = {1, 3};
    for (int k = 0; k < 2; k++) {
        Tensor *x = grad_input(2, 8, 9, 40, 90 + (unsigned)k), *w = grad_input(12, 8, 3, 3, 92 + (unsigned)k);
        Tensor *b = grad_input(12, 1, 1, 1, 94 + (unsigned)k);
        ConvArgs a = conv_args(stride[k], 1, 1, 1);
        bool old = engine_set_grad(false);
        Tensor *ref = op_relu(op_conv2d(x, w, b, a)), *got = op_conv2d_relu(x, w, b, a);
        engine_set_grad(old);
        size_t n = tensor_numel(ref);
        EXPECT(n == tensor_numel(got) && memcmp(ref->data, got->data, n * sizeof(real_t)) == 0,
               "stride %d: the fused output differs from relu(conv2d)", stride[k]);
        size_t neg = 0;
        for (size_t i = 0; i < n; i++) neg += ref->data[i] == 0;
        EXPECT(neg > 0 && neg < n, "stride %d: the case should clip some outputs and keep others", stride[k]);
        engine_step_reset();
    }
}

/* op_conv2d_bn without a tape (the norm folded into the conv's weights and bias) against
 * batch_norm(conv2d) in inference mode, then relu: on the direct path and on im2col's (stride 3),
 * with and without the ReLU, with a conv bias. Folding rounds differently: relative 1e-5. */
TEST(conv2d_bn_fused_matches_the_ops) {
    for (int k = 0; k < 4; k++) {
        int stride = k % 2 ? 3 : 1;
        bool relu = k / 2;
        Tensor *x = grad_input(2, 6, 9, 35, 100 + (unsigned)k), *w = grad_input(10, 6, 3, 3, 102 + (unsigned)k);
        Tensor *b = grad_input(10, 1, 1, 1, 104), *gamma = grad_input(10, 1, 1, 1, 105);
        Tensor *beta = grad_input(10, 1, 1, 1, 106), *mean = grad_input(10, 1, 1, 1, 107);
        Tensor *var = grad_input(10, 1, 1, 1, 108);
        for (int c = 0; c < 10; c++) var->data[c] = (real_t)(0.5 + var->data[c] * var->data[c]);
        ConvArgs a = conv_args(stride, 1, 1, 1);
        bool old = engine_set_grad(false);
        Tensor *ref = op_batch_norm(op_conv2d(x, w, b, a), gamma, beta, mean, var, false, 0, (real_t)1e-5);
        if (relu) ref = op_relu(ref);
        Tensor *got = op_conv2d_bn(x, w, b, a, gamma, beta, mean, var, (real_t)1e-5, relu);
        engine_set_grad(old);
        size_t n = tensor_numel(ref);
        double *r = xmalloc(n * sizeof *r);
        for (size_t i = 0; i < n; i++) r[i] = ref->data[i];
        double e = max_rel_err(got->data, r, n);
        EXPECT(n == tensor_numel(got) && e < 1e-5, "stride %d relu %d: relative error %.2e", stride, relu, e);
        free(r);
        engine_step_reset();
    }
}

/* A stride-2 conv's input feeding two convs: the second backward-data adds into the first's dx
 * (the parity classes' += interleave), including a 1x1's class with no taps, which must keep
 * what the other conv wrote there. Against the double loop's sum of both. */
TEST(conv2d_stride2_dx_accumulates) {
    Tensor *x = grad_input(2, 6, 11, 33, 120), *w1 = grad_input(10, 6, 3, 3, 121), *w2 = grad_input(10, 6, 1, 1, 122);
    ConvArgs a1 = conv_args(2, 1, 1, 1), a2 = conv_args(2, 0, 1, 1);
    Tensor *y1 = op_conv2d(x, w1, NULL, a1), *y2 = op_conv2d(x, w2, NULL, a2), *y = op_add(y1, y2);
    Tensor *dy = tensor_like(y);
    fill_uniform(dy, 123, -1, 1);
    tape_backward_seed(y, dy->data);
    size_t ny = tensor_numel(y), nx = tensor_numel(x);
    double *yr = xcalloc(ny, sizeof *yr), *dxr = xcalloc(nx, sizeof *dxr);
    double *dw1 = xcalloc(tensor_numel(w1), sizeof *dw1), *dw2 = xcalloc(tensor_numel(w2), sizeof *dw2);
    direct_conv(x, w1, y1, dy->data, a1, yr, dxr, dw1);
    direct_conv(x, w2, y2, dy->data, a2, yr, dxr, dw2);
    double ex = max_rel_err(x->grad, dxr, nx);
    printf("    relative max error dx %.2e\n", ex);
    EXPECT(ex < 1e-5, "dx %.2e", ex);
    free(yr), free(dxr), free(dw1), free(dw2);
    engine_step_reset();
}
