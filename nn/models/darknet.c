/* darknet.c: a darknet cfg as a ParamSet, its .weights loader, and the forward pass up to the raw [yolo] heads. */
#include "nn/models/darknet.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/io/finite.h"
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

void darknet_free(Darknet *net) {
    params_free(&net->ps);
    dn_cfg_free(&net->cfg);
    free(net->conv), free(net->bn);
    memset(net, 0, sizeof *net);
}

/* ---- .weights ------------------------------------------------------------------------------ */

/* Floats a conv layer takes from a .weights file: its biases (with batch norm: biases, scales,
 * rolling means and variances), then its weights. */
static size_t layer_floats(const DnLayer *l) {
    size_t n = (size_t)l->filters;
    return n * (l->bn ? 4 : 1) + n * (size_t)(l->c / l->groups) * l->size * l->size;
}

/* Reads the header (version, then `seen`: 64-bit from format 0.2 on, 32-bit before); leaves fp at
 * the first float and *floats_bytes = the bytes after the header. */
static int read_header(FILE *fp, const char *path, size_t *floats_bytes) {
    struct stat st;
    int32_t v[3];
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) return rn_fail("%s: not a regular file", path);
    size_t len = (size_t)st.st_size;
    if (len < 12 || fread(v, 4, 3, fp) != 3) return rn_fail("%s: %zu bytes, too short for a darknet weights header", path, len);
    if (v[0] < 0 || v[1] < 0 || v[0] >= 1000 || v[1] >= 1000)
        return rn_fail("%s: version %d.%d.%d is not a darknet weights file (or a transposed one)", path, v[0], v[1], v[2]);
    size_t header = 12 + (v[0] * 10 + v[1] >= 2 ? 8 : 4);
    if (len < header || fseek(fp, (long)header, SEEK_SET) != 0) return rn_fail("%s: truncated header", path);
    *floats_bytes = len - header;
    return 0;
}

/* The file must hold exactly the floats the cfg needs: checked from its size alone, before the
 * model is allocated or a float is read. The first layer it cannot fill is named. */
static int check_length(const DnCfg *c, const char *path, size_t bytes) {
    size_t left = bytes / 4;
    int last = -1;
    for (int i = 0; i < c->n; i++) {
        if (c->l[i].type != DN_CONV) continue;
        size_t need = layer_floats(&c->l[i]);
        if (left < need)
            return rn_fail("%s: layer %d (conv at %s:%d) needs %zu floats, only %zu left: the file is too short for this cfg",
                           path, i, c->name, c->l[i].line, need, left);
        left -= need, last = i;
    }
    size_t extra = left * 4 + bytes % 4;
    if (extra)
        return rn_fail("%s: %zu bytes (%zu floats) left after the last conv layer %d: the weights do not match %s", path,
                       extra, extra / 4, last, c->name);
    return 0;
}

/* Opens a .weights file checked against the cfg, positioned at its first float. */
static int open_weights(const DnCfg *c, const char *path, FILE **out) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return rn_fail("%s: cannot open: %s", path, strerror(errno));
    size_t bytes = 0;
    if (read_header(fp, path, &bytes) < 0 || check_length(c, path, bytes) < 0) return fclose(fp), -1;
    *out = fp;
    return 0;
}

/* The tensor's floats, in file order; a NaN or infinite value is refused naming the tensor. */
static int take(FILE *fp, const char *path, Tensor *dst) {
    float buf[4096];
    size_t n = tensor_numel(dst);
    for (size_t k = 0; k < n;) {
        size_t m = n - k < 4096 ? n - k : 4096;
        if (fread(buf, 4, m, fp) != m) return rn_fail("%s: read error in %s", path, dst->name);
        for (size_t j = 0; j < m; j++) dst->data[k + j] = (real_t)buf[j];
        TRY(io_check_finite(path, pname("tensor %s", dst->name), dst->data + k, m, k));
        k += m;
    }
    return 0;
}

static int load_layer(FILE *fp, const char *path, Darknet *net, int i) {
    if (net->cfg.l[i].bn) {
        const BatchNorm *bn = &net->bn[i];
        TRY(take(fp, path, bn->beta));
        TRY(take(fp, path, bn->gamma));
        TRY(take(fp, path, bn->rmean));
        TRY(take(fp, path, bn->rvar));
    } else {
        TRY(take(fp, path, net->conv[i].b));
    }
    return take(fp, path, net->conv[i].w);
}

static int load_all(FILE *fp, const char *path, Darknet *net) {
    for (int i = 0; i < net->cfg.n; i++)
        if (net->cfg.l[i].type == DN_CONV) TRY(load_layer(fp, path, net, i));
    return 0;
}

int darknet_load_weights(Darknet *net, const char *path) {
    FILE *fp;
    TRY(open_weights(&net->cfg, path, &fp));
    int rc = load_all(fp, path, net);
    fclose(fp);
    return rc;
}

int darknet_open(Darknet *net, const char *model, const char *weights) {
    size_t n = strlen(model);
    if (n > 3 && !strcmp(model + n - 3, ".h5")) {
        if (weights && *weights) return rn_fail("%s: a .h5 model holds its weights; drop --weights %s", model, weights);
        return darknet_load_h5(net, model);
    }
    if (!weights || !*weights) return rn_fail("%s: a darknet cfg needs --weights FILE", model);
    DnCfg cfg;
    FILE *fp;
    TRY(dn_cfg_load(model, &cfg));
    if (open_weights(&cfg, weights, &fp) < 0) return dn_cfg_free(&cfg), -1; /* before allocating the model */
    darknet_init(net, &cfg);
    int rc = load_all(fp, weights, net);
    fclose(fp);
    if (rc < 0) darknet_free(net);
    return rc;
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
