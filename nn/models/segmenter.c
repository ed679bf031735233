/* segmenter.c: opening ESPNet or SwiftNet weights by file (architecture, classes, width read off the tensors). */
#include "nn/models/segmenter.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models/model_io.h"
#include "nn/io/torch_load.h"
#include "util/err.h"

static const char *const CAMVID_NAMES[11] = {"Sky",  "Building", "Pole",       "Road",       "Pavement",  "Tree",
                                             "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"};
static const char *const CITYSCAPES_NAMES[19] = {
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
    "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"};

/* ---- what the weight file holds: tensor names and shapes, from a .pth or a rune .h5 ---- */

typedef struct Probe {
    TorchFile tf; /* .pth */
    hid_t h5;     /* .h5, or -1 */
    char model[64];
} Probe;

static int probe_shape(const Probe *p, const char *name, long long dims[4]) {
    dims[0] = dims[1] = dims[2] = dims[3] = 1;
    if (p->h5 < 0) {
        char full[256];
        snprintf(full, sizeof full, "module.%s", name);
        const TorchTensor *t = torch_find(&p->tf, name);
        if (!t) t = torch_find(&p->tf, full);
        if (!t) return -1;
        for (int i = 0; i < t->ndim && i < 4; i++) dims[i] = t->shape[i];
        return 0;
    }
    char path[256];
    snprintf(path, sizeof path, "/params/%s", name);
    if (H5Lexists(p->h5, "/params", H5P_DEFAULT) <= 0 || H5Lexists(p->h5, path, H5P_DEFAULT) <= 0) return -1;
    hid_t d = H5Dopen2(p->h5, path, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t hd[8];
    int nd = H5Sget_simple_extent_dims(sp, hd, NULL);
    for (int i = 0; i < nd && i < 4; i++) dims[i] = (long long)hd[i];
    H5Sclose(sp), H5Dclose(d);
    return nd < 0 ? -1 : 0;
}

static bool probe_has(const Probe *p, const char *name) {
    long long d[4];
    return probe_shape(p, name, d) == 0;
}

static int probe_open(Probe *p, const char *path) {
    memset(p, 0, sizeof *p);
    p->h5 = -1;
    if (path_has_ext(path, ".pth") || path_has_ext(path, ".pt")) return torch_load(path, &p->tf);
    CkptAttrs at;
    TRY(ckpt_read_attrs(path, &at));
    snprintf(p->model, sizeof p->model, "%s", attrs_get_str(&at, "model", ""));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    p->h5 = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (p->h5 < 0) return rn_fail("%s: cannot open as HDF5", path);
    return 0;
}

static void probe_close(Probe *p) {
    if (p->h5 >= 0) H5Fclose(p->h5);
    else torch_free(&p->tf);
}

static const char *probe_arch(const Probe *p) {
    if (p->model[0]) return p->model;
    if (probe_has(p, "backbone.conv1.weight") && probe_has(p, "logits.conv.weight")) return "swiftnet";
    if (probe_has(p, "encoder.level1.conv.weight")) return "espnet";
    return "unknown";
}

/* ESPNet's p and q: how many level2.i / level3.i blocks the file has. */
static int count_blocks(const Probe *p, const char *fmt) {
    int n = 0;
    char name[128];
    for (; n < ESPNET_MAX_Q; n++) {
        snprintf(name, sizeof name, fmt, n);
        if (!probe_has(p, name)) break;
    }
    return n;
}

/* ---- building ---- */

static Segmenter *seg_alloc(SegArch arch, int outputs, int classes) {
    Segmenter *s = xcalloc(1, sizeof *s);
    s->arch = arch;
    s->arch_name = arch == SEG_ESPNET ? "espnet" : "swiftnet";
    s->outputs = outputs;
    s->classes = classes;
    s->dataset = classes == 11 ? "camvid" : classes == 19 ? "cityscapes" : "";
    s->class_names = classes == 11 ? CAMVID_NAMES : classes == 19 ? CITYSCAPES_NAMES : NULL;
    return s;
}

/* Outputs with a trailing void channel (ESPNet's CamVid 12 and Cityscapes 20) score one class less. */
static int default_classes(SegArch arch, int outputs) {
    if (arch == SEG_ESPNET && (outputs == 12 || outputs == 20)) return outputs - 1;
    return outputs;
}

static Segmenter *build(const char *arch, const Probe *pr, const char *path) {
    long long d[4];
    if (!strcmp(arch, "espnet")) {
        if (probe_shape(pr, "classifier.weight", d) < 0) {
            rn_fail("%s: no classifier.weight: not ESPNet weights", path);
            return NULL;
        }
        int p = count_blocks(pr, "encoder.level2.%d.c1.conv.weight"), q = count_blocks(pr, "encoder.level3.%d.c1.conv.weight");
        if (p < 1 || q < 1) {
            rn_fail("%s: ESPNet without level2/level3 blocks (p=%d, q=%d)", path, p, q);
            return NULL;
        }
        Segmenter *s = seg_alloc(SEG_ESPNET, (int)d[1], default_classes(SEG_ESPNET, (int)d[1])); /* deconv [Cin,Cout,2,2] */
        s->espnet = xmalloc(sizeof *s->espnet);
        espnet_init(s->espnet, (int)d[1], p, q);
        s->ps = &s->espnet->ps;
        return s;
    }
    if (!strcmp(arch, "swiftnet")) {
        long long c1[4];
        if (probe_shape(pr, "logits.conv.weight", d) < 0 || probe_shape(pr, "backbone.conv1.weight", c1) < 0) {
            rn_fail("%s: no logits.conv.weight / backbone.conv1.weight: not SwiftNet weights", path);
            return NULL;
        }
        Segmenter *s = seg_alloc(SEG_SWIFTNET, (int)d[0], (int)d[0]);
        s->swiftnet = xmalloc(sizeof *s->swiftnet);
        swiftnet_init(s->swiftnet, (int)d[0], (int)c1[0], (int)d[1]);
        s->ps = &s->swiftnet->ps;
        return s;
    }
    rn_fail("%s: unknown segmentation architecture '%s' (espnet or swiftnet)", path, arch);
    return NULL;
}

static int set_norm(Segmenter *s, const char *norm) {
    if (s->arch == SEG_ESPNET) {
        const char *n = norm ? norm : s->outputs == 12 ? "camvid" : "cityscapes";
        return espnet_set_norm_named(s->espnet, n);
    }
    return norm ? swiftnet_set_norm_named(s->swiftnet, norm) : 0; /* else the checkpoint's img_mean/img_std */
}

static int finish_open(Segmenter *s, const char *path, int classes, const char *norm) {
    if (classes > 0) {
        if (classes > s->outputs) return rn_fail("%s: --classes %d but the model has %d outputs", path, classes, s->outputs);
        s->classes = classes;
        s->dataset = classes == 11 ? "camvid" : classes == 19 ? "cityscapes" : "";
        s->class_names = classes == 11 ? CAMVID_NAMES : classes == 19 ? CITYSCAPES_NAMES : NULL;
    }
    TRY(model_load_weights(s->ps, path, NULL, NULL, "module."));
    TRY(set_norm(s, norm));
    params_set_trainable(s->ps, false);
    return 0;
}

Segmenter *segmenter_open(const char *path, const char *arch, int classes, const char *norm) {
    Probe pr;
    if (probe_open(&pr, path) < 0) return NULL;
    const char *a = arch ? arch : probe_arch(&pr);
    if (arch && pr.model[0] && strcmp(arch, pr.model)) {
        rn_fail("%s: a checkpoint of model '%s', not %s", path, pr.model, arch);
        probe_close(&pr);
        return NULL;
    }
    Segmenter *s = build(a, &pr, path);
    probe_close(&pr);
    if (s && finish_open(s, path, classes, norm) < 0) {
        segmenter_close(s);
        return NULL;
    }
    return s;
}

Segmenter *segmenter_new(const char *arch, int classes, double width) {
    Segmenter *s;
    if (!strcmp(arch, "espnet")) {
        s = seg_alloc(SEG_ESPNET, classes, classes);
        s->espnet = xmalloc(sizeof *s->espnet);
        espnet_init(s->espnet, classes, 2, 8);
        s->ps = &s->espnet->ps;
    } else if (!strcmp(arch, "swiftnet")) {
        s = seg_alloc(SEG_SWIFTNET, classes, classes);
        s->swiftnet = xmalloc(sizeof *s->swiftnet);
        swiftnet_init_width(s->swiftnet, classes, width);
        s->ps = &s->swiftnet->ps;
    } else {
        rn_fail("unknown segmentation architecture '%s' (espnet or swiftnet)", arch);
        return NULL;
    }
    return s;
}

void segmenter_close(Segmenter *s) {
    if (!s) return;
    if (s->espnet) espnet_free(s->espnet), free(s->espnet);
    if (s->swiftnet) swiftnet_free(s->swiftnet), free(s->swiftnet);
    free(s);
}

Tensor *segmenter_forward(Segmenter *s, Tensor *x, bool training) {
    if (s->arch == SEG_SWIFTNET) return swiftnet_forward(s->swiftnet, x, training);
    int h = TH(x), w = TW(x), h8 = (h + 7) / 8 * 8, w8 = (w + 7) / 8 * 8;
    if (h == h8 && w == w8) return espnet_forward(s->espnet, x, training);
    Tensor *y = espnet_forward(s->espnet, op_resize_bilinear(x, h8, w8), training);
    return op_resize_bilinear(y, h, w);
}

void segmenter_predict(const Segmenter *s, const Tensor *logits, int n, uint8_t *pred) {
    RN_CHECK(n >= 0 && n < TN(logits) && TC(logits) == s->outputs, "segmenter_predict: logits do not match the model");
    size_t hw = (size_t)TH(logits) * TW(logits);
    logits = tensor_host(logits); /* the argmax runs on the host */
    const real_t *l = logits->data + (size_t)n * TC(logits) * hw;
    for (size_t i = 0; i < hw; i++) {
        int best = 0;
        real_t bv = l[i];
        for (int k = 1; k < s->classes; k++)
            if (l[k * hw + i] > bv) bv = l[k * hw + i], best = k;
        pred[i] = (uint8_t)best;
    }
}
