/* darknet.c: a darknet cfg as a ParamSet, its .weights loader, and the forward pass up to the raw [yolo] heads. */
#include "nn/models/darknet.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ops/ops.h"
#include "util/err.h"

void darknet_init(Darknet *net, DnCfg *cfg) {
    memset(net, 0, sizeof *net);
    net->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    DnCfg *c = &net->cfg;
    params_init(&net->ps);
    net->conv = xcalloc(c->n, sizeof *net->conv);
    net->bn = xcalloc(c->n, sizeof *net->bn);
    for (int i = 0; i < c->n; i++) {
        const DnLayer *l = &c->l[i];
        if (l->type == DN_YOLO) net->head[net->nheads++] = i;
        if (l->type != DN_CONV) continue;
        Conv *cv = &net->conv[i];
        *cv = conv_decl(&net->ps, pname("layers.%d.conv", i), l->c, l->filters, l->size, l->stride, l->pad, l->dilation,
                        l->groups, !l->bn);
        if (l->bn) net->bn[i] = bn_decl(&net->ps, pname("layers.%d.bn", i), l->filters, DARKNET_BN_EPS);
    }
    params_finalize(&net->ps);
    layers_default_init(&net->ps, 1);
}

int darknet_init_file(Darknet *net, const char *cfg_path) {
    DnCfg cfg;
    TRY(dn_cfg_load(cfg_path, &cfg));
    darknet_init(net, &cfg);
    return 0;
}

void darknet_free(Darknet *net) {
    params_free(&net->ps);
    dn_cfg_free(&net->cfg);
    free(net->conv), free(net->bn);
    memset(net, 0, sizeof *net);
}

/* ---- .weights ------------------------------------------------------------------------------ */

typedef struct WFile {
    const char *path;
    unsigned char *buf;
    size_t len, pos; /* bytes */
} WFile;

static int read_header(WFile *f) {
    int32_t v[3];
    if (f->len < 12) return rn_fail("%s: %zu bytes, too short for a darknet weights header", f->path, f->len);
    memcpy(v, f->buf, 12);
    /* darknet: `seen` is a 64-bit count from format 0.2 on, 32-bit before */
    bool wide = v[0] * 10 + v[1] >= 2 && v[0] < 1000 && v[1] < 1000;
    if (v[0] < 0 || v[1] < 0 || v[0] >= 1000 || v[1] >= 1000)
        return rn_fail("%s: version %d.%d.%d is not a darknet weights file (or a transposed one)", f->path, v[0], v[1], v[2]);
    f->pos = 12 + (wide ? 8 : 4);
    if (f->len < f->pos) return rn_fail("%s: truncated header", f->path);
    return 0;
}

/* n floats of layer i into dst (a tensor in the ParamSet). */
static int take(WFile *f, const DnCfg *c, int i, const char *what, Tensor *dst, size_t n) {
    size_t left = (f->len - f->pos) / 4;
    if (left < n)
        return rn_fail("%s: layer %d (conv at %s:%d) needs %zu floats for its %s, only %zu left: the file is too short "
                       "for this cfg",
                       f->path, i, c->name, c->l[i].line, n, what, left);
    RN_CHECK(tensor_numel(dst) == n, "darknet: %s has %zu elements, want %zu", dst->name, tensor_numel(dst), n);
    float tmp;
    for (size_t k = 0; k < n; k++, f->pos += 4) memcpy(&tmp, f->buf + f->pos, 4), dst->data[k] = (real_t)tmp;
    return 0;
}

static int load_layer(WFile *f, Darknet *net, int i) {
    const DnLayer *l = &net->cfg.l[i];
    size_t n = (size_t)l->filters;
    if (l->bn) {
        const BatchNorm *bn = &net->bn[i];
        TRY(take(f, &net->cfg, i, "biases", bn->beta, n));
        TRY(take(f, &net->cfg, i, "scales", bn->gamma, n));
        TRY(take(f, &net->cfg, i, "rolling means", bn->rmean, n));
        TRY(take(f, &net->cfg, i, "rolling variances", bn->rvar, n));
    } else {
        TRY(take(f, &net->cfg, i, "biases", net->conv[i].b, n));
    }
    return take(f, &net->cfg, i, "weights", net->conv[i].w, tensor_numel(net->conv[i].w));
}

int darknet_load_weights(Darknet *net, const char *path) {
    WFile f = {path, NULL, 0, 0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return rn_fail("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 0, got;
    do {
        if (f.len + (1 << 20) > cap) cap = 2 * cap + (1 << 20), f.buf = xrealloc(f.buf, cap);
        got = fread(f.buf + f.len, 1, cap - f.len, fp);
        f.len += got;
    } while (got > 0);
    int err = ferror(fp);
    fclose(fp);
    int rc = err ? rn_fail("%s: read error", path) : read_header(&f);
    int last = -1;
    for (int i = 0; i < net->cfg.n && !rc; i++)
        if (net->cfg.l[i].type == DN_CONV) rc = load_layer(&f, net, i), last = i;
    if (!rc && f.pos != f.len)
        rc = rn_fail("%s: %zu bytes (%zu floats) left after the last conv layer %d: the weights do not match %s", path,
                     f.len - f.pos, (f.len - f.pos) / 4, last, net->cfg.name);
    free(f.buf);
    return rc;
}

int darknet_open(Darknet *net, const char *model, const char *weights) {
    size_t n = strlen(model);
    if (n > 3 && !strcmp(model + n - 3, ".h5")) {
        if (weights && *weights) return rn_fail("%s: a .h5 model holds its weights; drop --weights %s", model, weights);
        return darknet_load_h5(net, model);
    }
    if (!weights || !*weights) return rn_fail("%s: a darknet cfg needs --weights FILE", model);
    TRY(darknet_init_file(net, model));
    if (darknet_load_weights(net, weights) < 0) return darknet_free(net), -1;
    return 0;
}

/* ---- forward -------------------------------------------------------------------------------- */

static Tensor *activate(Tensor *x, DnAct a) {
    switch (a) {
    case DN_LEAKY: return op_leaky_relu(x, (real_t)DARKNET_LEAKY);
    case DN_RELU: return op_relu(x);
    case DN_LOGISTIC: return op_sigmoid(x);
    case DN_LINEAR: break;
    }
    return x;
}

static Tensor *route(const DnLayer *l, Tensor **out) {
    Tensor *parts[DN_MAX_FROM];
    for (int k = 0; k < l->nfrom; k++) {
        Tensor *s = out[l->from[k]];
        int part = TC(s) / l->route_groups;
        parts[k] = l->route_groups > 1 ? op_slice_channels(s, part * l->group_id, part) : s;
    }
    return l->nfrom == 1 ? parts[0] : op_concat(parts, l->nfrom);
}

static Tensor *layer_forward(Darknet *net, int i, Tensor *x, Tensor **out) {
    const DnLayer *l = &net->cfg.l[i];
    switch (l->type) {
    case DN_CONV: {
        Tensor *y = conv_fwd(&net->conv[i], x);
        if (l->bn) y = bn_fwd(&net->bn[i], y, false);
        return activate(y, l->act);
    }
    case DN_SHORTCUT: return activate(op_add(out[l->from[0]], x), l->act);
    case DN_ROUTE: return route(l, out);
    case DN_UPSAMPLE: return op_upsample_nearest(x, l->stride);
    case DN_MAXPOOL:
        /* an even total padding is symmetric: the engine's pool is the same window placement */
        if (l->pad % 2 == 0) return op_max_pool2d(x, l->size, l->stride, l->pad / 2);
        return darknet_maxpool(x, l->size, l->stride, l->pad);
    case DN_DROPOUT: /* identity at inference (darknet scales during training instead) */
    case DN_YOLO: return x;
    }
    return x;
}

int darknet_forward(Darknet *net, Tensor *x, Tensor **heads) {
    const DnCfg *c = &net->cfg;
    RN_CHECK(TC(x) == c->channels && TH(x) == c->height && TW(x) == c->width,
             "darknet_forward: input %dx%dx%d, the cfg wants %dx%dx%d", TC(x), TH(x), TW(x), c->channels, c->height, c->width);
    Tensor **out = arena_alloc(engine_arena(), c->n * sizeof *out); /* [layers] every layer's output */
    Tensor *cur = x;
    int nh = 0;
    for (int i = 0; i < c->n; i++) {
        cur = out[i] = layer_forward(net, i, cur, out);
        const DnLayer *l = &c->l[i];
        RN_CHECK(TC(cur) == l->out_c && TH(cur) == l->out_h && TW(cur) == l->out_w, "darknet layer %d: shape", i);
        if (l->type == DN_YOLO) heads[nh++] = cur;
    }
    return nh;
}
