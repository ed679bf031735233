/* test_grad_yolo.c: finite-difference checks of the YOLOv3 loss wrt head outputs, darknet's maxpool, and a tiny darknet's input gradient. */
#include <math.h>
#include <string.h>

#include "nn/models/darknet.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "util/err.h"

#define NET "[net]\nwidth=64\nheight=64\nchannels=3\n"
/* two heads (2 anchors at 4x4, 1 anchor at 8x8 with scale_x_y), 2 classes, iou_thresh extras on */
#define TWO_HEADS                                                                                          \
    NET "[convolutional]\nfilters=14\nsize=1\nstride=16\nactivation=linear\n"                              \
        "[yolo]\nmask=1,2\nanchors=8,10,20,16,40,44\nclasses=2\nnum=3\nignore_thresh=.5\niou_thresh=.3\n" \
        "[route]\nlayers=-2\n"                                                                             \
        "[convolutional]\nfilters=7\nsize=1\nactivation=linear\n"                                          \
        "[upsample]\nstride=2\n"                                                                           \
        "[yolo]\nmask=0\nanchors=8,10,20,16,40,44\nclasses=2\nnum=3\nscale_x_y=1.2\n"

typedef struct LossCtx {
    DnCfg cfg;
    const YoloTruth *truth[2];
    int ntruth[2];
    YoloLossOpts o;
} LossCtx;

static const YoloTruth T0[3] = {{0, 0.10f, 0.12f, 0.30f, 0.40f}, {1, 0.50f, 0.45f, 0.95f, 0.98f}, {1, 0.70f, 0.05f, 0.78f, 0.14f}};
static const YoloTruth T1[2] = {{0, 0.30f, 0.30f, 0.36f, 0.37f}, {1, 0.05f, 0.40f, 0.75f, 0.90f}};

static Tensor *f_loss(Tensor **in, void *ctx) {
    LossCtx *c = ctx;
    return yolo_loss(&c->cfg, in, c->truth, c->ntruth, &c->o);
}

static void setup(LossCtx *c) {
    EXPECT(dn_cfg_parse(TWO_HEADS, strlen(TWO_HEADS), "two_heads.cfg", &c->cfg) == 0, "%s", rn_errmsg());
    c->truth[0] = T0, c->truth[1] = T1, c->ntruth[0] = 3, c->ntruth[1] = 2;
    c->o = yolo_loss_defaults();
}

static void check(LossCtx *c, const char *what) {
    Tensor *in[2] = {grad_input(2, 14, 4, 4, 11), grad_input(2, 7, 8, 8, 12)};
    Tensor *l = f_loss(in, c);
    EXPECT(isfinite(l->data[0]) && l->data[0] > 0, "%s: loss %g", what, (double)l->data[0]);
    gradcheck(what, f_loss, in, 2, c, 1e-6, 1e-6);
}

TEST(grad_yolo_loss_bce) {
    LossCtx c;
    setup(&c);
    check(&c, "yolo loss, BCE");
    c.o.w_box = 0.5, c.o.w_obj = 2, c.o.w_cls = 0.7, c.o.extra_anchors = false;
    check(&c, "yolo loss, weighted, no extra anchors");
    dn_cfg_free(&c.cfg);
}

TEST(grad_yolo_loss_focal_small_only) {
    LossCtx c;
    setup(&c);
    c.o.focal_gamma = 2, c.o.focal_alpha = 0.25;
    check(&c, "yolo loss, focal");
    c.o.small_frac = 0.02; /* keeps T0[2] and T1[0] only */
    check(&c, "yolo loss, focal, small boxes only");
    c.o.focal_gamma = 0;
    check(&c, "yolo loss, BCE, small boxes only");
    dn_cfg_free(&c.cfg);
}

/* Hand-computed values on one 2x2 head with one anchor: all logits 0 except tw = 0.5 at the truth's
 * cell. Positive cell: box (2 - 0.25^2) * 0.5^2, objectness and class BCE log 2 each; the three
 * other cells: objectness BCE log 2. */
TEST(yolo_loss_values_by_hand) {
    const char *t = NET "[convolutional]\nfilters=6\nsize=1\nstride=32\nactivation=linear\n[yolo]\nanchors=16,16\nclasses=1\nnum=1\n";
    DnCfg cfg;
    EXPECT(dn_cfg_parse(t, strlen(t), "one.cfg", &cfg) == 0, "%s", rn_errmsg());
    Tensor *h = tensor_zeros(1, 6, 2, 2);
    h->data[2 * 4 + 0] = 0.5; /* tw at cell (0,0) */
    YoloTruth tr = {0, 0.125f, 0.125f, 0.375f, 0.375f};
    const YoloTruth *tp[1] = {&tr};
    int nt = 1;
    YoloLossOpts o = yolo_loss_defaults();
    Tensor *l = yolo_loss(&cfg, &h, tp, &nt, &o);
    EXPECT_NEAR(l->data[0], 5 * log(2.0) + (2 - 0.0625) * 0.25, 1e-12);
    o.small_frac = 0.05; /* the truth (area 1/16) is large: its cell is neither positive nor negative */
    l = yolo_loss(&cfg, &h, tp, &nt, &o);
    EXPECT_NEAR(l->data[0], 3 * log(2.0), 1e-12);
    o.small_frac = 0.0625; /* area exactly the limit: not below it, so still large */
    l = yolo_loss(&cfg, &h, tp, &nt, &o);
    EXPECT_NEAR(l->data[0], 3 * log(2.0), 1e-12);
    o.small_frac = 0.0625 * (1 + 1e-9); /* just above its area: small, a positive again */
    l = yolo_loss(&cfg, &h, tp, &nt, &o);
    EXPECT_NEAR(l->data[0], 5 * log(2.0) + (2 - 0.0625) * 0.25, 1e-12);
    o = yolo_loss_defaults();
    o.focal_gamma = 2; /* p = 1/2 everywhere: each counted term is 0.25 log 2 */
    l = yolo_loss(&cfg, &h, tp, &nt, &o);
    EXPECT_NEAR(l->data[0], 5 * 0.25 * log(2.0) + (2 - 0.0625) * 0.25, 1e-12);
    dn_cfg_free(&cfg);
}

static Tensor *f_pool(Tensor **in, void *ctx) {
    const int *a = ctx;
    return darknet_maxpool(in[0], a[0], a[1], a[2]);
}

TEST(grad_darknet_maxpool) {
    int cases[3][3] = {{2, 1, 1}, {2, 2, 1}, {3, 1, 2}};
    for (int k = 0; k < 3; k++) {
        Tensor *x = grad_input(2, 3, 5, 5, 20 + k); /* distinct values: no ties inside a window */
        gradcheck("darknet maxpool", f_pool, &x, 1, cases[k], 1e-6, 1e-7);
    }
}

#define TINY                                                                                           \
    "[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=logistic\n" \
        "[maxpool]\nsize=2\nstride=1\n"                                                                \
        "[route]\nlayers=-1\ngroups=2\ngroup_id=1\n"                                                   \
        "[convolutional]\nfilters=4\nsize=3\ngroups=4\npad=1\nactivation=linear\n"                     \
        "[shortcut]\nfrom=-2\n"                                                                        \
        "[maxpool]\nsize=3\nstride=1\n"                                                                \
        "[route]\nlayers=-1,-4\n"                                                                      \
        "[convolutional]\nfilters=14\nsize=1\nactivation=linear\n"                                     \
        "[yolo]\nmask=0,1\nanchors=4,6,10,12,20,24\nclasses=2\nnum=3\n"                                \
        "[route]\nlayers=-3\n"                                                                         \
        "[upsample]\nstride=2\n"                                                                       \
        "[convolutional]\nfilters=7\nsize=1\nactivation=linear\n"                                      \
        "[yolo]\nmask=2\nanchors=4,6,10,12,20,24\nclasses=2\nnum=3\n"

typedef struct NetCtx {
    Darknet net;
    LossCtx loss;
} NetCtx;

/* ASR's path: image -> frozen detector -> loss; the gradient must reach the image. Smooth
 * activations here (logistic, linear): leaky/ReLU kinks crossed by the finite difference on a
 * 2x3x32x32 input add O(eps) noise; their gradients are checked op by op elsewhere. */
static Tensor *f_net_loss(Tensor **in, void *ctx) {
    NetCtx *c = ctx;
    Tensor *heads[DN_MAX_HEADS];
    darknet_forward(&c->net, in[0], heads);
    return yolo_loss(&c->net.cfg, heads, c->loss.truth, c->loss.ntruth, &c->loss.o);
}

TEST(grad_darknet_input_through_frozen_net) {
    NetCtx c;
    DnCfg cfg;
    EXPECT(dn_cfg_parse(TINY, strlen(TINY), "tiny.cfg", &cfg) == 0, "%s", rn_errmsg());
    darknet_init(&c.net, &cfg);
    /* weights large enough that the loss moves with the input well above double roundoff */
    for (size_t i = 0; i < c.net.ps.total; i++) c.net.ps.data[i] = 2.0 * sin(0.37 * (double)i + 0.1);
    for (int k = 0; k < c.net.ps.count; k++)
        if (strstr(c.net.ps.t[k]->name, "running_var"))
            for (size_t j = 0; j < tensor_numel(c.net.ps.t[k]); j++) c.net.ps.t[k]->data[j] = 1 + 0.5 * j;
    params_set_trainable(&c.net.ps, false);
    c.loss.truth[0] = T0, c.loss.truth[1] = T1, c.loss.ntruth[0] = 3, c.loss.ntruth[1] = 2;
    c.loss.o = yolo_loss_defaults();
    Tensor *x = grad_input(2, 3, 32, 32, 30);
    gradcheck_directional("tiny darknet + yolo loss, input", f_net_loss, &x, 1, &c, NULL, 0, 1e-6, 1e-6);
    darknet_free(&c.net);
}
