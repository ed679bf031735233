/* test_espnet.c: the published ESPNet-CamVid through rune vs PyTorch (scripts/fixtures/gen_espnet.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "nn/models/espnet.h"
#include "nn/models/model_io.h"
#include "profile/seg_metrics.h"
#include "tests/fixture.h"
#include "tests/test.h"
#include "util/err.h"

static void load_camvid(ESPNet *m) {
    const char *w = test_shared_path("weights/espnet/espnet_p_2_q_8_camvid.pth");
    espnet_init(m, 12, 2, 8);
    espnet_set_norm_named(m, "camvid");
    if (model_load_weights(&m->ps, w, "espnet", NULL, NULL) < 0) test_fail_at(__FILE__, __LINE__, "%s", rn_errmsg());
}

TEST(espnet_camvid_logits_and_input_grad_vs_torch) {
    ESPNet m;
    load_camvid(&m);
    params_set_trainable(&m.ps, false); /* frozen, as in ASR: the gradient goes to the input only */
    Fixture *f = fx_open("espnet_camvid.h5");
    if (!f) return;
    Tensor *x = fx_tensor(f, "x");
    x->requires_grad = true;
    Tensor *y = espnet_forward(&m, x, false);
    fx_expect(f, "logits", y->data, tensor_numel(y), 2e-4, 1e-4);
    Tensor *seed = tensor_like(y);
    size_t n = tensor_numel(y);
    for (size_t i = 0; i < n; i++) seed->data[i] = (real_t)(-1.0 + 2.0 * i / (double)(n - 1)); /* torch.linspace */
    tape_backward_seed(y, seed->data);
    /* input gradients span 4 orders of magnitude (the 1/(255 std) normalisation and a linspace
     * seed): float32 sums carry absolute error relative to the largest terms, so the tolerance is
     * scaled by the largest reference gradient */
    size_t nd = 0;
    double *ref = fx_array(f, "dx", &nd), big = 0;
    for (size_t i = 0; i < nd; i++) big = fabs(ref[i]) > big ? fabs(ref[i]) : big;
    fx_expect(f, "dx", x->grad, tensor_numel(x), 2e-6 * big, 1e-4);
    fx_close(f);
    espnet_free(&m);
}

TEST(espnet_camvid_full_frame_label_map_matches_torch) {
    ESPNet m;
    load_camvid(&m);
    engine_set_grad(false);
    Image im;
    const char *p = test_shared_path("data/camvid/test/0001TP_008550.png");
    EXPECT(png_read(p, &im, 3) == 0, "%s", rn_errmsg());
    Frame fr = frame_from_image(&im);
    Tensor *x = tensor_new(1, 3, fr.h, fr.w);
    for (size_t i = 0; i < (size_t)3 * fr.h * fr.w; i++) x->data[i] = fr.px[i];
    Tensor *y = espnet_forward(&m, x, false);
    size_t hw = (size_t)fr.h * fr.w;
    uint8_t *pred = malloc(hw);
    float *logits = malloc(12 * hw * sizeof(float));
    for (size_t i = 0; i < 12 * hw; i++) logits[i] = (float)y->data[i];
    argmax_channels(logits, 12, hw, pred);
    Fixture *f = fx_open("espnet_camvid.h5");
    size_t nref = 0;
    double *ref = fx_array(f, "full_argmax", &nref);
    EXPECT(nref == hw, "reference has %zu pixels", nref);
    size_t differ = 0;
    for (size_t i = 0; i < hw && i < nref; i++) differ += pred[i] != (uint8_t)ref[i];
    printf("    label map: %zu of %zu pixels differ from PyTorch\n", differ, hw);
    /* float32 summation order differs from oneDNN's; only near-ties may flip */
    EXPECT(differ <= hw / 10000, "%zu pixels differ", differ);
    fx_close(f);
    free(pred), free(logits);
    frame_free(&fr), image_free(&im);
    espnet_free(&m);
}

TEST(espnet_rejects_checkpoint_of_another_model) {
    ESPNet m;
    espnet_init(&m, 12, 2, 8);
    const char *w = test_shared_path("weights/carn/carn_m.pth");
    int rc = model_load_weights(&m.ps, w, "espnet", NULL, NULL);
    EXPECT(rc < 0, "loading CARN-M weights into ESPNet must fail");
    printf("    error: %s\n", rn_errmsg());
    EXPECT(strstr(rn_errmsg(), "encoder.level1.conv.weight") != NULL, "names the first missing parameter: %s", rn_errmsg());
    espnet_free(&m);
}
