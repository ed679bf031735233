/* test_grad_check.c: the gradient checkers themselves fail on a wrong, NaN or infinite gradient. */
#include <math.h>

#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

/* y = x * x with a backward that can be broken at one element: BAD_NONE is the true 2x. */
typedef enum { BAD_NONE, BAD_WRONG, BAD_NAN, BAD_INF } Bad;

static void square_backward(Node *n) {
    Tensor *x = n->in[0];
    real_t *dx = tensor_grad(x); /* [numel(x)] */
    for (size_t i = 0; i < tensor_numel(x); i++) dx[i] += 2 * x->data[i] * n->out->grad[i];
    switch ((Bad)n->iarg[0]) {
    case BAD_WRONG: dx[3] += 1; break;
    case BAD_NAN: dx[3] = NAN; break;
    case BAD_INF: dx[3] = INFINITY; break;
    case BAD_NONE: break;
    }
}

static Tensor *f_square(Tensor **in, void *ctx) {
    Tensor *x = in[0], *y = tensor_like(x); /* [N,C,H,W] */
    for (size_t i = 0; i < tensor_numel(x); i++) y->data[i] = x->data[i] * x->data[i];
    /* recorded as a mul (x * x): the tape needs an id from the op table, and this is one */
    if (tape_wants(x, NULL, NULL, NULL)) tape_push(OP_MUL, square_backward, y, x, NULL, NULL, NULL)->iarg[0] = *(Bad *)ctx;
    return y;
}

/* How many failures each checker records on one input with gradient `bad` (taken back after). */
static int failures_of(Bad bad, bool directional) {
    Tensor *x = grad_input(1, 2, 2, 2, 11);
    int mark = test_failures();
    if (directional) gradcheck_directional("square", f_square, &x, 1, &bad, NULL, 0, 1e-6, 1e-6);
    else gradcheck("square", f_square, &x, 1, &bad, 1e-6, 1e-7);
    return test_take_failures(mark);
}

TEST(gradcheck_passes_the_true_gradient) {
    EXPECT(failures_of(BAD_NONE, false) == 0, "element-wise check rejects a correct gradient");
    EXPECT(failures_of(BAD_NONE, true) == 0, "directional check rejects a correct gradient");
}

TEST(gradcheck_fails_a_wrong_gradient) {
    EXPECT(failures_of(BAD_WRONG, false) == 1, "element-wise check passes a gradient off by 1");
    EXPECT(failures_of(BAD_WRONG, true) == 1, "directional check passes a gradient off by 1");
}

TEST(gradcheck_fails_a_nan_gradient) {
    EXPECT(failures_of(BAD_NAN, false) == 1, "element-wise check passes a NaN gradient");
    EXPECT(failures_of(BAD_NAN, true) == 1, "directional check passes a NaN gradient");
}

TEST(gradcheck_fails_an_infinite_gradient) {
    EXPECT(failures_of(BAD_INF, false) == 1, "element-wise check passes an infinite gradient");
    EXPECT(failures_of(BAD_INF, true) == 1, "directional check passes an infinite gradient");
}
