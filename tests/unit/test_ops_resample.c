/* test_ops_resample.c: resize, nearest upsampling and pooling against PyTorch (scripts/fixtures/gen_resample.py). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/ops/ops.h"
#include "tests/fixture.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "util/err.h"

typedef Tensor *(*Unary)(Tensor *x, const int *arg);

/* Runs case `name` of resample.h5: forward, backward with the recorded seed, both compared. */
static void check_case(Fixture *f, const char *name, Unary fn, const int *arg) {
    char k[64];
    snprintf(k, sizeof k, "%s_x", name);
    Tensor *x = fx_tensor(f, k);
    if (!x) return;
    x->requires_grad = true;
    Tensor *y = fn(x, arg);
    snprintf(k, sizeof k, "%s_y", name);
    fx_expect(f, k, y->data, tensor_numel(y), 1e-6, 1e-5);
    snprintf(k, sizeof k, "%s_seed", name);
    Tensor *seed = fx_tensor(f, k);
    if (!seed) return;
    if (tensor_numel(seed) != tensor_numel(y)) {
        test_fail_at(__FILE__, __LINE__, "%s: output has %zu elements, PyTorch's %zu", name, tensor_numel(y), tensor_numel(seed));
        return;
    }
    tape_backward_seed(y, seed->data);
    snprintf(k, sizeof k, "%s_dx", name);
    fx_expect(f, k, x->grad, tensor_numel(x), 1e-6, 1e-5);
    tape_clear();
}

static Tensor *bilinear(Tensor *x, const int *a) { return op_resize_bilinear(x, a[0], a[1]); }
static Tensor *nearest(Tensor *x, const int *a) { return op_upsample_nearest(x, a[0]); }
static Tensor *maxpool(Tensor *x, const int *a) { return op_max_pool2d(x, a[0], a[1], a[2]); }
static Tensor *avgpool(Tensor *x, const int *a) { return op_avg_pool2d(x, a[0], a[1], a[2]); }
static Tensor *adaptive(Tensor *x, const int *a) { return op_adaptive_avg_pool2d(x, a[0], a[1]); }

TEST(torch_resize_bilinear) {
    Fixture *f = fx_open("resample.h5");
    if (!f) return;
    check_case(f, "up4", bilinear, (int[]){12, 16});
    check_case(f, "up_frac", bilinear, (int[]){7, 9});
    check_case(f, "down_frac", bilinear, (int[]){4, 3});
    check_case(f, "down_mixed", bilinear, (int[]){7, 3});
    fx_close(f);
}

TEST(torch_upsample_nearest) {
    Fixture *f = fx_open("resample.h5");
    if (!f) return;
    check_case(f, "nearest2", nearest, (int[]){2});
    fx_close(f);
}

TEST(torch_pools) {
    Fixture *f = fx_open("resample.h5");
    if (!f) return;
    check_case(f, "maxpool", maxpool, (int[]){3, 2, 1});
    check_case(f, "maxpool_ties", maxpool, (int[]){2, 1, 0}); /* gradient goes to PyTorch's pick among ties */
    check_case(f, "avgpool", avgpool, (int[]){3, 2, 1});
    check_case(f, "adaptive", adaptive, (int[]){3, 4});
    fx_close(f);
}

TEST(resize_same_size_is_identity) {
    Tensor *x = tensor_new(1, 2, 5, 7);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] = (real_t)(i * 0.37 - 3);
    Tensor *y = op_resize_bilinear(x, 5, 7);
    for (size_t i = 0; i < tensor_numel(x); i++) EXPECT_NEAR(y->data[i], x->data[i], 0);
}

/* Same numbers whatever the thread count: every plane is computed by one thread in a fixed order
 * (run 1 on one thread, run 2 on two). */
TEST(resample_deterministic_large) {
    Tensor *x = tensor_new(2, 8, 64, 96);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] = (real_t)((i * 2654435761u) % 1000) / 1000;
    x->requires_grad = true;
    real_t got[2][3];
    int threads = omp_get_max_threads();
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run + 1);
        x->grad = NULL;
        Tensor *y = op_sum(op_avg_pool2d(op_max_pool2d(op_resize_bilinear(x, 150, 111), 3, 2, 1), 3, 2, 1));
        tape_backward(y);
        got[run][0] = y->data[0], got[run][1] = x->grad[12345], got[run][2] = x->grad[tensor_numel(x) - 1];
        tape_clear();
    }
    omp_set_num_threads(threads);
    for (int i = 0; i < 3; i++) EXPECT(got[0][i] == got[1][i], "run 1 %.9g, run 2 %.9g", (double)got[0][i], (double)got[1][i]);
}

/* Without a tape max_pool2d takes the values-only path (rows reduced first): the same outputs as
 * the argmax path with a tape, bit for bit, over padding, strides 1-3, an odd plane and a NaN
 * (which must win its windows). */
TEST(max_pool2d_values_path_matches_argmax_path) {
    static const int ks[][3] = {{3, 2, 1}, {2, 2, 0}, {3, 1, 1}, {5, 3, 2}, {5, 2, 2}, {4, 2, 2}};
    for (size_t c = 0; c < sizeof ks / sizeof *ks; c++) {
        Tensor *x = grad_input(2, 3, 13, 37, 120 + (unsigned)c);
        x->data[5 * 37 + 11] = NAN;
        Tensor *with_tape = op_max_pool2d(x, ks[c][0], ks[c][1], ks[c][2]);
        bool old = engine_set_grad(false);
        Tensor *values = op_max_pool2d(x, ks[c][0], ks[c][1], ks[c][2]);
        engine_set_grad(old);
        size_t n = tensor_numel(values), diff = 0, nans = 0;
        for (size_t i = 0; i < n; i++) {
            bool a = isnan(with_tape->data[i]), b = isnan(values->data[i]);
            diff += a != b || (!a && with_tape->data[i] != values->data[i]);
            nans += b;
        }
        EXPECT(n == tensor_numel(with_tape) && diff == 0, "k %d s %d p %d: %zu outputs differ", ks[c][0], ks[c][1],
               ks[c][2], diff);
        EXPECT(nans > 0, "k %d s %d p %d: the NaN must win its windows", ks[c][0], ks[c][1], ks[c][2]);
        tape_clear();
        engine_step_reset();
    }
}

/* The argmax the backward routes to, against a plain row-major scan of every window (first
 * maximum wins a tie, the last NaN wins its window): on quantised values (many ties), NaNs, and
 * planes where windows are clipped by padding on both sides, rows and columns. Each output's
 * gradient is its own integer, so a gradient routed to a wrong element shows in the sums. */
TEST(max_pool2d_argmax_ties_and_nans) {
    static const int ks[][3] = {{3, 2, 1}, {2, 2, 0}, {3, 1, 1}, {5, 3, 2}, {2, 1, 1}, {4, 2, 2}};
    static const int hw[][2] = {{13, 37}, {7, 5}, {2, 70}, {40, 3}};
    for (size_t c = 0; c < sizeof ks / sizeof *ks; c++)
        for (size_t d = 0; d < sizeof hw / sizeof *hw; d++) {
            int k = ks[c][0], s = ks[c][1], p = ks[c][2], H = hw[d][0], W = hw[d][1];
            if (H + 2 * p < k || W + 2 * p < k) continue;
            Tensor *x = grad_input(1, 2, H, W, 300 + (unsigned)(c * 7 + d));
            for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] = (real_t)floor(x->data[i] * 3); /* ties */
            x->data[(H / 2) * W + W / 3] = NAN, x->data[(H / 2) * W + W / 3 + 1] = NAN;
            Tensor *y = op_max_pool2d(x, k, s, p);
            int OH = TH(y), OW = TW(y);
            size_t no = tensor_numel(y);
            real_t *seed = xmalloc(no * sizeof *seed);
            double *want = xcalloc(tensor_numel(x), sizeof *want);
            for (size_t o = 0; o < no; o++) seed[o] = (real_t)(o + 1);
            for (int q = 0; q < 2; q++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        int best = -1;
                        real_t m = -INFINITY;
                        for (int yy = oy * s - p; yy < oy * s - p + k; yy++)
                            for (int xx = ox * s - p; xx < ox * s - p + k; xx++) {
                                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                                real_t v = x->data[(size_t)q * H * W + yy * W + xx];
                                if (best < 0 || v > m || isnan(v)) m = v, best = yy * W + xx;
                            }
                        want[(size_t)q * H * W + best] += seed[((size_t)q * OH + oy) * OW + ox];
                    }
            tape_backward_seed(y, seed);
            size_t bad = 0;
            for (size_t i = 0; i < tensor_numel(x); i++) bad += x->grad[i] != want[i];
            EXPECT(bad == 0, "k %d s %d p %d on %dx%d: %zu input gradients differ from the scan's argmax", k, s, p, H,
                   W, bad);
            free(seed), free(want);
            tape_clear();
            engine_step_reset();
        }
}
