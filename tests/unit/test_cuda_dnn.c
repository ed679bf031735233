/* test_cuda_dnn.c: CPU vs CUDA parity of the cuDNN ops (conv2d, conv_transpose2d, batch_norm), forward and every gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "util/err.h"

#ifndef RUNE_CUDA
TEST(cuda_dnn_parity) { SKIP("built without CUDA (make CUDA=1)"); }
#else
#include "nn/cuda/cuda.h"

/* Tolerances, as max |cuda - cpu| over max |cpu| of each compared buffer:
 *  - conv: every output and gradient is a float32 sum of K = Cin/g*kh*kw (forward, dx) or
 *    N*OH*OW (dw, db) products, summed in another order on the GPU (and through Winograd/FFT
 *    transforms when cuDNN measures those fastest). Rounding grows at worst as K * 2^-24 relative
 *    to the sum of |terms|: K <= 576 here gives 3.4e-5; 1e-4 leaves the transforms a 3x margin
 *    and still catches any wrong index, stride or accumulation (errors of order 1).
 *  - batch norm: the CPU takes the statistics in double, cuDNN in float over N*H*W = 100 values
 *    per channel: 1e-4 likewise. Running statistics are single multiply-adds of those: 1e-5. */
#define TOL_CONV 1e-4
#define TOL_BN 1e-4
#define TOL_STATS 1e-5

#define MAX_IN 5

/* Runs the op under test on in[0..MAX_IN) (NULLs allowed). */
typedef Tensor *(*ParityFn)(Tensor **in, const void *args);

/* max |a - ref| / max |ref| (the absolute error when ref is all zero). */
static double scaled_err(const real_t *a, const real_t *ref, size_t n) {
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - ref[i]));
        m = fmax(m, fabs((double)ref[i]));
    }
    return m > 0 ? d / m : d;
}

/* A host copy of n device floats (malloc'ed). */
static real_t *download(const real_t *dev, size_t n) {
    real_t *h = xmalloc(n * sizeof *h);
    if (cuda_download(h, dev, n) < 0) rn_die("%s", rn_errmsg());
    return h;
}

/* One comparison: prints "name err" and records a failure above tol (never stops the case). */
static void compare(const char *what, const char *name, const real_t *dev, const real_t *ref, size_t n,
                    double tol) {
    real_t *h = download(dev, n);
    double e = scaled_err(h, ref, n);
    bool ok = e <= tol && !isnan(e);
    printf("  %s %.2e%s", name, e, ok ? "" : " FAIL");
    if (!ok) test_fail_at(__FILE__, __LINE__, "%s: %s differs by %.3g of its scale (tolerance %.1g)", what, name, e, tol);
    free(h);
}

/* Runs f on the CPU inputs and on device copies, both backward with the same random seed; then
 * compares the output, the gradient of every input that wants one, and every input's data
 * afterwards (batch norm's running statistics change in place). names[i] labels input i. */
static void parity(const char *what, ParityFn f, const void *args, Tensor **cpu, const char *const *names,
                   double tol, double tol_state) {
    Tensor *dev[MAX_IN] = {0};
    for (int i = 0; i < MAX_IN; i++)
        if (cpu[i]) {
            dev[i] = tensor_to(cpu[i], DEV_CUDA);
            dev[i]->requires_grad = cpu[i]->requires_grad;
        }
    Tensor *yc = f(cpu, args);
    Tensor *seed = tensor_like(yc); /* the same dL/dy on both sides */
    fill_uniform(seed, 99, -1, 1);
    if (yc->requires_grad) tape_backward_seed(yc, seed->data);
    tape_clear(); /* the CPU nodes are done: the device backward must not rerun them */
    Tensor *yd = f(dev, args);
    if (yd->requires_grad) tape_backward_seed(yd, seed->data);
    tape_clear();
    printf("  %-34s", what);
    compare(what, "y", yd->data, yc->data, tensor_numel(yc), tol);
    for (int i = 0; i < MAX_IN; i++) {
        if (!cpu[i]) continue;
        char g[32];
        snprintf(g, sizeof g, "d%s", names[i]);
        if (cpu[i]->requires_grad) {
            if (!dev[i]->grad) test_fail_at(__FILE__, __LINE__, "%s: no gradient reached %s on CUDA", what, names[i]);
            else compare(what, g, dev[i]->grad, cpu[i]->grad, tensor_numel(cpu[i]), tol);
        }
        if (!cpu[i]->requires_grad && i > 0) compare(what, names[i], dev[i]->data, cpu[i]->data, tensor_numel(cpu[i]), tol_state);
    }
    printf("\n");
    fflush(stdout);
}

/* A random tensor in [lo, hi), wanting a gradient or not. */
static Tensor *rnd(int n, int c, int h, int w, unsigned seed, double lo, double hi, bool grad) {
    Tensor *t = tensor_new(n, c, h, w);
    fill_uniform(t, seed, lo, hi);
    t->requires_grad = grad;
    return t;
}

/* Skips the test (with the reason) unless this machine has a usable GPU. */
static void need_gpu(void) {
    if (!cuda_available()) SKIP(rn_errmsg());
}

typedef struct {
    const char *name;
    int x[4], w[4]; /* x [N,C,H,W]; w as the op takes it */
    ConvArgs a;
    int out_pad;    /* conv_transpose2d only */
    bool bias, frozen_w;
} ConvCase;

static Tensor *run_conv2d(Tensor **in, const void *args) {
    return op_conv2d(in[0], in[1], in[2], ((const ConvCase *)args)->a);
}

static Tensor *run_conv_transpose2d(Tensor **in, const void *args) {
    const ConvCase *c = args;
    return op_conv_transpose2d(in[0], in[1], in[2], c->a, c->out_pad, c->out_pad);
}

/* Each case is its own test (its own process): a case that dies on the device stops no other. */
static const ConvCase conv2d_cases[] = {
    {"3x3 pad 1, bias", {2, 8, 12, 12}, {16, 8, 3, 3}, {1, 1, 1, 1, 1, 1, 1}, 0, true, false},
    {"3x3 stride 2 pad 1, bias", {2, 8, 13, 13}, {8, 8, 3, 3}, {2, 2, 1, 1, 1, 1, 1}, 0, true, false},
    {"3x3 dilation 2 pad 2", {2, 8, 12, 12}, {8, 8, 3, 3}, {1, 1, 2, 2, 2, 2, 1}, 0, false, false},
    {"3x3 groups 4, bias", {2, 8, 10, 10}, {12, 2, 3, 3}, {1, 1, 1, 1, 1, 1, 4}, 0, true, false},
    {"3x3 depthwise, bias", {2, 8, 10, 10}, {8, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 8}, 0, true, false},
    {"1x1", {2, 16, 9, 9}, {8, 16, 1, 1}, {1, 1, 0, 0, 1, 1, 1}, 0, false, false},
    {"1x1 stride 2, bias", {2, 16, 9, 9}, {8, 16, 1, 1}, {2, 2, 0, 0, 1, 1, 1}, 0, true, false},
    {"5x3 stride 2x1 pad 1x0, bias", {1, 3, 11, 7}, {4, 3, 5, 3}, {2, 1, 1, 0, 1, 1, 1}, 0, true, false},
    {"3x3 frozen weight (dx only)", {2, 8, 12, 12}, {16, 8, 3, 3}, {1, 1, 1, 1, 1, 1, 1}, 0, true, true},
    {"CARN-M group conv 64ch g4", {2, 64, 16, 16}, {64, 16, 3, 3}, {1, 1, 1, 1, 1, 1, 4}, 0, true, false},
};

static const ConvCase tconv_cases[] = {
    {"3x3 stride 2 pad 1 out_pad 1, bias", {2, 8, 6, 6}, {8, 4, 3, 3}, {2, 2, 1, 1, 1, 1, 1}, 1, true, false},
    {"4x4 stride 2 pad 1", {2, 6, 5, 5}, {6, 6, 4, 4}, {2, 2, 1, 1, 1, 1, 1}, 0, false, false},
    {"3x3 stride 2 groups 2 out_pad 1, bias", {2, 8, 5, 5}, {8, 3, 3, 3}, {2, 2, 1, 1, 1, 1, 2}, 1, true, false},
    {"2x2 stride 2 (ESPNet), bias", {2, 8, 7, 5}, {8, 8, 2, 2}, {2, 2, 0, 0, 1, 1, 1}, 0, true, false},
    {"3x3 stride 1 pad 1, frozen weight", {2, 8, 6, 6}, {8, 4, 3, 3}, {1, 1, 1, 1, 1, 1, 1}, 0, true, true},
};

/* One parity run of a case on fresh inputs (the CPU backward accumulates into its inputs' grads). */
static void conv_parity(const ConvCase *c, ParityFn f, unsigned seed, const char *label) {
    static const char *const names[MAX_IN] = {"x", "w", "b"};
    /* a transposed conv's bias has Cout = w's C * groups entries, a conv's w's N */
    int nb = f == run_conv2d ? c->w[0] : c->w[1] * c->a.groups;
    Tensor *in[MAX_IN] = {rnd(c->x[0], c->x[1], c->x[2], c->x[3], seed, -1, 1, true),
                          rnd(c->w[0], c->w[1], c->w[2], c->w[3], seed + 1, -0.5, 0.5, !c->frozen_w),
                          c->bias ? rnd(nb, 1, 1, 1, seed + 2, -1, 1, true) : NULL};
    char what[96];
    snprintf(what, sizeof what, "%s [%s]", c->name, label);
    parity(what, f, c, in, names, TOL_CONV, 0);
}

/* Each case runs through both cuDNN APIs: the legacy algorithms, then the backend graph API's
 * plans forced (no timing against legacy), so one GPU run checks both. A pass the graph API
 * cannot plan runs legacy and is reported, not failed: the fallback is the design. */
static void conv_case(const ConvCase *c, ParityFn f, unsigned seed) {
    need_gpu();
    cuda_conv_set_api(CUDA_CONV_API_LEGACY);
    conv_parity(c, f, seed, "legacy");
    cuda_conv_set_api(CUDA_CONV_API_GRAPH);
    cuda_conv_api_stats(1);
    conv_parity(c, f, seed, "graph");
    CudaConvApiStats s = cuda_conv_api_stats(1);
    if (s.graph_refused)
        printf("  graph: no plan for %ld of %ld passes, legacy used (RUNE_CUDNN_VERBOSE=1 says why)\n",
               s.graph_refused, s.graph + s.legacy);
    else
        printf("  graph: all %ld passes ran through graph plans\n", s.graph);
    cuda_conv_set_api(CUDA_CONV_API_AUTO);
}

#define CONV2D_TEST(i) \
    TEST(cuda_dnn_conv2d_##i) { conv_case(&conv2d_cases[i], run_conv2d, 10 * i); }
#define TCONV_TEST(i) \
    TEST(cuda_dnn_conv_transpose2d_##i) { conv_case(&tconv_cases[i], run_conv_transpose2d, 10 * i + 5); }
CONV2D_TEST(0)
CONV2D_TEST(1)
CONV2D_TEST(2)
CONV2D_TEST(3)
CONV2D_TEST(4)
CONV2D_TEST(5)
CONV2D_TEST(6)
CONV2D_TEST(7)
CONV2D_TEST(8)
CONV2D_TEST(9)
TCONV_TEST(0)
TCONV_TEST(1)
TCONV_TEST(2)
TCONV_TEST(3)
TCONV_TEST(4)

typedef struct {
    const char *name;
    bool training, affine, frozen_affine;
    double eps;
} BnCase;

static Tensor *run_batch_norm(Tensor **in, const void *args) {
    const BnCase *c = args;
    return op_batch_norm(in[0], in[1], in[2], in[3], in[4], c->training, (real_t)0.1, (real_t)c->eps);
}

static const BnCase bn_cases[] = {
    {"training, affine", true, true, false, 1e-5},
    {"training, no affine", true, false, false, 1e-5},
    {"inference, affine", false, true, false, 1e-3},
    {"inference, frozen (ASR's segmenter)", false, true, true, 1e-3},
    {"training, frozen affine", true, true, true, 1e-5},
};

static void bn_case(const BnCase *c, unsigned seed) {
    need_gpu();
    static const char *const names[MAX_IN] = {"x", "gamma", "beta", "running_mean", "running_var"};
    /* an offset and a spread per channel, as activations have: the mean terms of dx matter */
    Tensor *in[MAX_IN] = {rnd(4, 6, 5, 5, seed, 1, 5, true),
                          c->affine ? rnd(1, 6, 1, 1, seed + 1, 0.5, 1.5, !c->frozen_affine) : NULL,
                          c->affine ? rnd(1, 6, 1, 1, seed + 2, -1, 1, !c->frozen_affine) : NULL,
                          rnd(1, 6, 1, 1, seed + 3, 2, 4, false), rnd(1, 6, 1, 1, seed + 4, 0.5, 2, false)};
    parity(c->name, run_batch_norm, c, in, names, TOL_BN, TOL_STATS);
}

#define BN_TEST(i) \
    TEST(cuda_dnn_batch_norm_##i) { bn_case(&bn_cases[i], 100 + 10 * i); }
BN_TEST(0)
BN_TEST(1)
BN_TEST(2)
BN_TEST(3)
BN_TEST(4)
#endif
