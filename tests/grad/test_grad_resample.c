/* test_grad_resample.c: finite-difference checks of resize, upsampling and pooling ops. */
#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "util/err.h"

typedef struct {
    int a, b, c; /* op arguments: sizes, or kernel/stride/padding */
} Args;

static Tensor *f_resize(Tensor **in, void *ctx) { Args *a = ctx; return op_resize_bilinear(in[0], a->a, a->b); }
static Tensor *f_nearest(Tensor **in, void *ctx) { Args *a = ctx; return op_upsample_nearest(in[0], a->a); }
static Tensor *f_max(Tensor **in, void *ctx) { Args *a = ctx; return op_max_pool2d(in[0], a->a, a->b, a->c); }
static Tensor *f_avg(Tensor **in, void *ctx) { Args *a = ctx; return op_avg_pool2d(in[0], a->a, a->b, a->c); }
static Tensor *f_adaptive(Tensor **in, void *ctx) { Args *a = ctx; return op_adaptive_avg_pool2d(in[0], a->a, a->b); }

TEST(grad_resize_bilinear_up_down) {
    Tensor *x = grad_input(2, 2, 3, 4, 11);
    Args up = {7, 9, 0}, up4 = {12, 16, 0};
    gradcheck("bilinear 3x4->7x9", f_resize, &x, 1, &up, 1e-6, 1e-8);
    gradcheck("bilinear 3x4->12x16 (x4)", f_resize, &x, 1, &up4, 1e-6, 1e-8);
    Tensor *y = grad_input(1, 2, 9, 10, 12);
    Args down = {4, 3, 0}, same = {9, 10, 0};
    gradcheck("bilinear 9x10->4x3", f_resize, &y, 1, &down, 1e-6, 1e-8);
    gradcheck("bilinear identity size", f_resize, &y, 1, &same, 1e-6, 1e-8);
}

TEST(grad_upsample_nearest) {
    Tensor *x = grad_input(2, 3, 3, 4, 13);
    Args f2 = {2, 0, 0}, f3 = {3, 0, 0};
    gradcheck("nearest x2", f_nearest, &x, 1, &f2, 1e-6, 1e-8);
    gradcheck("nearest x3", f_nearest, &x, 1, &f3, 1e-6, 1e-8);
}

/* Distinct values 0.01 apart in a scrambled order: no window holds a tie, and a step of 1e-6
 * never changes which element is the maximum. */
static Tensor *tie_free_input(int n, int c, int h, int w, unsigned seed) {
    Tensor *t = tensor_new(n, c, h, w);
    size_t total = tensor_numel(t), stride = 7919; /* a prime, coprime with these sizes */
    size_t rem = total % stride; /* (RN_CHECK stringifies its condition into a format: no % there) */
    RN_CHECK(rem != 0, "tie_free_input: size must not be a multiple of the stride");
    for (size_t i = 0; i < total; i++) t->data[i] = (real_t)(0.01 * (double)((i * stride + seed) % total) - 0.3);
    t->requires_grad = true;
    return t;
}

TEST(grad_max_pool2d) {
    Tensor *x = tie_free_input(2, 2, 7, 6, 5);
    Args k3s2p1 = {3, 2, 1}, k2s2 = {2, 2, 0}, k3s1p1 = {3, 1, 1};
    gradcheck("max_pool k3 s2 p1", f_max, &x, 1, &k3s2p1, 1e-6, 1e-8);
    gradcheck("max_pool k2 s2", f_max, &x, 1, &k2s2, 1e-6, 1e-8);
    gradcheck("max_pool k3 s1 p1 (overlapping)", f_max, &x, 1, &k3s1p1, 1e-6, 1e-8);
}

TEST(grad_avg_pool2d) {
    Tensor *x = grad_input(2, 2, 7, 6, 14);
    Args k3s2p1 = {3, 2, 1}, k2s2 = {2, 2, 0}, k3s1p1 = {3, 1, 1};
    gradcheck("avg_pool k3 s2 p1", f_avg, &x, 1, &k3s2p1, 1e-6, 1e-8);
    gradcheck("avg_pool k2 s2", f_avg, &x, 1, &k2s2, 1e-6, 1e-8);
    gradcheck("avg_pool k3 s1 p1", f_avg, &x, 1, &k3s1p1, 1e-6, 1e-8);
}

TEST(grad_adaptive_avg_pool2d) {
    Tensor *x = grad_input(2, 2, 7, 5, 15);
    Args overlap = {3, 3, 0}, up = {9, 6, 0}, one = {1, 1, 0};
    gradcheck("adaptive 7x5->3x3 (overlapping bins)", f_adaptive, &x, 1, &overlap, 1e-6, 1e-8);
    gradcheck("adaptive 7x5->9x6 (more bins than pixels)", f_adaptive, &x, 1, &up, 1e-6, 1e-8);
    gradcheck("adaptive 7x5->1x1", f_adaptive, &x, 1, &one, 1e-6, 1e-8);
}
