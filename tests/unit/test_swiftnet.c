/* test_swiftnet.c: SwiftNet through rune vs the PyTorch oracle (scripts/fixtures/gen_swiftnet.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/image.h"
#include "nn/models/model_io.h"
#include "nn/io/checkpoint.h"
#include "nn/models/segmenter.h"
#include "nn/models/swiftnet.h"
#include "tests/fixture.h"
#include "tests/rune_exec.h"
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

/* Inference without a tape takes the fused conv + BatchNorm (+ ReLU) path (op_conv2d_bn): the same
 * logits as PyTorch, at the same tolerance as the unfused ops above. */
TEST(swiftnet_fused_inference_logits_vs_torch) {
    SwiftNet m;
    if (load_tiny(&m) < 0) return;
    Fixture *f = fx_open("swiftnet.h5");
    if (!f) return;
    bool old = engine_set_grad(false);
    Tensor *y = swiftnet_forward(&m, fx_tensor(f, "x"), false);
    fx_expect(f, "logits", y->data, tensor_numel(y), 1e-4, 1e-4);
    engine_set_grad(old);
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

/* ---- the segmenter face (nn/models/segmenter.h) ---- */

TEST(segmenter_opens_swiftnet_pth_by_names_and_matches_torch) {
    Segmenter *s = segmenter_open(test_fixture_path("swiftnet_tiny.pth"), NULL, 0, NULL);
    EXPECT(s != NULL, "%s", rn_errmsg());
    if (!s) return;
    EXPECT(s->arch == SEG_SWIFTNET && s->outputs == 5 && s->classes == 5, "arch %s outputs %d", s->arch_name, s->outputs);
    EXPECT(s->swiftnet->base == 4 && s->swiftnet->features == 8, "width read off the tensors");
    EXPECT(s->ps->t[0]->requires_grad == false, "parameters frozen");
    Fixture *f = fx_open("swiftnet.h5");
    if (!f) return;
    engine_set_grad(false);
    Tensor *y = segmenter_forward(s, fx_tensor(f, "x"), false);
    fx_expect(f, "logits", y->data, tensor_numel(y), 1e-4, 1e-4); /* the checkpoint's img_mean/std were used */
    /* predictions: argmax over the classes */
    uint8_t pred[40 * 72];
    segmenter_predict(s, y, 0, pred);
    size_t hw = 40 * 72, bad = 0;
    for (size_t i = 0; i < hw; i++)
        for (int k = 0; k < 5; k++) bad += y->data[k * hw + i] > y->data[pred[i] * hw + i];
    EXPECT(bad == 0, "%zu pixels not at their argmax", bad);
    fx_close(f);
    segmenter_close(s);
}

TEST(segmenter_roundtrips_a_rune_checkpoint) {
    Segmenter *a = segmenter_new("swiftnet", 3, 0.1);
    EXPECT(a != NULL, "%s", rn_errmsg());
    if (!a) return;
    swiftnet_set_norm_named(a->swiftnet, "camvid");
    CkptAttrs at = {0};
    attrs_set_str(&at, "model", "swiftnet");
    char path[] = "/tmp/rune_test_segmenter_XXXXXX.h5";
    int fd = mkstemps(path, 3);
    EXPECT(fd >= 0, "mkstemps");
    close(fd);
    EXPECT(ckpt_save(path, a->ps, &at, NULL) == 0, "%s", rn_errmsg());
    Segmenter *b = segmenter_open(path, NULL, 0, NULL);
    EXPECT(b != NULL, "%s", rn_errmsg());
    if (b) {
        EXPECT(b->arch == SEG_SWIFTNET && b->swiftnet->base == a->swiftnet->base && b->outputs == 3, "shape from the .h5");
        EXPECT(b->swiftnet->img_mean->data[2] == a->swiftnet->img_mean->data[2], "normalisation stored as buffers");
        EXPECT(memcmp(a->ps->data, b->ps->data, a->ps->total * sizeof(real_t)) == 0, "same weights");
    }
    Segmenter *c = segmenter_open(path, "espnet", 0, NULL);
    EXPECT(c == NULL, "a swiftnet checkpoint opened as espnet must fail");
    printf("    error: %s\n", rn_errmsg());
    unlink(path);
    segmenter_close(a), segmenter_close(b), segmenter_close(c);
}

TEST(segmenter_espnet_camvid_drops_the_void_channel) {
    const char *w = test_shared_path("weights/espnet/espnet_p_2_q_8_camvid.pth");
    Segmenter *s = segmenter_open(w, NULL, 0, NULL);
    EXPECT(s != NULL, "%s", rn_errmsg());
    if (!s) return;
    EXPECT(s->arch == SEG_ESPNET && s->outputs == 12 && s->classes == 11, "outputs %d classes %d", s->outputs, s->classes);
    EXPECT(s->espnet->p == 2 && s->espnet->q == 8, "p %d q %d", s->espnet->p, s->espnet->q);
    EXPECT(fabs(s->espnet->mean_bgr[0] - 110.33105) < 1e-3, "camvid normalisation by default");
    EXPECT(!strcmp(s->class_names[10], "Bicyclist"), "CamVid names");
    /* a size that is not a multiple of 8 goes through (resized in and out) */
    engine_set_grad(false);
    Tensor *x = tensor_zeros(1, 3, 37, 50);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] = (real_t)((i * 37 % 101) / 100.0);
    Tensor *y = segmenter_forward(s, x, false);
    EXPECT(TC(y) == 12 && TH(y) == 37 && TW(y) == 50, "logits %dx%dx%d", TC(y), TH(y), TW(y));
    /* the void channel is never predicted even where it is the largest logit */
    size_t hw = 37 * 50;
    for (size_t i = 0; i < hw; i++) y->data[11 * hw + i] = 1e6;
    uint8_t pred[37 * 50];
    segmenter_predict(s, y, 0, pred);
    int maxp = 0;
    for (size_t i = 0; i < hw; i++) maxp = pred[i] > maxp ? pred[i] : maxp;
    EXPECT(maxp < 11, "predicted class %d", maxp);
    segmenter_close(s);
}

/* ---- the subcommands, end to end on the embedded sample frames ---- */

TEST(cli_segment_writes_overlay_and_class_map) {
    const char *dir = test_temp_dir("seg");
    char args[1024], out[8192];
    snprintf(args, sizeof args,
             "segment --model tests/fixtures/swiftnet_tiny.pth --labels %s/map.png data/samples/camvid/test/Seq05VD_f00000.png %s/ov.png",
             dir, dir);
    int rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 0, "rc %d: %s", rc, out);
    char p[300];
    Image map = {0}, ov = {0};
    snprintf(p, sizeof p, "%s/map.png", dir);
    EXPECT(png_read(p, &map, 0) == 0 && map.c == 1 && map.w == 480 && map.h == 360, "class map 480x360 gray: %s", rn_errmsg());
    int maxc = 0;
    for (size_t i = 0; map.px && i < (size_t)map.w * map.h; i++) maxc = map.px[i] > maxc ? map.px[i] : maxc;
    EXPECT(maxc < 5, "class ids < 5, got %d", maxc);
    snprintf(p, sizeof p, "%s/ov.png", dir);
    EXPECT(png_read(p, &ov, 0) == 0 && ov.c == 3 && ov.w == 480, "overlay RGB: %s", rn_errmsg());
    image_free(&map), image_free(&ov);
    snprintf(args, sizeof args, "segment --model tests/fixtures/missing.pth data/samples/camvid/test/Seq05VD_f00000.png %s/x.png", dir);
    rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "missing.pth"), "a missing model names the file: rc %d %s", rc, out);
}

/* train-task: 4 steps in one go equal 2 steps + a resumed 2 (constant lr, so the schedule is the
 * same in both runs); then eval-seg scores the checkpoint on the same frames. */
TEST(cli_train_task_resumes_exactly_and_eval_seg_scores_it) {
    const char *dir = test_temp_dir("task");
    char args[1024], out[8192], p[300];
    const char *common = "train-task --data data/samples/camvid --split test --batch 2 --crop 64 --width 0.05 "
                         "--lr 1e-3 --min-lr 1e-3 --ckpt-every 2 --quiet";
    snprintf(args, sizeof args, "%s --steps 4 --out %s/a.h5", common, dir);
    int rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 0, "rc %d: %s", rc, out);
    snprintf(args, sizeof args, "%s --steps 2 --out %s/b.h5", common, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "%s --steps 4 --out %s/b.h5 --resume", common, dir);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    snprintf(p, sizeof p, "%s/a_loss.csv", dir);
    char *la = test_read_text(p);
    snprintf(p, sizeof p, "%s/b_loss.csv", dir);
    char *lb = test_read_text(p);
    EXPECT(la && lb && strcmp(la, lb) == 0, "loss logs differ:\n%s\nvs\n%s", la ? la : "(none)", lb ? lb : "(none)");
    EXPECT(la && strstr(la, "\n4,") != NULL, "four steps logged: %s", la ? la : "");
    free(la), free(lb);
    snprintf(args, sizeof args, "eval-seg --model %s/a.h5 --data data/samples/camvid --csv %s/e.csv", dir, dir);
    rc = rune_exec(args, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "mIoU") && strstr(out, "Bicyclist"), "rc %d: %s", rc, out);
    snprintf(p, sizeof p, "%s/e.csv", dir);
    char *csv = test_read_text(p);
    EXPECT(csv && strstr(csv, "class,iou,tail\nSky,") && strstr(csv, "\nframes,4,"), "csv: %s", csv ? csv : "(none)");
    free(csv);
}

/* ESPNet-CamVid on the sample frames, scored both ways: the void channel skipped (default) and
 * ESPNet's own protocol (--void-class), which reproduces its published 55.64 % on the full split. */
TEST(cli_eval_seg_espnet_void_protocols) {
    const char *w = test_shared_path("weights/espnet/espnet_p_2_q_8_camvid.pth");
    char args[1024], out[8192];
    snprintf(args, sizeof args, "eval-seg --model %s --data data/samples/camvid", w);
    EXPECT(rune_exec(args, out, sizeof out) == 0 && strstr(out, "12 outputs, 11 classes"), "%s", out);
    const char *m = strstr(out, "\nmIoU");
    double a = m ? atof(m + 5) : -1;
    snprintf(args, sizeof args, "eval-seg --model %s --data data/samples/camvid --void-class", w);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    m = strstr(out, "\nmIoU");
    double b = m ? atof(m + 5) : -1;
    printf("    sample frames: mIoU %.2f (void skipped), %.2f (--void-class)\n", a, b);
    EXPECT(a > 40 && b > 40 && b < a, "void labels kept as a class can only cost IoU: %.2f vs %.2f", a, b);
    snprintf(args, sizeof args, "eval-seg --model tests/fixtures/swiftnet_tiny.pth --data data/samples/camvid --void-class");
    EXPECT(rune_exec(args, out, sizeof out) == 1 && strstr(out, "no void output"), "a model without a void output refuses --void-class: %s", out);
}
