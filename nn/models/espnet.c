/* espnet.c: ESPNet forward with names and shapes matching the published PyTorch checkpoints. */
#include "nn/models/espnet.h"

#include <stdio.h>
#include <string.h>

#include "util/err.h"

#define BN_EPS 1e-3

static EspBR br_decl(ParamSet *ps, const char *prefix_bn, const char *prefix_act, int c) {
    EspBR b;
    b.bn = bn_decl(ps, prefix_bn, c, BN_EPS);
    b.act = prelu_decl(ps, prefix_act, c);
    return b;
}

/* BatchNorm then PReLU; one fused pass at inference (op_batch_norm_prelu). */
static Tensor *bn_prelu(const BatchNorm *bn, Tensor *act, Tensor *x, bool training) {
    if (training) return op_prelu(bn_fwd(bn, x, true), act);
    return op_batch_norm_prelu(x, bn->gamma, bn->beta, bn->rmean, bn->rvar, (real_t)bn->eps, act);
}

static Tensor *br_fwd(const EspBR *b, Tensor *x, bool training) {
    return bn_prelu(&b->bn, b->act, x, training);
}

/* DownSamplerB (down=true: c1 is a strided 3x3, BN/PReLU named "<p>.bn"/"<p>.act") or the ESP
 * block (c1 1x1, BR named "<p>.bn.bn"/"<p>.bn.act"). n = nOut/5 channels per branch, d1 gets the rest. */
static EspBlock esp_decl(ParamSet *ps, const char *prefix, int nin, int nout, bool down, bool residual) {
    EspBlock b;
    char p[128]; /* own copy: pname()'s rotating buffers are reused by the calls below */
    snprintf(p, sizeof p, "%s", prefix);
    int n = nout / 5, n1 = nout - 4 * n;
    b.c1 = down ? conv_decl(ps, pname("%s.c1.conv", p), nin, n, 3, 2, 1, 1, 1, false)
                : conv_decl(ps, pname("%s.c1.conv", p), nin, n, 1, 1, 0, 1, 1, false);
    static const int dil[5] = {1, 2, 4, 8, 16};
    for (int i = 0; i < 5; i++)
        b.d[i] = conv_decl(ps, pname("%s.d%d.conv", p, dil[i]), n, i == 0 ? n1 : n, 3, 1, dil[i], dil[i], 1, false);
    if (down) {
        b.bn = bn_decl(ps, pname("%s.bn", p), nout, BN_EPS);
        b.act = prelu_decl(ps, pname("%s.act", p), nout);
    } else {
        b.bn = bn_decl(ps, pname("%s.bn.bn", p), nout, BN_EPS);
        b.act = prelu_decl(ps, pname("%s.bn.act", p), nout);
    }
    b.residual = residual;
    return b;
}

static Tensor *esp_fwd(const EspBlock *b, Tensor *x, bool training) {
    Tensor *o1 = conv_fwd(&b->c1, x);
    Tensor *d[5];
    for (int i = 0; i < 5; i++) d[i] = conv_fwd(&b->d[i], o1);
    /* hierarchical feature fusion: add1 = d2, add2 = add1 + d4, ... (removes gridding) */
    Tensor *parts[5] = {d[0], d[1], NULL, NULL, NULL};
    for (int i = 2; i < 5; i++) parts[i] = op_add(parts[i - 1], d[i]);
    Tensor *comb = op_concat(parts, 5);
    if (b->residual) comb = op_add(x, comb);
    return bn_prelu(&b->bn, b->act, comb, training);
}

void espnet_init(ESPNet *m, int classes, int p, int q) {
    memset(m, 0, sizeof *m);
    if (p < 1 || q < 1 || p > ESPNET_MAX_Q || q > ESPNET_MAX_Q) rn_die("espnet: p=%d q=%d out of range", p, q);
    m->classes = classes, m->p = p, m->q = q;
    ParamSet *ps = &m->ps;
    params_init(ps);
    m->level1 = conv_decl(ps, "encoder.level1.conv", 3, 16, 3, 2, 1, 1, 1, false);
    m->level1_br = br_decl(ps, "encoder.level1.bn", "encoder.level1.act", 16);
    m->b1 = br_decl(ps, "encoder.b1.bn", "encoder.b1.act", 19);
    m->level2_0 = esp_decl(ps, "encoder.level2_0", 19, 64, true, false);
    for (int i = 0; i < p; i++) m->level2[i] = esp_decl(ps, pname("encoder.level2.%d", i), 64, 64, false, true);
    m->b2 = br_decl(ps, "encoder.b2.bn", "encoder.b2.act", 131);
    m->level3_0 = esp_decl(ps, "encoder.level3_0", 131, 128, true, false);
    for (int i = 0; i < q; i++) m->level3[i] = esp_decl(ps, pname("encoder.level3.%d", i), 128, 128, false, true);
    m->b3 = br_decl(ps, "encoder.b3.bn", "encoder.b3.act", 256);
    m->enc_classifier = conv_decl(ps, "encoder.classifier.conv", 256, classes, 1, 1, 0, 1, 1, false);
    m->level3_C = conv_decl(ps, "level3_C.conv", 131, classes, 1, 1, 0, 1, 1, false);
    m->br = bn_decl(ps, "br", classes, BN_EPS);
    m->conv = conv_decl(ps, "conv.conv", 19 + classes, classes, 3, 1, 1, 1, 1, false);
    m->conv_br = br_decl(ps, "conv.bn", "conv.act", classes);
    m->up_l3 = deconv_decl(ps, "up_l3.0", classes, classes, 2, 2, 0, 0, false);
    m->comb_br = br_decl(ps, "combine_l2_l3.0.bn", "combine_l2_l3.0.act", 2 * classes);
    m->comb_block = esp_decl(ps, "combine_l2_l3.1", 2 * classes, classes, false, false);
    m->up_l2 = deconv_decl(ps, "up_l2.0", classes, classes, 2, 2, 0, 0, false);
    m->up_l2_br = br_decl(ps, "up_l2.1.bn", "up_l2.1.act", classes);
    m->classifier = deconv_decl(ps, "classifier", classes, classes, 2, 2, 0, 0, false);
    params_finalize(ps);
    layers_default_init(ps, 1);
    espnet_set_norm_named(m, "cityscapes");
}

void espnet_free(ESPNet *m) { params_free(&m->ps); }

void espnet_set_norm(ESPNet *m, const double mean_bgr[3], const double std_bgr[3]) {
    for (int i = 0; i < 3; i++) m->mean_bgr[i] = mean_bgr[i], m->std_bgr[i] = std_bgr[i];
}

int espnet_set_norm_named(ESPNet *m, const char *dataset) {
    /* Cityscapes: upstream test/VisualizeResults.py. CamVid: the averages of per-image BGR means
     * and stds over CamVid train, as upstream's loadData.py computes them (scripts/camvid_stats.py). */
    static const double city_m[3] = {72.3923111, 82.90893555, 73.15840149};
    static const double city_s[3] = {45.3192215, 46.15289307, 44.91483307};
    static const double camvid_m[3] = {110.33105, 108.40889, 105.03322};
    static const double camvid_s[3] = {72.125687, 72.690765, 69.904343};
    if (!strcmp(dataset, "cityscapes")) espnet_set_norm(m, city_m, city_s);
    else if (!strcmp(dataset, "camvid")) espnet_set_norm(m, camvid_m, camvid_s);
    else return rn_fail("espnet: unknown normalisation '%s' (camvid or cityscapes)", dataset);
    return 0;
}

/* RGB [0,1] -> BGR, (255 x - mean) / std / 255: one per-channel affine after a channel flip. */
static Tensor *normalise(const ESPNet *m, Tensor *x) {
    Tensor *ch[3] = {op_slice_channels(x, 2, 1), op_slice_channels(x, 1, 1), op_slice_channels(x, 0, 1)};
    Tensor *bgr = op_concat(ch, 3);
    Tensor *scale = tensor_new(1, 3, 1, 1), *shift = tensor_new(1, 3, 1, 1);
    for (int c = 0; c < 3; c++) {
        scale->data[c] = (real_t)(1.0 / m->std_bgr[c]);
        shift->data[c] = (real_t)(-m->mean_bgr[c] / (255.0 * m->std_bgr[c]));
    }
    return op_add(op_mul(bgr, tensor_on(scale, x->device)), tensor_on(shift, x->device));
}

Tensor *espnet_forward(ESPNet *m, Tensor *x, bool training) {
    if (TC(x) != 3 || TH(x) % 8 || TW(x) % 8)
        rn_die("espnet: input must be [N,3,H,W] with H, W multiples of 8 (got %dx%dx%d)", TC(x), TH(x), TW(x));
    Tensor *in = normalise(m, x);
    Tensor *out0 = br_fwd(&m->level1_br, conv_fwd(&m->level1, in), training);
    Tensor *inp1 = op_avg_pool2d(in, 3, 2, 1);
    Tensor *inp2 = op_avg_pool2d(inp1, 3, 2, 1);
    Tensor *cat0[2] = {out0, inp1};
    Tensor *out0_cat = br_fwd(&m->b1, op_concat(cat0, 2), training);
    Tensor *out1_0 = esp_fwd(&m->level2_0, out0_cat, training);
    Tensor *out1 = out1_0;
    for (int i = 0; i < m->p; i++) out1 = esp_fwd(&m->level2[i], out1, training);
    Tensor *cat1[3] = {out1, out1_0, inp2};
    Tensor *out1_cat = br_fwd(&m->b2, op_concat(cat1, 3), training);
    Tensor *out2_0 = esp_fwd(&m->level3_0, out1_cat, training);
    Tensor *out2 = out2_0;
    for (int i = 0; i < m->q; i++) out2 = esp_fwd(&m->level3[i], out2, training);
    Tensor *cat2[2] = {out2_0, out2};
    Tensor *out2_cat = br_fwd(&m->b3, op_concat(cat2, 2), training);
    /* RUM decoder: 1/8 -> 1/4 -> 1/2 -> 1 */
    Tensor *out2_c = conv_fwd(&m->up_l3, bn_fwd(&m->br, conv_fwd(&m->enc_classifier, out2_cat), training));
    Tensor *out1_C = conv_fwd(&m->level3_C, out1_cat);
    Tensor *cat3[2] = {out1_C, out2_c};
    Tensor *comb = esp_fwd(&m->comb_block, br_fwd(&m->comb_br, op_concat(cat3, 2), training), training);
    Tensor *comb_up = br_fwd(&m->up_l2_br, conv_fwd(&m->up_l2, comb), training);
    Tensor *cat4[2] = {comb_up, out0_cat};
    Tensor *feat = br_fwd(&m->conv_br, conv_fwd(&m->conv, op_concat(cat4, 2)), training);
    return conv_fwd(&m->classifier, feat);
}
