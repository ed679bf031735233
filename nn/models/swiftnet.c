/* swiftnet.c: SwiftNet single-scale ResNet-18 forward, parameters declared in upstream state_dict order. */
#include "nn/models/swiftnet.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

#define BN_EPS 1e-5          /* nn.BatchNorm2d's default everywhere upstream */
#define SPP_MOMENTUM 0.005   /* upstream passes bn_momentum = 0.01 / 2 to the SPP only */

static SwBRC brc_decl(ParamSet *ps, const char *prefix, int cin, int cout, int k, double momentum, bool bias) {
    char p[160]; /* own copy: pname()'s rotating buffers are reused below */
    snprintf(p, sizeof p, "%s", prefix);
    SwBRC b;
    b.bn = bn_decl(ps, pname("%s.norm", p), cin, BN_EPS);
    b.bn.momentum = momentum;
    b.conv = conv_decl(ps, pname("%s.conv", p), cin, cout, k, 1, k / 2, 1, 1, bias);
    return b;
}

static Tensor *brc_fwd(const SwBRC *b, Tensor *x, bool training) {
    if (training) return conv_fwd(&b->conv, op_relu(bn_fwd(&b->bn, x, true)));
    const BatchNorm *n = &b->bn;
    return conv_fwd(&b->conv, op_batch_norm_relu(x, n->gamma, n->beta, n->rmean, n->rvar, (real_t)n->eps));
}

/* Declared in BasicBlock's registration order: conv1, bn1, conv2, bn2, downsample.{0,1}. */
static SwBlock block_decl(ParamSet *ps, const char *prefix, int cin, int c, int stride) {
    char p[160];
    snprintf(p, sizeof p, "%s", prefix);
    SwBlock b = {0};
    b.conv1 = conv_decl(ps, pname("%s.conv1", p), cin, c, 3, stride, 1, 1, 1, false);
    b.bn1 = bn_decl(ps, pname("%s.bn1", p), c, BN_EPS);
    b.conv2 = conv_decl(ps, pname("%s.conv2", p), c, c, 3, 1, 1, 1, 1, false);
    b.bn2 = bn_decl(ps, pname("%s.bn2", p), c, BN_EPS);
    b.has_down = stride != 1 || cin != c;
    if (b.has_down) {
        b.down = conv_decl(ps, pname("%s.downsample.0", p), cin, c, 1, stride, 0, 1, 1, false);
        b.down_bn = bn_decl(ps, pname("%s.downsample.1", p), c, BN_EPS);
    }
    return b;
}

/* Upstream returns (relu, out) but its ReLU is in place on `out`, so both are the post-ReLU sum:
 * the next block and the decoder's skip see the same tensor. */
static Tensor *block_fwd(const SwBlock *b, Tensor *x, bool training) {
    Tensor *r = b->has_down ? conv_bn_fwd(&b->down, &b->down_bn, x, training, false) : x;
    Tensor *o = conv_bn_fwd(&b->conv1, &b->bn1, x, training, true);
    o = conv_bn_fwd(&b->conv2, &b->bn2, o, training, false);
    return op_add_relu(o, r);
}

static void declare_backbone(SwiftNet *m) {
    ParamSet *ps = &m->ps;
    m->img_mean = params_add_buffer(ps, "backbone.img_mean", 1, 3, 1, 1);
    m->img_std = params_add_buffer(ps, "backbone.img_std", 1, 3, 1, 1);
    m->conv1 = conv_decl(ps, "backbone.conv1", 3, m->base, 7, 2, 3, 1, 1, false);
    m->bn1 = bn_decl(ps, "backbone.bn1", m->base, BN_EPS);
    int cin = m->base;
    for (int l = 0; l < 4; l++) {
        int c = m->base << l;
        m->layer[l][0] = block_decl(ps, pname("backbone.layer%d.0", l + 1), cin, c, l ? 2 : 1);
        m->layer[l][1] = block_decl(ps, pname("backbone.layer%d.1", l + 1), c, c, 1);
        cin = c;
    }
}

static void declare_decoder(SwiftNet *m) {
    ParamSet *ps = &m->ps;
    int f = m->features, lv = f / SWIFTNET_LEVELS, c4 = m->base * 8;
    m->spp_bn = brc_decl(ps, "backbone.spp.spp.spp_bn", c4, f, 1, SPP_MOMENTUM, false);
    for (int i = 0; i < SWIFTNET_LEVELS; i++)
        m->spp[i] = brc_decl(ps, pname("backbone.spp.spp.spp%d", i), f, lv, 1, SPP_MOMENTUM, false);
    m->spp_fuse = brc_decl(ps, "backbone.spp.spp.spp_fuse", f + SWIFTNET_LEVELS * lv, f, 1, SPP_MOMENTUM, false);
    for (int i = 0; i < 3; i++) {
        int skip = m->base << (2 - i); /* layer3, layer2, layer1 */
        m->up[i].bottleneck = brc_decl(ps, pname("backbone.upsample.%d.bottleneck", i), skip, f, 1, 0.1, false);
        m->up[i].blend = brc_decl(ps, pname("backbone.upsample.%d.blend_conv", i), f, f, 3, 0.1, false);
    }
    m->logits = brc_decl(ps, "logits", f, m->classes, 1, 0.1, true);
}

void swiftnet_init(SwiftNet *m, int classes, int base, int features) {
    if (classes < 1 || classes > 255 || base < 1 || features < SWIFTNET_LEVELS)
        rn_die("swiftnet: classes=%d base=%d features=%d out of range", classes, base, features);
    memset(m, 0, sizeof *m);
    m->classes = classes, m->base = base, m->features = features;
    params_init(&m->ps);
    declare_backbone(m);
    declare_decoder(m);
    params_finalize(&m->ps);
    swiftnet_init_weights(m, 1);
    swiftnet_set_norm_named(m, "swiftnet");
}

void swiftnet_init_width(SwiftNet *m, int classes, double width) {
    int base = (int)lround(64 * width), f = (int)lround(128 * width);
    swiftnet_init(m, classes, base < 1 ? 1 : base, f < SWIFTNET_LEVELS ? SWIFTNET_LEVELS : f);
}

void swiftnet_free(SwiftNet *m) { params_free(&m->ps); }

void swiftnet_set_norm(SwiftNet *m, const double mean_rgb[3], const double std_rgb[3]) {
    for (int c = 0; c < 3; c++) m->img_mean->data[c] = (real_t)mean_rgb[c], m->img_std->data[c] = (real_t)std_rgb[c];
}

int swiftnet_set_norm_named(SwiftNet *m, const char *name) {
    /* "swiftnet": configs/rn18_single_scale.py; "cityscapes": ResNet's constructor defaults;
     * "camvid": the CamVid train statistics ESPNet uses (espnet.c), here in RGB order. */
    static const struct { const char *name; double mean[3], std[3]; } sets[] = {
        {"swiftnet", {73.15, 82.90, 72.3}, {47.67, 48.49, 47.73}},
        {"cityscapes", {73.1584, 82.9090, 72.3924}, {44.9149, 46.1529, 45.3192}},
        {"camvid", {105.03322, 108.40889, 110.33105}, {69.904343, 72.690765, 72.125687}},
        {"imagenet", {123.675, 116.28, 103.53}, {58.395, 57.12, 57.375}},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (!strcmp(name, sets[i].name)) {
            swiftnet_set_norm(m, sets[i].mean, sets[i].std);
            return 0;
        }
    return rn_fail("swiftnet: unknown normalisation '%s' (swiftnet, cityscapes, camvid or imagenet)", name);
}

/* Standard normal deviates from a xorshift64 stream (Box-Muller), deterministic in the seed. */
static double randn(uint64_t *st) {
    double u[2]; /* in (0, 1): half a step above rng_unit, so that log(u) is finite */
    for (int i = 0; i < 2; i++) u[i] = ((xorshift64_next(st) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

void swiftnet_init_weights(SwiftNet *m, unsigned seed) {
    real_t mean[3], std[3];
    for (int c = 0; c < 3; c++) mean[c] = m->img_mean->data[c], std[c] = m->img_std->data[c];
    layers_default_init(&m->ps, seed); /* BN 1/0, running var 1, the logits conv as PyTorch's default */
    uint64_t st = 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 17);
    for (int i = 0; i < m->ps.count; i++) {
        Tensor *t = m->ps.t[i];
        size_t len = strlen(t->name);
        bool conv_w = TH(t) * TW(t) * TC(t) > 1 && len > 7 && !strcmp(t->name + len - 7, ".weight");
        if (!conv_w || strncmp(t->name, "backbone.", 9) != 0) continue;
        /* kaiming_normal_(mode='fan_out', nonlinearity='relu'), as ResNet.__init__ */
        double sd = sqrt(2.0 / ((double)TN(t) * TH(t) * TW(t)));
        for (size_t j = 0; j < tensor_numel(t); j++) t->data[j] = (real_t)(sd * randn(&st));
    }
    for (int c = 0; c < 3; c++) m->img_mean->data[c] = mean[c], m->img_std->data[c] = std[c];
}

void swiftnet_spp_grid(int h, int w, int g, int *gh, int *gw) {
    double v = (double)w / h * g;
    double r = nearbyint(v); /* round half to even under the default rounding mode, as Python */
    *gh = g;
    *gw = r < 1 ? 1 : (int)r;
}

/* RGB [0,1] -> (255 x - mean) / std: one per-channel affine. */
static Tensor *normalise(const SwiftNet *m, Tensor *x) {
    Tensor *scale = tensor_new(1, 3, 1, 1), *shift = tensor_new(1, 3, 1, 1);
    const Tensor *mean = tensor_host(m->img_mean), *std = tensor_host(m->img_std); /* buffers: on the model's device */
    for (int c = 0; c < 3; c++) {
        double s = std->data[c];
        scale->data[c] = (real_t)(255.0 / s);
        shift->data[c] = (real_t)(-mean->data[c] / s);
    }
    return op_add(op_mul(x, tensor_on(scale, x->device)), tensor_on(shift, x->device));
}

static Tensor *spp_fwd(const SwiftNet *m, Tensor *x, bool training) {
    int h = TH(x), w = TW(x);
    Tensor *levels[SWIFTNET_LEVELS + 1];
    static const int grids[SWIFTNET_LEVELS] = {8, 4, 2};
    x = brc_fwd(&m->spp_bn, x, training);
    levels[0] = x;
    for (int i = 0; i < SWIFTNET_LEVELS; i++) {
        int gh, gw;
        swiftnet_spp_grid(h, w, grids[i], &gh, &gw);
        Tensor *lv = brc_fwd(&m->spp[i], op_adaptive_avg_pool2d(x, gh, gw), training);
        levels[i + 1] = op_resize_bilinear(lv, h, w);
    }
    return brc_fwd(&m->spp_fuse, op_concat(levels, SWIFTNET_LEVELS + 1), training);
}

static Tensor *up_fwd(const SwUp *u, Tensor *x, Tensor *skip, bool training) {
    skip = brc_fwd(&u->bottleneck, skip, training);
    x = op_add(op_resize_bilinear(x, TH(skip), TW(skip)), skip);
    return brc_fwd(&u->blend, x, training);
}

Tensor *swiftnet_forward(SwiftNet *m, Tensor *x, bool training) {
    if (TC(x) != 3 || TH(x) < 32 || TW(x) < 32)
        rn_die("swiftnet: input must be [N,3,H,W] with H, W >= 32 (got %dx%dx%d)", TC(x), TH(x), TW(x));
    Tensor *h = conv_bn_fwd(&m->conv1, &m->bn1, normalise(m, x), training, true);
    h = op_max_pool2d(h, 3, 2, 1);
    Tensor *skip[4];
    for (int l = 0; l < 4; l++) {
        h = block_fwd(&m->layer[l][0], h, training);
        h = block_fwd(&m->layer[l][1], h, training);
        skip[l] = h;
    }
    Tensor *y = spp_fwd(m, skip[3], training);
    for (int i = 0; i < 3; i++) y = up_fwd(&m->up[i], y, skip[2 - i], training);
    return op_resize_bilinear(brc_fwd(&m->logits, y, training), TH(x), TW(x));
}
