/* test_grad_espnet.c: whole-model directional gradient check of ESPNet (input and parameters), in double. */
#include <string.h>

#include "nn/models/espnet.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

static Tensor *f_espnet(Tensor **in, void *ctx) { return espnet_forward(ctx, in[0], false); }
static Tensor *f_espnet_train(Tensor **in, void *ctx) { return espnet_forward(ctx, in[0], true); }

static void randomise_bn_stats(ESPNet *m) {
    for (int i = 0; i < m->ps.count; i++) {
        Tensor *t = m->ps.t[i];
        if (!m->ps.is_buffer[i]) continue;
        fill_uniform(t, 50 + i, 0.1, 0.5);
        if (strstr(t->name, "running_var")) for (size_t j = 0; j < tensor_numel(t); j++) t->data[j] += 0.5;
    }
}

TEST(grad_espnet_directional) {
    ESPNet m;
    espnet_init(&m, 5, 1, 1); /* classes >= 5: the decoder ESP block splits them 5 ways */
    randomise_bn_stats(&m);
    Tensor *x = grad_input(1, 3, 16, 24, 11);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] = 0.5 + 0.5 * x->data[i]; /* [0,1] */
    /* inference-mode BN (the frozen task model of ASR): gradient to the input and to every parameter */
    gradcheck_directional("espnet eval", f_espnet, &x, 1, &m, m.ps.t, m.ps.count, 1e-6, 1e-6);
    /* training-mode BN (batch statistics) */
    Tensor *x2 = grad_input(2, 3, 16, 16, 12);
    gradcheck_directional("espnet train", f_espnet_train, &x2, 1, &m, m.ps.t, m.ps.count, 1e-6, 1e-6);
    espnet_free(&m);
}
