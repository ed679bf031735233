/* test_carn.c: CARN-M (published weights) and CARN (formula weights) against PyTorch; names, tiling, checkpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/models/carn.h"
#include "nn/ops/ops.h"
#include "nn/io/torch_load.h"
#include "tests/fixture.h"
#include "tests/gradcheck.h"
#include "tests/rune_exec.h"
#include "tests/test.h"
#include "util/err.h"

/* ---- structure: every state_dict name, in order, with its shape ---------------------------- */

static void check_listing(const char *tag, const Carn *m) {
    FILE *f = fopen(test_fixture_path("carn_params.txt"), "r");
    if (!f) return;
    char t[32], name[128], shape[64];
    int i = 0;
    while (fscanf(f, "%31s %127s %63s", t, name, shape) == 3) {
        if (strcmp(t, tag) != 0) continue;
        int dims[4] = {1, 1, 1, 1}, nd = sscanf(shape, "%dx%dx%dx%d", &dims[0], &dims[1], &dims[2], &dims[3]);
        EXPECT(nd >= 1, "shape %s", shape);
        if (i >= m->ps.count) {
            test_fail_at(__FILE__, __LINE__, "%s: PyTorch has %s beyond rune's %d entries", tag, name, m->ps.count);
            break;
        }
        const Tensor *p = m->ps.t[i++];
        EXPECT(strcmp(p->name, name) == 0, "%s entry %d: rune %s, PyTorch %s", tag, i - 1, p->name, name);
        EXPECT(memcmp(p->shape, dims, sizeof dims) == 0, "%s %s: shape %dx%dx%dx%d vs %s", tag, name, p->shape[0],
               p->shape[1], p->shape[2], p->shape[3], shape);
    }
    EXPECT(i == m->ps.count, "%s: PyTorch lists %d entries, rune %d", tag, i, m->ps.count);
    fclose(f);
}

TEST(carn_param_names_match_pytorch) {
    Carn *mm = carn_new(CARN_M, 0), *mf = carn_new(CARN_FULL, 0);
    check_listing("carn_m", mm);
    check_listing("carn", mf);
    /* published counts (upstream README): CARN-M 412K, CARN 1,592K (without the frozen shifters) */
    printf("    trainable: CARN-M %zu, CARN %zu\n", params_count_trainable(&mm->ps), params_count_trainable(&mf->ps));
    EXPECT(params_count_trainable(&mm->ps) > 400000 && params_count_trainable(&mm->ps) < 420000, "CARN-M size");
    carn_free(mm), carn_free(mf);
}

/* ---- full CARN with formula weights (too big to commit its random weights) -------------------- */

static void formula_weights(Carn *m) {
    ParamSet *ps = &m->ps;
    for (int k = 0; k < ps->count; k++) {
        Tensor *t = ps->t[k];
        if (strstr(t->name, "shifter")) continue;
        Tensor *w = strstr(t->name, ".bias") ? ps->t[k - 1] : t;
        double fan_in = (double)TC(w) * TH(w) * TW(w);
        for (size_t j = 0; j < tensor_numel(t); j++)
            t->data[j] = (real_t)(sin(0.7 * (double)j + 1.3 * k) / sqrt(fan_in));
    }
}

TEST(carn_full_vs_pytorch) {
    Fixture *f = fx_open("carn_full.h5");
    if (!f) return;
    Carn *m = carn_new(CARN_FULL, 0);
    formula_weights(m);
    Tensor *x = fx_tensor(f, "x");
    x->requires_grad = true;
    Tensor *y2 = carn_forward(m, x, 2);
    fx_expect(f, "y2", y2->data, tensor_numel(y2), 1e-5, 1e-4);
    Tensor *y4 = carn_forward(m, x, 4);
    EXPECT(TH(y4) == 4 * TH(x) && TW(y4) == 4 * TW(x), "x4 output shape");
    fx_expect(f, "y4", y4->data, tensor_numel(y4), 1e-5, 1e-4);
    tape_backward(op_sum(y4));
    fx_expect(f, "dx", x->grad, tensor_numel(x), 1e-4, 1e-4);
    Tensor *w = params_find(&m->ps, "entry.weight");
    fx_expect(f, "d:entry.weight", w->grad, tensor_numel(w), 1e-3, 1e-4);
    fx_close(f);
    carn_free(m);
}

/* ---- CARN-M with the published weights ----------------------------------------------------- */

static Carn *published_carn_m(void) {
    const char *path = test_shared_path("weights/carn/carn_m.pth");
    TorchFile tf;
    if (torch_load(path, &tf) < 0) {
        test_fail_at(__FILE__, __LINE__, "%s", rn_errmsg());
        return NULL;
    }
    Carn *m = carn_new(CARN_M, 0);
    if (torch_fill_params(&tf, &m->ps, NULL, false) < 0) test_fail_at(__FILE__, __LINE__, "%s", rn_errmsg());
    torch_free(&tf);
    return m;
}

TEST(carn_m_published_vs_pytorch) {
    Carn *m = published_carn_m();
    Fixture *f = fx_open("carn_m.h5");
    if (!m || !f) return;
    Tensor *x = fx_tensor(f, "x");
    const char *names[3] = {"y2", "y3", "y4"};
    for (int s = 2; s <= 4; s++) {
        Tensor *y = carn_forward(m, x, s);
        EXPECT(TH(y) == s * TH(x) && TW(y) == s * TW(x), "x%d shape", s);
        fx_expect(f, names[s - 2], y->data, tensor_numel(y), 1e-5, 1e-4);
    }
    /* the training loss at x4 and its gradients */
    x->requires_grad = true;
    Tensor *target = tensor_new(1, 3, 48, 40); /* the formula of gen_carn.py */
    for (size_t i = 0; i < tensor_numel(target); i++) target->data[i] = (real_t)(0.5 + 0.4 * sin(0.3 * (double)i));
    Tensor *loss = op_l1_loss(carn_forward(m, x, 4), target);
    EXPECT_NEAR(loss->data[0], fx_scalar(f, "loss"), 1e-6);
    tape_backward(loss);
    fx_expect(f, "dx", x->grad, tensor_numel(x), 1e-8, 1e-4);
    const char *pn[] = {"entry.weight", "b2.b1.body.2.bias", "b3.c2.body.0.bias", "upsample.up4.body.3.bias",
                        "exit.weight"};
    for (int i = 0; i < 5; i++) {
        char key[96];
        snprintf(key, sizeof key, "d:%s", pn[i]);
        Tensor *p = params_find(&m->ps, pn[i]);
        fx_expect(f, key, p->grad, tensor_numel(p), 1e-8, 1e-4);
    }
    EXPECT(params_find(&m->ps, "sub_mean.shifter.weight")->grad == NULL, "mean shifter stays frozen");
    fx_close(f);
    carn_free(m);
}

/* ---- tiling: no seams ----------------------------------------------------------------------- */

/* 16-pixel tiles along the long side of a 72x12 (and 12x72) image: with the default context
 * (receptive radius + 2 = 24) each tile's input window is 64 pixels long, never the whole image,
 * so this compares genuinely different computations; 2 pixels of context must leave seams. */
static void tiled_case(Carn *m, int h, int w, int s) {
    Tensor *x = tensor_new(1, 3, h, w);
    fill_uniform(x, 3, 0, 1);
    bool old = engine_set_grad(false);
    Tensor *full = carn_forward(m, x, s);
    engine_set_grad(old);
    size_t n = tensor_numel(full);
    real_t *tiled = xmalloc(n * sizeof(real_t));
    for (size_t j = 0; j < n; j++) tiled[j] = NAN;
    carn_upscale_tiled_buf(m, x->data, h, w, s, 16, -1, tiled);
    double worst = 0;
    for (size_t j = 0; j < n; j++) {
        double d = fabs((double)tiled[j] - full->data[j]);
        if (!(d <= worst)) worst = d; /* NaN (a pixel no tile wrote) wins */
    }
    printf("    %dx%d x%d, 16-pixel tiles vs untiled: max |diff| %.3g\n", w, h, s, worst);
    EXPECT(worst <= 1e-5, "x%d tiled output differs by %g", s, worst);
    carn_upscale_tiled_buf(m, x->data, h, w, s, 16, 2, tiled);
    double bad = 0;
    for (size_t j = 0; j < n; j++) bad = fmax(bad, fabs((double)tiled[j] - full->data[j]));
    EXPECT(bad > 1e-3, "2 pixels of context should leave seams (diff %g)", bad);
    free(tiled);
}

TEST(carn_tiled_equals_untiled) {
    int scales[2] = {4, 3};
    Carn *m = carn_new_heads(CARN_M, scales, 2);
    carn_init_weights(m, 7);
    tiled_case(m, 12, 72, 4);
    tiled_case(m, 72, 12, 3);
    carn_free(m);
}

/* ---- heads x6, x8 and checkpoints ---------------------------------------------------------- */

TEST(carn_x6_x8_heads) {
    int scales[5] = {2, 3, 4, 6, 8};
    Carn *m = carn_new_heads(CARN_M, scales, 5);
    EXPECT(params_find(&m->ps, "upsample.up8.body.6.weight") != NULL, "x8 third stage");
    EXPECT(params_find(&m->ps, "upsample.up6.body.3.weight")->shape[0] == 576, "x6 second stage is x3");
    Tensor *x = tensor_new(2, 3, 5, 4);
    fill_uniform(x, 1, 0, 1);
    for (int i = 0; i < 5; i++) {
        Tensor *y = carn_forward(m, x, scales[i]);
        EXPECT(TN(y) == 2 && TC(y) == 3 && TH(y) == 5 * scales[i] && TW(y) == 4 * scales[i], "x%d shape", scales[i]);
    }
    Carn *single = carn_new(CARN_FULL, 8);
    EXPECT(params_find(&single->ps, "upsample.up.body.6.weight") != NULL, "single-scale head naming");
    carn_free(single);
    carn_free(m);
}

TEST(carn_checkpoint_roundtrip_and_wrong_kind) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/rune_carn_%d.h5", (int)getpid());
    int scales[2] = {2, 6};
    Carn *m = carn_new_heads(CARN_M, scales, 2), *back = NULL;
    carn_init_weights(m, 11);
    EXPECT(carn_save(path, m, NULL) == 0, "save: %s", rn_errmsg());
    EXPECT(carn_load(path, &back, NULL) == 0, "load: %s", rn_errmsg());
    if (back) {
        EXPECT(back->kind == CARN_M && carn_has_scale(back, 6) && !carn_has_scale(back, 4), "model rebuilt from attrs");
        EXPECT(memcmp(back->ps.data, m->ps.data, m->ps.total * sizeof(real_t)) == 0, "weights round-trip");
        carn_free(back);
    }
    /* a checkpoint of another model */
    ParamSet ps;
    params_init(&ps);
    params_add(&ps, "encoder.level1.conv.weight", 4, 3, 3, 3);
    params_finalize(&ps);
    CkptAttrs at = {0};
    attrs_set_str(&at, "model", "espnet");
    EXPECT(ckpt_save(path, &ps, &at, NULL) == 0, "save espnet: %s", rn_errmsg());
    EXPECT(carn_load(path, &back, NULL) < 0 && back == NULL, "an ESPNet checkpoint is refused");
    EXPECT(strstr(rn_errmsg(), "espnet") && strstr(rn_errmsg(), "CARN"), "clear message: %s", rn_errmsg());
    printf("    %s\n", rn_errmsg());
    params_free(&ps);
    /* a CARN checkpoint whose heads disagree with its parameters */
    attrs_set_str(&at, "model", "carn");
    EXPECT(carn_save(path, m, &at) == 0, "save: %s", rn_errmsg());
    EXPECT(carn_load(path, &back, NULL) == 0, "extra attrs are kept, model from carn_attrs wins: %s", rn_errmsg());
    carn_free(back);
    unlink(path);
    carn_free(m);
}

/* An all-NaN layer used to load silently and give a flat grey image with exit status 0: now the
 * load fails naming the tensor, and `rune upscale` exits non-zero without writing an image. */
TEST(carn_nan_layer_is_refused_by_load_and_upscale) {
    const char *dir = test_temp_dir("carn_nan");
    char path[256], png[256], args[800], out[4096];
    snprintf(path, sizeof path, "%s/nan.h5", dir), snprintf(png, sizeof png, "%s/up.png", dir);
    Carn *m = carn_new(CARN_M, 4), *back = NULL;
    Tensor *w = params_find(&m->ps, "entry.weight");
    for (size_t i = 0; i < tensor_numel(w); i++) w->data[i] = (real_t)NAN;
    EXPECT(carn_save(path, m, NULL) == 0, "%s", rn_errmsg());
    carn_free(m);
    EXPECT(carn_load(path, &back, NULL) < 0 && strstr(rn_errmsg(), "parameter entry.weight holds NaN at element 0"), "%s",
           rn_errmsg());
    snprintf(args, sizeof args, "upscale --model %s --scale 4 data/samples/camvid/test/Seq05VD_f00000.png %s", path, png);
    EXPECT(rune_exec(args, out, sizeof out) != 0, "upscale with NaN weights exited 0: %s", out);
    EXPECT(strstr(out, "entry.weight") && access(png, F_OK) != 0, "names the tensor, writes nothing: %s", out);
}
