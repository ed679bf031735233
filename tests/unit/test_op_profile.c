/* test_op_profile.c: the CPU breakdown (nn/profile.h): ops timed once each, nested ops once, the same numbers as unprofiled. */
#include <stdlib.h>
#include <string.h>

#include "nn/ops/ops.h"
#include "nn/profile.h"
#include "tests/test.h"

/* A conv -> relu -> max pool -> sum step on fixed inputs; returns the loss, gradients in x and w. */
static double step(Tensor *x, Tensor *w, Tensor *b) {
    x->grad = w->grad = b->grad = NULL;
    Tensor *y = op_max_pool2d(op_relu(op_conv2d(x, w, b, conv_args(1, 1, 1, 1))), 2, 2, 0);
    Tensor *loss = op_sum(y);
    tape_backward(loss);
    return tensor_item(loss);
}

static Tensor *filled(int n, int c, int h, int wd, unsigned seed) {
    Tensor *t = tensor_new(n, c, h, wd);
    for (size_t i = 0; i < tensor_numel(t); i++) t->data[i] = (real_t)((i * 2654435761u + seed) % 1000 / 1000.0 - 0.3);
    t->requires_grad = true;
    return t;
}

/* The calls/step column of the report's row (pass, name), or -1 when there is no such row. */
static double row_calls(const char *report, const char *pass, const char *name) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "\n  %-5s %-34s ", pass, name);
    const char *p = strstr(report, prefix);
    return p ? strtod(p + strlen(prefix), NULL) : -1;
}

TEST(profile_cpu_ops_once_each_same_numbers) {
    engine_step_reset();
    Tensor *x = filled(2, 3, 8, 8, 1), *w = filled(4, 3, 3, 3, 2), *b = filled(4, 1, 1, 1, 3);
    double plain = step(x, w, b);
    size_t nx = tensor_numel(x), nw = tensor_numel(w);
    real_t *gx = malloc(nx * sizeof *gx), *gw = malloc(nw * sizeof *gw);
    memcpy(gx, x->grad, nx * sizeof *gx), memcpy(gw, w->grad, nw * sizeof *gw);
    tape_clear();

    profile_start(NULL);
    double profiled = step(x, w, b);
    profile_stop();
    EXPECT(profiled == plain, "loss %.9g profiled, %.9g not", profiled, plain);
    EXPECT(memcmp(gx, x->grad, nx * sizeof *gx) == 0, "dx differs under the profiler");
    EXPECT(memcmp(gw, w->grad, nw * sizeof *gw) == 0, "dw differs under the profiler");

    char *report = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&report, &len);
    profile_report(f, 1, 1.0);
    fclose(f);
    EXPECT(row_calls(report, "fwd", "conv2d") == 1, "one conv2d forward:\n%s", report);
    EXPECT(row_calls(report, "bwd", "conv2d") == 1, "one conv2d backward:\n%s", report);
    EXPECT(row_calls(report, "fwd", "relu") == 1, "one relu forward:\n%s", report);
    /* op_max_pool2d has no dispatch line of its own: its op_max_pool2d_at is the one row */
    EXPECT(row_calls(report, "fwd", "max_pool2d_at") == 1, "one pool forward:\n%s", report);
    /* the conv's kernel as a sub-region: the direct one where the build has it, else im2col's GEMM */
    double gemm = row_calls(report, "host", "gemm [conv y=Wx]"), direct = row_calls(report, "host", "direct [conv y=Wx]");
    EXPECT((gemm == 1) != (direct == 1), "the conv's kernel sub-region, once:\n%s", report);
    EXPECT(strstr(report, "outside any op") != NULL, "the rest of the step:\n%s", report);
    free(report), free(gx), free(gw);
    engine_step_reset();
}
