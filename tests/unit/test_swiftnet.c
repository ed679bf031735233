/* test_swiftnet.c: SwiftNet through rune vs the PyTorch oracle (scripts/fixtures/gen_swiftnet.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/model_io.h"
#include "nn/models/swiftnet.h"
#include "tests/fixture.h"
#include "tests/test.h"
#include "util/err.h"

static int load_tiny(SwiftNet *m) {
    swiftnet_init(m, 5, 4, 8);
    if (model_load_weights(&m->ps, test_fixture_path("swiftnet_tiny.pth"), "swiftnet", NULL, NULL) < 0) {
        test_fail_at(__FILE__, __LINE__, "%s", rn_errmsg());
        return -1;
    }
    return 0;
}

static double max_abs(const double *v, size_t n) {
    double big = 0;
    for (size_t i = 0; i < n; i++) big = fabs(v[i]) > big ? fabs(v[i]) : big;
    return big;
}

TEST(swiftnet_logits_and_input_grad_vs_torch) {
    SwiftNet m;
    if (load_tiny(&m) < 0) return;
    params_set_trainable(&m.ps, false); /* frozen: the gradient goes to the input only, as in ASR */
    Fixture *f = fx_open("swiftnet.h5");
    if (!f) return;
    Tensor *x = fx_tensor(f, "x");
    x->requires_grad = true;
    Tensor *y = swiftnet_forward(&m, x, false);
    EXPECT(TC(y) == 5 && TH(y) == 40 && TW(y) == 72, "logits at input size");
    fx_expect(f, "logits", y->data, tensor_numel(y), 1e-4, 1e-4);
    Tensor *seed = tensor_like(y);
    size_t n = tensor_numel(y);
    for (size_t i = 0; i < n; i++) seed->data[i] = (real_t)(-1.0 + 2.0 * i / (double)(n - 1)); /* torch.linspace */
    tape_backward_seed(y, seed->data);
    /* the gradient is a long float32 sum through 255/std: tolerance relative to its largest entry */
    size_t nd = 0;
    double *ref = fx_array(f, "dx", &nd);
    fx_expect(f, "dx", x->grad, tensor_numel(x), 1e-5 * max_abs(ref, nd), 1e-4);
    fx_close(f);
    swiftnet_free(&m);
}

TEST(swiftnet_training_mode_batch_stats_and_spp_momentum) {
    SwiftNet m;
    if (load_tiny(&m) < 0) return;
    Fixture *f = fx_open("swiftnet.h5");
    if (!f) return;
    engine_set_grad(false);
    Tensor *x = fx_tensor(f, "x");
    Tensor *y = swiftnet_forward(&m, x, true);
    fx_expect(f, "logits_train", y->data, tensor_numel(y), 1e-4, 1e-4);
    /* running stats moved with the SPP's momentum 0.005, not the default 0.1 */
    Tensor *rm = params_find(&m.ps, "backbone.spp.spp.spp_fuse.norm.running_mean");
    fx_expect(f, "spp_fuse_running_mean", rm->data, tensor_numel(rm), 1e-6, 1e-5);
    fx_close(f);
    swiftnet_free(&m);
}

TEST(swiftnet_spp_grid_rounds_half_to_even_as_python) {
    Fixture *f = fx_open("swiftnet.h5");
    if (!f) return;
    size_t n = 0;
    double *t = fx_array(f, "spp_grids", &n);
    int bad = 0;
    for (size_t r = 0; r + 4 <= n; r += 4) {
        int gh, gw;
        swiftnet_spp_grid((int)t[r], (int)t[r + 1], (int)t[r + 2], &gh, &gw);
        if (gh != (int)t[r + 2] || gw != (int)t[r + 3]) {
            if (bad++ < 5) printf("    %gx%g g%g: rune %dx%d, python %g\n", t[r], t[r + 1], t[r + 2], gh, gw, t[r + 3]);
        }
    }
    EXPECT(bad == 0, "%d of %zu grids differ", bad, n / 4);
    int gh, gw;
    swiftnet_spp_grid(4, 5, 2, &gh, &gw); /* 2.5 -> 2, where C's round() would say 3 */
    EXPECT(gw == 2, "half to even: got %d", gw);
    fx_close(f);
}

TEST(swiftnet_full_width_names_and_shapes_match_pytorch) {
    SwiftNet m;
    swiftnet_init(&m, 19, 64, 128);
    FILE *f = fopen(test_fixture_path("swiftnet_params.txt"), "r");
    if (!f) return;
    char name[160], shape[64];
    int i = 0;
    while (fscanf(f, "%159s %63s", name, shape) == 2) {
        int d[4] = {1, 1, 1, 1};
        int nd = sscanf(shape, "%dx%dx%dx%d", &d[0], &d[1], &d[2], &d[3]);
        EXPECT(nd >= 1, "shape %s", shape);
        if (i >= m.ps.count) {
            test_fail_at(__FILE__, __LINE__, "PyTorch has %s beyond rune's %d entries", name, m.ps.count);
            break;
        }
        const Tensor *p = m.ps.t[i++];
        EXPECT(strcmp(p->name, name) == 0, "entry %d: rune %s, PyTorch %s", i - 1, p->name, name);
        EXPECT(memcmp(p->shape, d, sizeof d) == 0, "%s: rune %dx%dx%dx%d, PyTorch %s", name, p->shape[0], p->shape[1],
               p->shape[2], p->shape[3], shape);
    }
    fclose(f);
    EXPECT(i == m.ps.count, "PyTorch lists %d entries, rune %d", i, m.ps.count);
    size_t np = params_count_trainable(&m.ps);
    printf("    full width: %zu trainable parameters (PyTorch 11797071)\n", np);
    EXPECT(np == 11797071, "parameter count %zu", np);
    swiftnet_free(&m);
}

TEST(swiftnet_width_option_scales_channels) {
    SwiftNet m;
    swiftnet_init_width(&m, 11, 0.25);
    EXPECT(m.base == 16 && m.features == 32, "base %d features %d", m.base, m.features);
    EXPECT(TN(params_find(&m.ps, "backbone.layer4.1.conv2.weight")) == 128, "layer4 width");
    EXPECT(TC(params_find(&m.ps, "backbone.spp.spp.spp_fuse.conv.weight")) == 32 + 3 * 10, "spp fuse input");
    /* a forward at an odd size runs and keeps the input size */
    engine_set_grad(false);
    Tensor *x = tensor_zeros(1, 3, 45, 61);
    Tensor *y = swiftnet_forward(&m, x, false);
    EXPECT(TC(y) == 11 && TH(y) == 45 && TW(y) == 61, "output %dx%dx%d", TC(y), TH(y), TW(y));
    swiftnet_free(&m);
}

TEST(swiftnet_rejects_wrong_width_checkpoint) {
    SwiftNet m;
    swiftnet_init(&m, 5, 8, 8);
    int rc = model_load_weights(&m.ps, test_fixture_path("swiftnet_tiny.pth"), "swiftnet", NULL, NULL);
    EXPECT(rc < 0, "a base-4 checkpoint must not load into a base-8 model");
    printf("    error: %s\n", rn_errmsg());
    EXPECT(strstr(rn_errmsg(), "backbone.conv1.weight") != NULL, "names the first mismatch: %s", rn_errmsg());
    swiftnet_free(&m);
}
