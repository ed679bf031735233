/* test_grad_swiftnet.c: whole-model directional gradient check of SwiftNet (input and parameters), in double. */
#include <string.h>

#include "nn/models/swiftnet.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

static Tensor *f_swift(Tensor **in, void *ctx) { return swiftnet_forward(ctx, in[0], false); }
static Tensor *f_swift_train(Tensor **in, void *ctx) { return swiftnet_forward(ctx, in[0], true); }

/* Random running statistics and affine BN terms, so inference-mode BN is not the identity. */
static void randomise_bn(SwiftNet *m) {
    for (int i = 0; i < m->ps.count; i++) {
        Tensor *t = m->ps.t[i];
        size_t len = strlen(t->name);
        if (strstr(t->name, "running_mean")) fill_uniform(t, 50 + i, -0.2, 0.2);
        else if (strstr(t->name, "running_var")) fill_uniform(t, 50 + i, 0.5, 1.5);
        else if (TC(t) * TH(t) * TW(t) == 1 && len > 5 && !strcmp(t->name + len - 5, ".bias")) fill_uniform(t, 50 + i, -0.2, 0.2);
    }
}

TEST(grad_swiftnet_directional) {
    SwiftNet m;
    swiftnet_init(&m, 3, 4, 6); /* tiny width: 4..32 backbone channels, 6 decoder features */
    swiftnet_init_weights(&m, 7);
    randomise_bn(&m);
    Tensor *x = grad_input(1, 3, 40, 56, 11); /* layer4 map 2x2: SPP grids 8x8, 4x4, 2x2 */
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] = 0.5 + 0.5 * x->data[i]; /* [0,1] */
    /* inference-mode BN (the frozen task model of ASR): gradient to the input and every parameter */
    gradcheck_directional("swiftnet eval", f_swift, &x, 1, &m, m.ps.t, m.ps.count, 1e-6, 1e-6);
    /* training-mode BN (batch statistics), as train-task runs it. The step is smaller: with
     * batch statistics a 1e-6 move of every parameter at once crosses ReLU kinks (the numeric
     * derivative still drifts between 1e-6 and 1e-7 and is stable below) */
    Tensor *x2 = grad_input(2, 3, 64, 64, 12);
    for (size_t i = 0; i < tensor_numel(x2); i++) x2->data[i] = 0.5 + 0.5 * x2->data[i];
    gradcheck_directional("swiftnet train", f_swift_train, &x2, 1, &m, m.ps.t, m.ps.count, 1e-7, 1e-6);
    swiftnet_free(&m);
}
