/* test_darknet.c: darknet cfg parsing (tables, errors), .weights loading, Yolo-Fastest vs PyTorch, decoding, NMS, import. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/image.h"
#include "nn/models/darknet.h"
#include "tests/fixture.h"
#include "tests/rune_exec.h"
#include "tests/test.h"
#include "util/err.h"

static char *shared_copy(const char *rel) { return xstrdup(test_shared_path(rel)); }

static int parse(const char *text, DnCfg *c) { return dn_cfg_parse(text, strlen(text), "t.cfg", c); }

/* A temporary file holding `len` bytes; the path is static per call site via buf. */
static const char *tmp_file(char *buf, const char *tag, const void *data, size_t len) {
    snprintf(buf, 256, "/tmp/rune_test_darknet_%d_%s", (int)getpid(), tag);
    FILE *f = fopen(buf, "wb");
    if (f) fwrite(data, 1, len, f), fclose(f);
    return buf;
}

/* ---- layer tables of the canonical cfgs (BFLOPs as darknet prints them) ------------------------ */

TEST(darknet_yolov3_table_and_bflops) {
    char *p = shared_copy("weights/darknet/yolov3.cfg");
    DnCfg c;
    EXPECT(dn_cfg_load(p, &c) == 0, "%s", rn_errmsg());
    EXPECT(c.n == 107 && c.width == 608, "%d layers at %d", c.n, c.width);
    EXPECT(dn_cfg_set_input(&c, 416, 416) == 0);
    /* AlexeyAB prints "Total BFLOPS 65.879" for yolov3 at 416; pjreddie's conv-only sum is the
     * published 65.86 */
    EXPECT_NEAR(dn_cfg_bflops(&c, false), 65.879, 0.0005);
    EXPECT_NEAR(dn_cfg_bflops(&c, true), 65.864, 0.0005);
    int h[DN_MAX_HEADS];
    EXPECT(dn_cfg_heads(&c, h) == 3 && h[0] == 82 && h[1] == 94 && h[2] == 106);
    EXPECT(c.l[82].h == 13 && c.l[94].h == 26 && c.l[106].h == 52 && c.l[106].c == 255);
    EXPECT(c.l[85].type == DN_UPSAMPLE && c.l[86].out_c == 768, "route 85,61: %d", c.l[86].out_c);
    EXPECT(dn_cfg_set_input(&c, 608, 608) == 0);
    EXPECT_NEAR(dn_cfg_bflops(&c, true), 140.692, 0.0005);
    dn_cfg_print(&c, stdout);
    dn_cfg_free(&c);
    free(p);
}

TEST(darknet_yolov3_tiny_table) {
    char *p = shared_copy("weights/darknet/yolov3-tiny.cfg");
    DnCfg c;
    EXPECT(dn_cfg_load(p, &c) == 0, "%s", rn_errmsg());
    EXPECT(c.n == 24 && c.width == 416);
    /* layer 11: [maxpool] size=2 stride=1 keeps 13x13 (darknet pads one row/column right/bottom) */
    EXPECT(c.l[11].type == DN_MAXPOOL && c.l[11].pad == 1 && c.l[11].out_w == 13 && c.l[11].out_h == 13);
    EXPECT(c.l[20].type == DN_ROUTE && c.l[20].nfrom == 2 && c.l[20].from[1] == 8 && c.l[20].out_c == 384);
    EXPECT_NEAR(dn_cfg_bflops(&c, false), 5.571, 0.0005); /* AlexeyAB's total for yolov3-tiny */
    dn_cfg_print(&c, stdout);
    dn_cfg_free(&c);
    free(p);
}

TEST(darknet_yolo_fastest_tables) {
    char *p = shared_copy("weights/darknet/yolo-fastest-1.1.cfg");
    char *q = shared_copy("weights/darknet/yolo-fastest-1.1-xl.cfg");
    DnCfg c;
    EXPECT(dn_cfg_load(p, &c) == 0, "%s", rn_errmsg());
    /* mAP_log.txt: 131 layers, heads at 121 and 130, route 114 = 192 channels, total 0.252 */
    EXPECT(c.n == 131 && c.l[121].type == DN_YOLO && c.l[130].type == DN_YOLO && c.l[114].out_c == 192);
    EXPECT(c.l[2].groups == 8 && c.l[113].size == 9 && c.l[113].out_w == 10);
    EXPECT(fabs(dn_cfg_bflops(&c, false) - 0.252) < 0.0005, "%.4f", dn_cfg_bflops(&c, false));
    EXPECT(c.l[121].yolo.scale_x_y == 1.0f && c.l[121].yolo.nms_kind == DN_NMS_GREEDY_DIOU && c.l[121].yolo.mask[0] == 3);
    EXPECT(c.nopt > 10, "training keys kept: %d", c.nopt);
    dn_cfg_print(&c, stdout);
    dn_cfg_free(&c);
    EXPECT(dn_cfg_load(q, &c) == 0, "%s", rn_errmsg());
    printf("    xl: %d layers, %.3f BFLOPs\n", c.n, dn_cfg_bflops(&c, false));
    dn_cfg_free(&c);
    free(p), free(q);
}

/* ---- parser errors name the file and line ------------------------------------------------------- */

#define NET "[net]\nwidth=32\nheight=32\nchannels=3\n"

static void expect_error(const char *text, const char *needle) {
    DnCfg c;
    EXPECT(parse(text, &c) == -1, "accepted:\n%s", text);
    EXPECT(strstr(rn_errmsg(), needle) != NULL, "message \"%s\" lacks \"%s\"", rn_errmsg(), needle);
}

TEST(darknet_cfg_errors) {
    expect_error(NET "[convolutional]\nfilters=4\nsize=3\nfilterz=2\nactivation=leaky\n", "t.cfg:8: unknown key 'filterz'");
    expect_error(NET "[region]\nclasses=2\n", "t.cfg:5: section [region] is not supported");
    expect_error(NET "[convolutional]\nfilters=4\nactivation=mish\n", "t.cfg:7: activation=mish is not supported");
    expect_error(NET "[convolutional]\nfilters=4x\nactivation=leaky\n", "t.cfg:6: filters=4x is not an integer");
    expect_error(NET "[route]\nlayers=-1\n", "t.cfg:6: layers=-1 refers to layer -1");
    expect_error(NET "[convolutional]\nfilters=4\nfilters=5\n", "t.cfg:7: key 'filters' repeated");
    expect_error("[convolutional]\nfilters=4\n", "t.cfg:1: the first section must be [net]");
    expect_error(NET "bogus=1\n", "unknown key 'bogus' in [net]");
    expect_error(NET "[convolutional]\nfilters=20\nactivation=linear\n[yolo]\nmask=0,1\nanchors=1,2,3,4\nclasses=3\nnum=2\n",
                 "needs 16");
    expect_error(NET "[convolutional]\nfilters=16\nactivation=linear\n[yolo]\nmask=0,2\nanchors=1,2,3,4\nclasses=3\nnum=2\n",
                 "mask value 2 outside");
    expect_error(NET "[convolutional]\nfilters=6\ngroups=4\nactivation=linear\n", "not a multiple of groups");
    expect_error(NET "[convolutional]\nfilters=4\nactivation=linear\n[convolutional]\nfilters=4\nstride=2\nactivation=linear\n"
                     "[shortcut]\nfrom=-2\n", "must be equal");
}

/* Sizes past darknet_cfg.h's limits are refused before anything is allocated, naming the cfg's
 * line; an integer too large for int is "out of range", not "not an integer". */
TEST(darknet_cfg_size_limits) {
    expect_error("[net]\nwidth=100000\nheight=32\nchannels=3\n[convolutional]\nfilters=4\n",
                 "t.cfg:1: [net] width=100000 is above rune's limit of 8192");
    expect_error(NET "[convolutional]\nfilters=1000000000\nactivation=leaky\n",
                 "t.cfg:5: [convolutional] filters=1000000000 is above rune's limit of 16384");
    expect_error(NET "[convolutional]\nfilters=2000000000\nactivation=leaky\n", "filters=2000000000 is above rune's limit");
    expect_error(NET "[convolutional]\nfilters=99999999999\nactivation=leaky\n", "t.cfg:6: filters=99999999999 is out of range");
    expect_error(NET "[convolutional]\nfilters=4\nsize=1000\nactivation=leaky\n", "size=1000 is above rune's limit of 64");
    expect_error(NET "[yolo]\nclasses=1000000\nanchors=1,2\n", "classes=1000000 is above rune's limit");
    /* each key within its limit, the layer's output map (8192 x 8192 x 16384 values) is not */
    expect_error("[net]\nwidth=8192\nheight=8192\nchannels=3\n[convolutional]\nfilters=16384\nactivation=leaky\n",
                 "t.cfg:5: layer 0 (conv): output 8192x8192x16384 is 1099511627776 values, above rune's limit");
    expect_error("[net]\nwidth=8192\nheight=8192\nchannels=3\n[upsample]\nstride=64\n", "t.cfg:5: layer 0 (upsample): the upsampled map");
    expect_error(NET "[convolutional]\nfilters=16384\nsize=64\npad=1\nactivation=leaky\n[convolutional]\nfilters=16384\n"
                     "size=64\npad=1\nactivation=leaky\n",
                 "layer 1 (conv): 1099511627776 weights, above rune's limit");
    /* from a file, the message names the file; so does the input size set later */
    char path[256];
    const char *text = "[net]\nwidth=100000\nheight=32\nchannels=3\n[convolutional]\nfilters=4\n";
    DnCfg c;
    EXPECT(dn_cfg_load(tmp_file(path, "wide.cfg", text, strlen(text)), &c) == -1, "accepted width=100000");
    EXPECT(strstr(rn_errmsg(), path) && strstr(rn_errmsg(), "width=100000"), "%s", rn_errmsg());
    unlink(path);
    EXPECT(parse(NET "[convolutional]\nfilters=4\nactivation=leaky\n", &c) == 0, "%s", rn_errmsg());
    EXPECT(dn_cfg_set_input(&c, 100000, 32) == -1 && strstr(rn_errmsg(), "t.cfg: input size 100000x32 is above"), "%s",
           rn_errmsg());
    dn_cfg_free(&c);
}

/* ---- semantics on tiny nets: maxpool padding, route groups -------------------------------------- */

TEST(darknet_maxpool_odd_padding_pads_right_bottom) {
    /* 3x3 plane 1..9; size 2 stride 1 padding 1: window (y,x) covers rows y..y+1, cols x..x+1 */
    real_t v[9] = {1, 5, 2, 7, 3, 4, 0, 8, 6};
    Tensor *x = tensor_from(v, 1, 1, 3, 3);
    Tensor *y = darknet_maxpool(x, 2, 1, 1);
    real_t want[9] = {7, 5, 4, 8, 8, 6, 8, 8, 6};
    EXPECT(TH(y) == 3 && TW(y) == 3);
    for (int i = 0; i < 9; i++) EXPECT(y->data[i] == want[i], "at %d: %g vs %g", i, (double)y->data[i], (double)want[i]);
    /* size 2 stride 2 on an odd side: (3 + 1 - 2)/2 + 1 = 2, the last window half outside */
    Tensor *z = darknet_maxpool(x, 2, 2, 1);
    EXPECT(TH(z) == 2 && z->data[0] == 7 && z->data[1] == 4 && z->data[2] == 8 && z->data[3] == 6);
}

static void fill_sin(Darknet *n) {
    for (size_t i = 0; i < n->ps.total; i++) n->ps.data[i] = (real_t)(0.3 * sin(0.37 * (double)i + 0.1));
    for (int k = 0; k < n->ps.count; k++)
        if (strstr(n->ps.t[k]->name, "running_var"))
            for (size_t j = 0; j < tensor_numel(n->ps.t[k]); j++) n->ps.t[k]->data[j] = (real_t)(1 + 0.5 * j);
}

#define TINY                                                                                           \
    NET "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n" \
        "[maxpool]\nsize=2\nstride=1\n"                                                                \
        "[route]\nlayers=-1\ngroups=2\ngroup_id=1\n"                                                   \
        "[convolutional]\nfilters=4\nsize=3\ngroups=4\npad=1\nactivation=relu\n"                       \
        "[shortcut]\nfrom=-2\n"                                                                        \
        "[convolutional]\nfilters=14\nsize=1\nactivation=linear\n"                                     \
        "[yolo]\nmask=0,1\nanchors=4,6,10,12,20,24\nclasses=2\nnum=3\n"                                \
        "[route]\nlayers=-4\n"                                                                         \
        "[upsample]\nstride=2\n"                                                                       \
        "[convolutional]\nfilters=7\nsize=1\nactivation=linear\n"                                      \
        "[yolo]\nmask=2\nanchors=4,6,10,12,20,24\nclasses=2\nnum=3\nscale_x_y=1.1\n"

TEST(darknet_route_groups_take_the_group_slice) {
    DnCfg c;
    EXPECT(parse(TINY, &c) == 0, "%s", rn_errmsg());
    Darknet n;
    darknet_init(&n, &c);
    fill_sin(&n);
    Tensor *x = tensor_new(1, 3, 32, 32);
    for (size_t i = 0; i < tensor_numel(x); i++) x->data[i] = (real_t)(0.5 + 0.5 * sin(0.1 * (double)i));
    Tensor *heads[DN_MAX_HEADS];
    EXPECT(darknet_forward(&n, x, heads) == 2);
    EXPECT(TC(heads[0]) == 14 && TH(heads[0]) == 16 && TC(heads[1]) == 7 && TH(heads[1]) == 32);
    EXPECT(n.cfg.l[2].out_c == 4 && n.cfg.l[1].out_h == 16, "route groups: %d channels", n.cfg.l[2].out_c);
    EXPECT(params_find(&n.ps, "layers.0.bn.running_var") && params_find(&n.ps, "layers.5.conv.bias") &&
           !params_find(&n.ps, "layers.0.conv.bias"));
    darknet_free(&n);
}

/* ---- .weights loading errors --------------------------------------------------------------------- */

/* Floats the TINY net needs: conv0 (8*4 + 8*3*9), conv3 (4 + 4*1*9), conv5 (14 + 14*4), conv9 (7 + 7*4). */
#define TINY_FLOATS (8 * 4 + 8 * 27 + 4 + 36 + 14 + 56 + 7 + 28)

static const char *tiny_weights(char *buf, const char *tag, int nfloats) {
    size_t len = 20 + 4 * (size_t)nfloats;
    unsigned char *b = calloc(len, 1);
    int32_t ver[3] = {0, 2, 0};
    memcpy(b, ver, 12);
    for (int i = 0; i < nfloats; i++) {
        float v = (float)(0.01 * (i % 97));
        memcpy(b + 20 + 4 * i, &v, 4);
    }
    const char *p = tmp_file(buf, tag, b, len);
    free(b);
    return p;
}

TEST(darknet_weights_size_errors) {
    DnCfg c;
    EXPECT(parse(TINY, &c) == 0, "%s", rn_errmsg());
    Darknet n;
    darknet_init(&n, &c);
    char b1[256], b2[256], b3[256];
    EXPECT(darknet_load_weights(&n, tiny_weights(b1, "ok", TINY_FLOATS)) == 0, "%s", rn_errmsg());
    EXPECT(n.bn[0].rvar->data[0] == (real_t)(float)0.24, "running var = the 25th float");
    EXPECT(darknet_load_weights(&n, tiny_weights(b2, "short", TINY_FLOATS - 3)) == -1);
    EXPECT(strstr(rn_errmsg(), "layer 9") && strstr(rn_errmsg(), "too short"), "%s", rn_errmsg());
    EXPECT(darknet_load_weights(&n, tiny_weights(b3, "long", TINY_FLOATS + 5)) == -1);
    EXPECT(strstr(rn_errmsg(), "5 floats") && strstr(rn_errmsg(), "layer 9"), "%s", rn_errmsg());
    unlink(b1), unlink(b2), unlink(b3);
    darknet_free(&n);
}

/* The weights' length is checked against the cfg before the model is allocated: a cfg that asks
 * for 201M weights (800 MB) with a file of 20 floats fails at once, naming the layer. */
TEST(darknet_weights_length_checked_before_allocating) {
    char cfg[256], w[256];
    const char *text = "[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nfilters=16384\nsize=64\npad=1\n"
                       "activation=linear\n";
    Darknet n;
    EXPECT(darknet_open(&n, tmp_file(cfg, "big.cfg", text, strlen(text)), tiny_weights(w, "few", 20)) == -1, "accepted");
    EXPECT(strstr(rn_errmsg(), w) && strstr(rn_errmsg(), "layer 0") && strstr(rn_errmsg(), "201342976 floats") &&
               strstr(rn_errmsg(), "too short"),
           "%s", rn_errmsg());
    unlink(cfg), unlink(w);
}

/* A NaN or infinite weight is refused naming the tensor (it would make every output NaN). */
TEST(darknet_non_finite_weight_is_refused) {
    DnCfg c;
    EXPECT(parse(TINY, &c) == 0, "%s", rn_errmsg());
    Darknet n;
    darknet_init(&n, &c);
    char b[256];
    const char *path = tiny_weights(b, "nan", TINY_FLOATS);
    FILE *f = fopen(path, "r+b");
    float bad[2] = {NAN, INFINITY};
    for (int k = 0; k < 2; k++) { /* the 3rd float of conv0's scales, then of conv3's weights */
        long at = k == 0 ? 20 + 4 * (8 + 2) : 20 + 4 * (8 * 4 + 8 * 27 + 4 + 2);
        EXPECT(f && fseek(f, at, SEEK_SET) == 0 && fwrite(&bad[k], 4, 1, f) == 1 && fflush(f) == 0);
        EXPECT(darknet_load_weights(&n, path) == -1, "accepted a %s weight", k ? "infinite" : "NaN");
        const char *want = k == 0 ? "tensor layers.0.bn.weight holds NaN at element 2" : "tensor layers.3.conv.weight holds +Inf at element 2";
        EXPECT(strstr(rn_errmsg(), path) && strstr(rn_errmsg(), want), "want \"%s\" in: %s", want, rn_errmsg());
        float ok = 0.5f;
        EXPECT(fseek(f, at, SEEK_SET) == 0 && fwrite(&ok, 4, 1, f) == 1 && fflush(f) == 0);
    }
    EXPECT(darknet_load_weights(&n, path) == 0, "%s", rn_errmsg());
    if (f) fclose(f);
    unlink(path);
    darknet_free(&n);
}

TEST(darknet_cfg_weights_mismatch_is_an_error) {
    char *cfg = shared_copy("weights/darknet/yolov3-tiny.cfg");
    char *w = shared_copy("weights/darknet/yolo-fastest-1.1.weights");
    Darknet n;
    EXPECT(darknet_open(&n, cfg, w) == -1);
    EXPECT(strstr(rn_errmsg(), "too short") && strstr(rn_errmsg(), "layer"), "%s", rn_errmsg());
    free(cfg), free(w);
}

/* ---- Yolo-Fastest 1.1 on a real image vs the PyTorch oracle -------------------------------------- */

static Tensor *coco_input(Fixture *f, int W, int H) {
    Image im;
    char *p = shared_copy("data/coco-mini/000000397133.jpg");
    EXPECT(image_read(p, &im, 3) == 0, "%s", rn_errmsg());
    free(p);
    double sum = 0;
    for (size_t i = 0; i < (size_t)im.w * im.h * 3; i++) sum += im.px[i];
    EXPECT(sum == fx_scalar(f, "image_pixel_sum"), "JPEG decode differs from PIL's: %.0f", sum);
    float *px = malloc((size_t)3 * im.w * im.h * sizeof *px);
    image_to_planar(&im, PIXEL_DIV, px); /* as darknet loads images */
    Tensor *x = tensor_new(1, 3, H, W);
    darknet_resize(px, 3, im.h, im.w, x->data, H, W);
    real_t *sub = malloc(3 * 20 * 20 * sizeof *sub);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 20; y++)
            for (int xx = 0; xx < 20; xx++) sub[(c * 20 + y) * 20 + xx] = x->data[((size_t)c * H + 16 * y) * W + 16 * xx];
    fx_expect(f, "input_sub16", sub, 1200, 0, 0); /* darknet's resize, float for float */
    free(sub), free(px), image_free(&im);
    return x;
}

static void expect_head(Fixture *f, int k, const Tensor *h) {
    char name[32];
    int C = TC(h), plane = TH(h) * TW(h), per = C / 3;
    real_t *sum = malloc(C * sizeof *sum), *sub = malloc((size_t)18 * plane * sizeof *sub);
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int i = 0; i < plane; i++) s += h->data[(size_t)c * plane + i];
        sum[c] = (real_t)s;
    }
    for (int a = 0; a < 3; a++)
        for (int e = 0; e < 6; e++) memcpy(sub + (size_t)(a * 6 + e) * plane, h->data + (size_t)(a * per + e) * plane, plane * sizeof *sub);
    snprintf(name, sizeof name, "head%d_chsum", k);
    fx_expect(f, name, sum, C, 2e-3, 1e-4); /* sums of up to 400 logits of magnitude ~10 */
    snprintf(name, sizeof name, "head%d_sub", k);
    fx_expect(f, name, sub, (size_t)18 * plane, 1e-4, 1e-4);
    free(sum), free(sub);
}

TEST(darknet_yolo_fastest_heads_and_boxes_vs_torch) {
    char *cfg = shared_copy("weights/darknet/yolo-fastest-1.1.cfg");
    char *w = shared_copy("weights/darknet/yolo-fastest-1.1.weights");
    Darknet n;
    EXPECT(darknet_open(&n, cfg, w) == 0, "%s", rn_errmsg());
    free(cfg), free(w);
    Fixture *f = fx_open("darknet.h5");
    if (!f) return;
    engine_set_grad(false);
    Tensor *x = coco_input(f, n.cfg.width, n.cfg.height), *heads[DN_MAX_HEADS];
    EXPECT(darknet_forward(&n, x, heads) == 2);
    EXPECT(TH(heads[0]) == 10 && TH(heads[1]) == 20 && TC(heads[1]) == 255);
    expect_head(f, 0, heads[0]);
    expect_head(f, 1, heads[1]);
    DnDet *d;
    int nd = darknet_detect(&n, heads, 0, 0.25f, 0.45f, false, 640, 427, &d);
    size_t nref;
    double *ref = fx_array(f, "dets", &nref);
    EXPECT((size_t)nd * 6 == nref, "%d detections, PyTorch %zu", nd, nref / 6);
    for (int i = 0; i < nd && (size_t)i * 6 < nref; i++) {
        const double *r = ref + 6 * i;
        printf("    det %d: class %d score %.4f box %.3f %.3f %.3f %.3f\n", i, d[i].cls, d[i].score, d[i].x0, d[i].y0, d[i].x1, d[i].y1);
        EXPECT(d[i].cls == (int)r[5] && fabs(d[i].score - r[4]) < 1e-4, "det %d: %d %.5f vs %d %.5f", i, d[i].cls, d[i].score,
               (int)r[5], r[4]);
        EXPECT(fabs(d[i].x0 - r[0]) < 1e-4 && fabs(d[i].y0 - r[1]) < 1e-4 && fabs(d[i].x1 - r[2]) < 1e-4 &&
               fabs(d[i].y1 - r[3]) < 1e-4, "det %d box", i);
    }
    free(d);
    fx_close(f);
    darknet_free(&n);
}

/* ---- decoding helpers ------------------------------------------------------------------------------ */

TEST(darknet_nms_per_class) {
    DnDet d[4] = {{0, 0, 1, 1, 0.9f, 0}, {0.05f, 0, 1, 1, 0.8f, 0}, {0.05f, 0, 1, 1, 0.7f, 1}, {2, 2, 3, 3, 0.6f, 0}};
    int n = darknet_nms(d, 4, 0.45f, DN_NMS_IOU, 0.6f);
    EXPECT(n == 3 && d[0].score == 0.9f && d[1].cls == 1 && d[2].score == 0.6f, "%d kept", n);
}

TEST(darknet_letterbox_decode_roundtrip) {
    /* one head, one anchor, 1 class; a 200x100 image letterboxed into 64x64 fills rows 16..47 */
    DnCfg c;
    EXPECT(parse("[net]\nwidth=64\nheight=64\nchannels=3\n[convolutional]\nfilters=6\nactivation=linear\n"
                 "[yolo]\nanchors=32,16\nclasses=1\nnum=1\n", &c) == 0, "%s", rn_errmsg());
    Darknet n;
    darknet_init(&n, &c);
    Tensor *h = tensor_zeros(1, 6, 2, 2);
    h->data[4 * 4 + 0] = 5, h->data[5 * 4 + 0] = 5; /* cell (0,0): centre (0.25, 0.25) of the net input */
    for (int e = 0; e < 6; e++) if (e != 4 && e != 5) h->data[e * 4] = 0;
    for (int i = 1; i < 4; i++) h->data[4 * 4 + i] = -10;
    DnDet *d;
    int m = darknet_detect(&n, &h, 0, 0.5f, 0.45f, true, 200, 100, &d);
    EXPECT(m == 1, "%d", m);
    /* centre y 0.25 of the net = pixel 16 = the top of the image band: y = 0 in the image */
    EXPECT_NEAR(d[0].x0 + d[0].x1, 0.5, 1e-6);
    EXPECT_NEAR((d[0].y0 + d[0].y1) / 2, 0.0, 1e-6);
    EXPECT_NEAR(d[0].y1 - d[0].y0, 0.5, 1e-6); /* 16 px of the 32-px band */
    free(d);
    darknet_free(&n);
}

TEST(darknet_resize_matches_darknet_on_corners) {
    float src[6] = {0, 1, 2, 3, 4, 5}; /* 1 channel, 2x3 */
    real_t dst[20];
    darknet_resize(src, 1, 2, 3, dst, 4, 5);
    EXPECT(dst[0] == 0 && dst[4] == 2 && dst[15] == 3 && dst[19] == 5);
    EXPECT_NEAR(dst[2], 1.0, 1e-7);   /* column 2 of 5 -> source x 1 */
    EXPECT_NEAR(dst[5], 1.0, 1e-6);   /* row 1 of 4 -> source y 1/3: 0 + 3/3 */
}

/* ---- import: cfg + weights -> .h5 -> the same network ---------------------------------------------- */

TEST(darknet_import_roundtrip) {
    char wb[256], cb[256], out[300];
    const char *w = tiny_weights(wb, "imp", TINY_FLOATS);
    const char *cfg = tmp_file(cb, "imp.cfg", TINY, strlen(TINY));
    snprintf(out, sizeof out, "%s.h5", cfg);
    EXPECT(darknet_import(cfg, w, out) == 0, "%s", rn_errmsg());
    Darknet a, b;
    EXPECT(darknet_open(&a, cfg, w) == 0, "%s", rn_errmsg());
    EXPECT(darknet_open(&b, out, NULL) == 0, "%s", rn_errmsg());
    EXPECT(a.ps.total == b.ps.total && memcmp(a.ps.data, b.ps.data, a.ps.total * sizeof(real_t)) == 0);
    EXPECT(b.cfg.n == a.cfg.n && b.nheads == 2);
    EXPECT(darknet_open(&b, out, w) == -1, "a .h5 with --weights is refused");
    unlink(w), unlink(cfg), unlink(out);
    darknet_free(&a);
}

/* ---- end to end: the rune binary on a real image ------------------------------------------------ */

TEST(darknet_rune_detect_and_eval_det) {
    char *cfg = shared_copy("weights/darknet/yolo-fastest-1.1.cfg");
    char *w = shared_copy("weights/darknet/yolo-fastest-1.1.weights");
    char *img = shared_copy("data/coco-mini/000000397133.jpg");
    char *mini = shared_copy("data/coco-mini");
    char h5[200], json[256], png[256], csv[256], args[2048], out[8192], out2[8192];
    snprintf(h5, sizeof h5, "/tmp/rune_test_darknet_%d.h5", (int)getpid());
    snprintf(json, sizeof json, "%s.json", h5), snprintf(png, sizeof png, "%s.png", h5), snprintf(csv, sizeof csv, "%s.csv", h5);
    snprintf(args, sizeof args, "detect --model %s --weights %s --json %s %s %s", cfg, w, json, img, png);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    EXPECT(strstr(out, "4 detections") && strstr(out, "person") && strstr(out, "diningtable"), "%s", out);
    char *text;
    size_t len;
    EXPECT(read_text_file(json, &text, &len) == 0 && strstr(text, "\"score\": 0.979"), "%s", rn_errmsg());
    free(text);
    Image im;
    EXPECT(image_read(png, &im, 3) == 0 && im.w == 640 && im.h == 427, "%s", rn_errmsg());
    image_free(&im);
    /* the imported checkpoint detects the same boxes */
    EXPECT(darknet_import(cfg, w, h5) == 0, "%s", rn_errmsg());
    snprintf(args, sizeof args, "detect --model %s %s", h5, img);
    EXPECT(rune_exec(args, out2, sizeof out2) == 0, "%s", out2);
    const char *a = strchr(out, '\n'), *b = strchr(out2, '\n');
    EXPECT(a && b && strstr(b, "0.979") && strstr(b, "388.2    67.2   492.9   348.0"), "%s", out2);
    snprintf(args, sizeof args, "eval-det --model %s --weights %s --data %s --format coco --limit 1 --csv %s", cfg, w, mini, csv);
    EXPECT(rune_exec(args, out, sizeof out) == 0, "%s", out);
    EXPECT(strstr(out, "mAP@0.50 = ") && strstr(out, "1 images"), "%s", out);
    EXPECT(read_text_file(csv, &text, &len) == 0 && strstr(text, "-1,mAP,"), "%s", rn_errmsg());
    free(text);
    unlink(h5), unlink(json), unlink(png), unlink(csv);
    free(cfg), free(w), free(img), free(mini);
}
