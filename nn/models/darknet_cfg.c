/* darknet_cfg.c: the .cfg reader — sections and keys, per-layer interpretation, shape inference, layer table. */
#include "nn/models/darknet_cfg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* ---- raw sections ----------------------------------------------------------------------- */

typedef struct Kv {
    char *key, *val;
    int line;
    bool used;
} Kv;

typedef struct Sec {
    char *type; /* "[convolutional]" */
    int line;
    Kv *kv;
    int n, cap;
} Sec;

typedef struct Raw {
    Sec *s;
    int n, cap;
} Raw;

static void raw_free(Raw *r) {
    for (int i = 0; i < r->n; i++) {
        for (int k = 0; k < r->s[i].n; k++) free(r->s[i].kv[k].key), free(r->s[i].kv[k].val);
        free(r->s[i].kv), free(r->s[i].type);
    }
    free(r->s);
    memset(r, 0, sizeof *r);
}

/* darknet's strip(): every whitespace character goes, wherever it is. */
static void strip_all(char *s) {
    char *d = s;
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) *d++ = *s;
    *d = 0;
}

static int add_kv(Sec *s, char *line, const char *name, int lineno) {
    char *eq = strchr(line, '=');
    if (!eq || eq == line) return rn_fail("%s:%d: expected key=value, found \"%s\"", name, lineno, line);
    *eq = 0;
    for (int k = 0; k < s->n; k++)
        if (!strcmp(s->kv[k].key, line))
            return rn_fail("%s:%d: key '%s' repeated in %s (first at line %d)", name, lineno, line, s->type, s->kv[k].line);
    if (s->n == s->cap) s->cap = s->cap ? 2 * s->cap : 16, s->kv = xrealloc(s->kv, s->cap * sizeof *s->kv);
    s->kv[s->n++] = (Kv){xstrdup(line), xstrdup(eq + 1), lineno, false};
    return 0;
}

static int split_sections(const char *text, size_t len, const char *name, Raw *r) {
    memset(r, 0, sizeof *r);
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        lineno++;
        if (memchr(text + pos, 0, end - pos)) return rn_fail("%s:%d: NUL byte in a text file", name, lineno);
        char *line = xmalloc(end - pos + 1);
        memcpy(line, text + pos, end - pos), line[end - pos] = 0;
        pos = end + 1;
        strip_all(line);
        int rc = 0;
        if (!line[0] || line[0] == '#' || line[0] == ';') {
        } else if (line[0] == '[') {
            if (line[strlen(line) - 1] != ']') rc = rn_fail("%s:%d: section header \"%s\" lacks ']'", name, lineno, line);
            else {
                if (r->n == r->cap) r->cap = r->cap ? 2 * r->cap : 64, r->s = xrealloc(r->s, r->cap * sizeof *r->s);
                r->s[r->n++] = (Sec){xstrdup(line), lineno, NULL, 0, 0};
            }
        } else if (!r->n) {
            rc = rn_fail("%s:%d: \"%s\" before the first [section]", name, lineno, line);
        } else {
            rc = add_kv(&r->s[r->n - 1], line, name, lineno);
        }
        free(line);
        if (rc) return -1;
    }
    return 0;
}

/* ---- typed getters (each marks its key used) -------------------------------------------- */

typedef struct Ctx {
    const char *name;
    Sec *s;
} Ctx;

static Kv *find(Ctx *c, const char *key) {
    for (int k = 0; k < c->s->n; k++)
        if (!strcmp(c->s->kv[k].key, key)) return c->s->kv[k].used = true, &c->s->kv[k];
    return NULL;
}

/* 0, or -1 for text that is not an integer, -2 for an integer beyond int's range. */
static int parse_int(const char *v, int *out) {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end) return -1;
    if (errno || x < INT_MIN || x > INT_MAX) return -2;
    *out = (int)x;
    return 0;
}

static int parse_float(const char *v, float *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x)) return -1;
    *out = (float)x;
    return 0;
}

static int get_int(Ctx *c, const char *key, int dflt, int *out) {
    Kv *kv = find(c, key);
    *out = dflt;
    int rc = kv ? parse_int(kv->val, out) : 0;
    if (rc == -1) return rn_fail("%s:%d: %s=%s is not an integer", c->name, kv->line, key, kv->val);
    if (rc == -2) return rn_fail("%s:%d: %s=%s is out of range", c->name, kv->line, key, kv->val);
    return 0;
}

static int get_float(Ctx *c, const char *key, float dflt, float *out) {
    Kv *kv = find(c, key);
    *out = dflt;
    if (kv && parse_float(kv->val, out) < 0)
        return rn_fail("%s:%d: %s=%s is not a number", c->name, kv->line, key, kv->val);
    return 0;
}

/* Comma-separated integers (ints) or numbers (floats); *n gets the count (at most cap). */
static int get_list(Ctx *c, Kv *kv, int *ints, float *floats, int cap, int *n) {
    *n = 0;
    char *copy = xstrdup(kv->val), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        if (*n == cap) rc = rn_fail("%s:%d: %s has more than %d values", c->name, kv->line, kv->key, cap);
        else if (ints ? parse_int(t, &ints[*n]) != 0 : parse_float(t, &floats[*n]) != 0)
            rc = rn_fail("%s:%d: %s: \"%s\" is not a number", c->name, kv->line, kv->key, t);
        else (*n)++;
    }
    free(copy);
    if (!rc && !*n) rc = rn_fail("%s:%d: %s is empty", c->name, kv->line, kv->key);
    return rc;
}

static int get_act(Ctx *c, const char *dflt, DnAct *out) {
    Kv *kv = find(c, "activation");
    const char *v = kv ? kv->val : dflt;
    static const char *names[] = {"linear", "leaky", "relu", "logistic"};
    for (int k = 0; k < 4; k++)
        if (!strcmp(v, names[k])) return *out = (DnAct)k, 0;
    return rn_fail("%s:%d: activation=%s is not supported (linear, leaky, relu, logistic)", c->name,
                   kv ? kv->line : c->s->line, v);
}

static int check_used(Ctx *c) {
    for (int k = 0; k < c->s->n; k++)
        if (!c->s->kv[k].used)
            return rn_fail("%s:%d: unknown key '%s' in %s", c->name, c->s->kv[k].line, c->s->kv[k].key, c->s->type);
    return 0;
}

/* A size-like value must lie in 1..max (darknet_cfg.h's limits). */
static int bounded(Ctx *c, const char *key, int v, int max) {
    if (v >= 1 && v <= max) return 0;
    if (v < 1) return rn_fail("%s:%d: %s %s=%d must be >= 1", c->name, c->s->line, c->s->type, key, v);
    return rn_fail("%s:%d: %s %s=%d is above rune's limit of %d", c->name, c->s->line, c->s->type, key, v, max);
}

/* ---- sections -------------------------------------------------------------------------- */

/* Every [net] key AlexeyAB/darknet reads: accepted and kept (training keys do nothing here). */
static const char *const net_keys[] = {
    "adam", "adversarial_lr", "angle", "aspect", "attention", "augment_speed", "badlabels_rejection_percentage",
    "batch", "blur", "burn_in", "channels", "contrastive", "contrastive_color", "contrastive_jit_flip", "cutmix",
    "decay", "dynamic_minibatch", "ema_alpha", "eps", "equidistant_point", "exposure", "flip", "gamma",
    "gaussian_noise", "height", "hue", "inputs", "label_smooth_eps", "learning_rate", "learning_rate_min",
    "letter_box", "loss_scale", "max_batches", "max_chart_loss", "max_crop", "min_crop", "mixup", "momentum",
    "mosaic", "mosaic_bound", "num_sigmas_reject_badlabels", "optimized_memory", "policy", "power", "resize_step",
    "saturation", "scale", "scales", "seq_scales", "sequential_subdivisions", "sgdr_cycle", "sgdr_mult", "step",
    "steps", "subdivisions", "time_steps", "track", "try_fix_nan", "unsupervised", "use_cuda_graph",
    "weights_reject_freq", "width", NULL};

static int parse_net(Ctx *c, DnCfg *cfg) {
    int lb;
    TRY(get_int(c, "width", 0, &cfg->width));
    TRY(get_int(c, "height", 0, &cfg->height));
    TRY(get_int(c, "channels", 0, &cfg->channels));
    TRY(get_int(c, "letter_box", 0, &lb));
    cfg->letter_box = lb != 0;
    if (cfg->width < 1 || cfg->height < 1 || cfg->channels < 1)
        return rn_fail("%s:%d: [net] needs width, height and channels >= 1 (found %d, %d, %d)", c->name, c->s->line,
                       cfg->width, cfg->height, cfg->channels);
    TRY(bounded(c, "width", cfg->width, DN_MAX_SIDE));
    TRY(bounded(c, "height", cfg->height, DN_MAX_SIDE));
    TRY(bounded(c, "channels", cfg->channels, DN_MAX_CHANNELS));
    cfg->opt = xcalloc(c->s->n ? c->s->n : 1, sizeof *cfg->opt);
    for (int k = 0; k < c->s->n; k++) {
        Kv *kv = &c->s->kv[k];
        bool known = false;
        for (int j = 0; net_keys[j] && !known; j++) known = !strcmp(net_keys[j], kv->key);
        if (!known) return rn_fail("%s:%d: unknown key '%s' in [net]", c->name, kv->line, kv->key);
        cfg->opt[cfg->nopt++] = (DnOpt){xstrdup(kv->key), xstrdup(kv->val), kv->line};
    }
    return 0;
}

static int parse_conv(Ctx *c, DnLayer *l) {
    int pad, bn;
    TRY(get_int(c, "filters", 1, &l->filters));
    TRY(get_int(c, "size", 1, &l->size));
    TRY(get_int(c, "stride", 1, &l->stride));
    TRY(get_int(c, "groups", 1, &l->groups));
    TRY(get_int(c, "dilation", 1, &l->dilation));
    TRY(get_int(c, "pad", 0, &pad));
    TRY(get_int(c, "padding", 0, &l->pad));
    TRY(get_int(c, "batch_normalize", 0, &bn));
    TRY(get_act(c, "logistic", &l->act));
    if (pad) l->pad = l->size / 2;
    if (l->size == 1) l->dilation = 1; /* as darknet: a 1x1 kernel ignores dilation */
    l->bn = bn != 0;
    TRY(bounded(c, "filters", l->filters, DN_MAX_FILTERS));
    TRY(bounded(c, "size", l->size, DN_MAX_KERNEL));
    TRY(bounded(c, "stride", l->stride, DN_MAX_KERNEL));
    TRY(bounded(c, "groups", l->groups, DN_MAX_FILTERS));
    TRY(bounded(c, "dilation", l->dilation, DN_MAX_KERNEL));
    if (l->pad < 0) return rn_fail("%s:%d: padding=%d is negative", c->name, c->s->line, l->pad);
    if (l->pad > DN_MAX_KERNEL)
        return rn_fail("%s:%d: padding=%d is above rune's limit of %d", c->name, c->s->line, l->pad, DN_MAX_KERNEL);
    if (l->filters % l->groups)
        return rn_fail("%s:%d: filters=%d is not a multiple of groups=%d", c->name, c->s->line, l->filters, l->groups);
    return 0;
}

/* Layer references: negative = relative to this layer; must name an earlier layer. */
static int parse_refs(Ctx *c, const char *key, int index, DnLayer *l) {
    Kv *kv = find(c, key);
    if (!kv) return rn_fail("%s:%d: %s needs %s=", c->name, c->s->line, c->s->type, key);
    TRY(get_list(c, kv, l->from, NULL, DN_MAX_FROM, &l->nfrom));
    for (int k = 0; k < l->nfrom; k++) {
        int a = l->from[k] < 0 ? index + l->from[k] : l->from[k];
        if (a < 0 || a >= index)
            return rn_fail("%s:%d: %s=%d refers to layer %d, not an earlier layer of this one (%d)", c->name, kv->line, key,
                           l->from[k], a, index);
        l->from[k] = a;
    }
    return 0;
}

static int parse_shortcut(Ctx *c, int index, DnLayer *l) {
    TRY(parse_refs(c, "from", index, l));
    TRY(get_act(c, "linear", &l->act));
    if (l->nfrom != 1) return rn_fail("%s:%d: [shortcut] from= with %d layers: only one is supported", c->name, c->s->line, l->nfrom);
    return 0;
}

static int parse_route(Ctx *c, int index, DnLayer *l) {
    TRY(parse_refs(c, "layers", index, l));
    TRY(get_int(c, "groups", 1, &l->route_groups));
    TRY(get_int(c, "group_id", 0, &l->group_id));
    TRY(bounded(c, "groups", l->route_groups, DN_MAX_KERNEL));
    if (l->group_id < 0 || l->group_id >= l->route_groups)
        return rn_fail("%s:%d: group_id=%d outside 0..groups-1 (%d)", c->name, c->s->line, l->group_id, l->route_groups - 1);
    return 0;
}

static int parse_maxpool(Ctx *c, DnLayer *l) {
    TRY(get_int(c, "stride", 1, &l->stride));
    TRY(get_int(c, "size", l->stride, &l->size));
    TRY(get_int(c, "padding", l->size - 1, &l->pad));
    TRY(bounded(c, "stride", l->stride, DN_MAX_KERNEL));
    TRY(bounded(c, "size", l->size, DN_MAX_KERNEL));
    if (l->pad < 0 || l->pad > 2 * (l->size - 1))
        return rn_fail("%s:%d: [maxpool] padding=%d outside 0..%d", c->name, c->s->line, l->pad, 2 * (l->size - 1));
    return 0;
}

static int parse_nms_kind(Ctx *c, DnYolo *y) {
    Kv *kv = find(c, "nms_kind");
    y->nms_kind = DN_NMS_IOU;
    if (!kv || !strcmp(kv->val, "default")) return 0;
    if (!strcmp(kv->val, "greedynms")) return y->nms_kind = DN_NMS_GREEDY_DIOU, 0;
    if (!strcmp(kv->val, "diounms")) return y->nms_kind = DN_NMS_DIOU, 0;
    return rn_fail("%s:%d: nms_kind=%s is not supported (default, greedynms, diounms)", c->name, kv->line, kv->val);
}

static int parse_yolo_floats(Ctx *c, DnYolo *y) {
    TRY(get_float(c, "ignore_thresh", 0.5f, &y->ignore_thresh));
    TRY(get_float(c, "truth_thresh", 1, &y->truth_thresh));
    TRY(get_float(c, "iou_thresh", 1, &y->iou_thresh)); /* AlexeyAB: 1 = off */
    TRY(get_float(c, "scale_x_y", 1, &y->scale_x_y));
    TRY(get_float(c, "jitter", 0.2f, &y->jitter));
    TRY(get_float(c, "cls_normalizer", 1, &y->cls_normalizer));
    TRY(get_float(c, "iou_normalizer", 0.75f, &y->iou_normalizer));
    TRY(get_float(c, "obj_normalizer", 1, &y->obj_normalizer));
    TRY(get_float(c, "beta_nms", 0.6f, &y->beta_nms));
    TRY(get_float(c, "max_delta", 3.4e38f, &y->max_delta));
    TRY(get_float(c, "label_smooth_eps", 0, &y->label_smooth_eps));
    TRY(get_int(c, "random", 0, &y->random));
    TRY(get_int(c, "focal_loss", 0, &y->focal_loss));
    TRY(get_int(c, "resize", 1, &y->resize));
    Kv *kv = find(c, "iou_loss");
    snprintf(y->iou_loss, sizeof y->iou_loss, "%s", kv ? kv->val : "mse");
    return parse_nms_kind(c, y);
}

static int parse_yolo(Ctx *c, DnYolo *y) {
    int new_coords, na = 0;
    TRY(get_int(c, "classes", 20, &y->classes));
    TRY(get_int(c, "num", 1, &y->num));
    TRY(get_int(c, "new_coords", 0, &new_coords));
    TRY(bounded(c, "classes", y->classes, DN_MAX_CLASSES));
    TRY(bounded(c, "num", y->num, DN_MAX_ANCHORS));
    if (new_coords) return rn_fail("%s:%d: new_coords=1 (scaled-YOLOv4 boxes) is not supported", c->name, c->s->line);
    Kv *kv = find(c, "anchors");
    if (!kv) return rn_fail("%s:%d: [yolo] needs anchors=", c->name, c->s->line);
    TRY(get_list(c, kv, NULL, y->anchors, 2 * DN_MAX_ANCHORS, &na));
    if (na != 2 * y->num) return rn_fail("%s:%d: anchors= has %d values, num=%d needs %d", c->name, kv->line, na, y->num, 2 * y->num);
    for (int k = 0; k < na; k++)
        if (y->anchors[k] <= 0) return rn_fail("%s:%d: anchor value %g is not positive", c->name, kv->line, y->anchors[k]);
    kv = find(c, "mask");
    if (kv) {
        TRY(get_list(c, kv, y->mask, NULL, DN_MAX_ANCHORS, &y->nmask));
        for (int k = 0; k < y->nmask; k++)
            if (y->mask[k] < 0 || y->mask[k] >= y->num)
                return rn_fail("%s:%d: mask value %d outside 0..num-1 (%d)", c->name, kv->line, y->mask[k], y->num - 1);
    } else {
        y->nmask = y->num;
        for (int k = 0; k < y->num; k++) y->mask[k] = k;
    }
    return parse_yolo_floats(c, y);
}

static int parse_layer(Ctx *c, int index, DnLayer *l) {
    const char *t = c->s->type;
    memset(l, 0, sizeof *l);
    l->line = c->s->line;
    int rc;
    if (!strcmp(t, "[convolutional]") || !strcmp(t, "[conv]")) l->type = DN_CONV, rc = parse_conv(c, l);
    else if (!strcmp(t, "[shortcut]")) l->type = DN_SHORTCUT, rc = parse_shortcut(c, index, l);
    else if (!strcmp(t, "[route]")) l->type = DN_ROUTE, rc = parse_route(c, index, l);
    else if (!strcmp(t, "[upsample]")) {
        l->type = DN_UPSAMPLE;
        rc = get_int(c, "stride", 2, &l->stride);
        if (!rc) rc = bounded(c, "stride", l->stride, DN_MAX_KERNEL);
    } else if (!strcmp(t, "[maxpool]") || !strcmp(t, "[max]")) l->type = DN_MAXPOOL, rc = parse_maxpool(c, l);
    else if (!strcmp(t, "[dropout]")) l->type = DN_DROPOUT, rc = get_float(c, "probability", 0.5f, &l->probability);
    else if (!strcmp(t, "[yolo]")) l->type = DN_YOLO, rc = parse_yolo(c, &l->yolo);
    else return rn_fail("%s:%d: section %s is not supported", c->name, c->s->line, t);
    if (rc) return -1;
    return check_used(c);
}

/* ---- shapes ------------------------------------------------------------------------------ */

static int fail_at(const DnCfg *cfg, int i, const char *what) {
    return rn_fail("%s:%d: layer %d (%s): %s", cfg->name, cfg->l[i].line, i, dn_type_name(cfg->l[i].type), what);
}

static int shape_conv(DnCfg *cfg, int i) {
    DnLayer *l = &cfg->l[i];
    char msg[160];
    if (l->c % l->groups) {
        snprintf(msg, sizeof msg, "%d input channels are not a multiple of groups=%d", l->c, l->groups);
        return fail_at(cfg, i, msg);
    }
    int span = l->dilation * (l->size - 1) + 1;
    l->out_c = l->filters;
    l->out_h = (l->h + 2 * l->pad - span) / l->stride + 1;
    l->out_w = (l->w + 2 * l->pad - span) / l->stride + 1;
    if (l->h + 2 * l->pad < span || l->w + 2 * l->pad < span) return fail_at(cfg, i, "input smaller than the kernel");
    l->bflops = 2.0 * (l->c / l->groups) * l->filters * l->size * l->size * l->out_h * l->out_w / 1e9;
    return 0;
}

static int shape_route(DnCfg *cfg, int i) {
    DnLayer *l = &cfg->l[i];
    char msg[200];
    l->out_c = 0;
    for (int k = 0; k < l->nfrom; k++) {
        const DnLayer *s = &cfg->l[l->from[k]];
        if (s->type == DN_YOLO) return fail_at(cfg, i, "routing from a [yolo] layer is not supported");
        if (s->out_c % l->route_groups) {
            snprintf(msg, sizeof msg, "layer %d has %d channels, not a multiple of groups=%d", l->from[k], s->out_c, l->route_groups);
            return fail_at(cfg, i, msg);
        }
        const DnLayer *f = &cfg->l[l->from[0]];
        if (s->out_h != f->out_h || s->out_w != f->out_w) {
            snprintf(msg, sizeof msg, "layers %d (%dx%d) and %d (%dx%d) differ in size", l->from[0], f->out_w, f->out_h,
                     l->from[k], s->out_w, s->out_h);
            return fail_at(cfg, i, msg);
        }
        l->out_c += s->out_c / l->route_groups;
    }
    l->out_h = cfg->l[l->from[0]].out_h, l->out_w = cfg->l[l->from[0]].out_w;
    return 0;
}

static int shape_shortcut(DnCfg *cfg, int i) {
    DnLayer *l = &cfg->l[i];
    const DnLayer *s = &cfg->l[l->from[0]];
    if (s->type == DN_YOLO) return fail_at(cfg, i, "a shortcut from a [yolo] layer is not supported");
    if (s->out_c != l->c || s->out_h != l->h || s->out_w != l->w) {
        char msg[200];
        snprintf(msg, sizeof msg, "from layer %d is %dx%dx%d, the previous layer %dx%dx%d (must be equal)", l->from[0],
                 s->out_w, s->out_h, s->out_c, l->w, l->h, l->c);
        return fail_at(cfg, i, msg);
    }
    l->out_c = l->c, l->out_h = l->h, l->out_w = l->w;
    l->bflops = (double)l->out_w * l->out_h * l->out_c * l->nfrom / 1e9;
    return 0;
}

static int shape_maxpool(DnCfg *cfg, int i) {
    DnLayer *l = &cfg->l[i];
    if (l->h + l->pad < l->size || l->w + l->pad < l->size) return fail_at(cfg, i, "input smaller than the pool window");
    l->out_c = l->c;
    l->out_h = (l->h + l->pad - l->size) / l->stride + 1;
    l->out_w = (l->w + l->pad - l->size) / l->stride + 1;
    l->bflops = (double)l->size * l->size * l->c * l->out_h * l->out_w / 1e9;
    return 0;
}

static int shape_yolo(DnCfg *cfg, int i) {
    DnLayer *l = &cfg->l[i];
    int want = l->yolo.nmask * (l->yolo.classes + 5);
    if (l->c != want) {
        char msg[200];
        snprintf(msg, sizeof msg, "the previous layer has %d channels; %d anchors x (classes %d + 5) needs %d", l->c,
                 l->yolo.nmask, l->yolo.classes, want);
        return fail_at(cfg, i, msg);
    }
    l->out_c = l->c, l->out_h = l->h, l->out_w = l->w;
    return 0;
}

static int shape_upsample(DnCfg *cfg, int i) {
    DnLayer *l = &cfg->l[i];
    /* the input map is within the limit, so this product fits; the check follows in shape_layer */
    if ((long long)l->h * l->stride * l->w * l->stride > DN_MAX_LAYER_VALUES)
        return fail_at(cfg, i, "the upsampled map is above rune's size limit");
    l->out_c = l->c, l->out_h = l->h * l->stride, l->out_w = l->w * l->stride;
    return 0;
}

/* What the layer will allocate, its output map and a conv's weights, within darknet_cfg.h's limit. */
static int check_sizes(DnCfg *cfg, int i) {
    const DnLayer *l = &cfg->l[i];
    long long map = (long long)l->out_c * l->out_h * l->out_w;
    long long wts = l->type == DN_CONV ? (long long)l->filters * (l->c / l->groups) * l->size * l->size : 0;
    char msg[200];
    if (map > DN_MAX_LAYER_VALUES) {
        snprintf(msg, sizeof msg, "output %dx%dx%d is %lld values, above rune's limit of %lld", l->out_w, l->out_h,
                 l->out_c, map, DN_MAX_LAYER_VALUES);
        return fail_at(cfg, i, msg);
    }
    if (wts > DN_MAX_LAYER_VALUES) {
        snprintf(msg, sizeof msg, "%lld weights, above rune's limit of %lld", wts, DN_MAX_LAYER_VALUES);
        return fail_at(cfg, i, msg);
    }
    return 0;
}

static int shape_by_type(DnCfg *cfg, int i) {
    DnLayer *l = &cfg->l[i];
    switch (l->type) {
    case DN_CONV: return shape_conv(cfg, i);
    case DN_ROUTE: return shape_route(cfg, i);
    case DN_SHORTCUT: return shape_shortcut(cfg, i);
    case DN_MAXPOOL: return shape_maxpool(cfg, i);
    case DN_YOLO: return shape_yolo(cfg, i);
    case DN_UPSAMPLE: return shape_upsample(cfg, i);
    case DN_DROPOUT: l->out_c = l->c, l->out_h = l->h, l->out_w = l->w; return 0;
    }
    return 0;
}

static int shape_layer(DnCfg *cfg, int i) {
    DnLayer *l = &cfg->l[i];
    if (i == 0) l->c = cfg->channels, l->h = cfg->height, l->w = cfg->width;
    else l->c = cfg->l[i - 1].out_c, l->h = cfg->l[i - 1].out_h, l->w = cfg->l[i - 1].out_w;
    if (i > 0 && cfg->l[i - 1].type == DN_YOLO && l->type != DN_ROUTE)
        return fail_at(cfg, i, "only a [route] may follow a [yolo] layer");
    l->bflops = 0;
    TRY(shape_by_type(cfg, i));
    return check_sizes(cfg, i);
}

int dn_cfg_set_input(DnCfg *c, int width, int height) {
    if (width < 1 || height < 1) return rn_fail("%s: input size %dx%d", c->name, width, height);
    if (width > DN_MAX_SIDE || height > DN_MAX_SIDE)
        return rn_fail("%s: input size %dx%d is above rune's limit of %d a side", c->name, width, height, DN_MAX_SIDE);
    c->width = width, c->height = height;
    for (int i = 0; i < c->n; i++) TRY(shape_layer(c, i));
    return 0;
}

/* ---- entry points ---------------------------------------------------------------------- */

static int interpret(Raw *r, DnCfg *cfg) {
    if (!r->n || (strcmp(r->s[0].type, "[net]") && strcmp(r->s[0].type, "[network]")))
        return rn_fail("%s:%d: the first section must be [net]", cfg->name, r->n ? r->s[0].line : 1);
    Ctx c = {cfg->name, &r->s[0]};
    TRY(parse_net(&c, cfg));
    cfg->l = xcalloc(r->n, sizeof *cfg->l);
    for (int i = 1; i < r->n; i++) {
        c.s = &r->s[i];
        TRY(parse_layer(&c, cfg->n, &cfg->l[cfg->n]));
        cfg->n++;
    }
    if (!cfg->n) return rn_fail("%s: no layers after [net]", cfg->name);
    int nh = 0;
    for (int i = 0; i < cfg->n; i++)
        if (cfg->l[i].type == DN_YOLO && nh++ == DN_MAX_HEADS)
            return rn_fail("%s:%d: more than %d [yolo] layers", cfg->name, cfg->l[i].line, DN_MAX_HEADS);
    return dn_cfg_set_input(cfg, cfg->width, cfg->height);
}

int dn_cfg_parse(const char *text, size_t len, const char *name, DnCfg *out) {
    memset(out, 0, sizeof *out);
    out->name = xstrdup(name);
    out->text = xmalloc(len + 1);
    memcpy(out->text, text, len), out->text[len] = 0;
    Raw r;
    int rc = split_sections(text, len, name, &r);
    if (!rc) rc = interpret(&r, out);
    raw_free(&r);
    if (rc) dn_cfg_free(out);
    return rc ? -1 : 0;
}

int dn_cfg_load(const char *path, DnCfg *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail("%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 65536 > cap) cap = 2 * cap + 65536, buf = xrealloc(buf, cap);
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    int err = ferror(f);
    fclose(f);
    if (err) return free(buf), rn_fail("%s: read error", path);
    int rc = dn_cfg_parse(buf, len, path, out);
    free(buf);
    return rc;
}

void dn_cfg_free(DnCfg *c) {
    for (int k = 0; k < c->nopt; k++) free(c->opt[k].key), free(c->opt[k].val);
    free(c->opt), free(c->l), free(c->name), free(c->text);
    memset(c, 0, sizeof *c);
}

double dn_cfg_bflops(const DnCfg *c, bool conv_only) {
    double s = 0;
    for (int i = 0; i < c->n; i++)
        if (!conv_only || c->l[i].type == DN_CONV) s += c->l[i].bflops;
    return s;
}

int dn_cfg_heads(const DnCfg *c, int idx[DN_MAX_HEADS]) {
    int n = 0;
    for (int i = 0; i < c->n && n < DN_MAX_HEADS; i++)
        if (c->l[i].type == DN_YOLO) idx[n++] = i;
    return n;
}

const char *dn_type_name(DnType t) {
    static const char *names[] = {"conv", "shortcut", "route", "upsample", "max", "dropout", "yolo"};
    return names[t];
}

static void print_layer(const DnLayer *l, int i, FILE *f) {
    char what[48] = "", size[24] = "";
    if (l->type == DN_CONV) {
        if (l->groups > 1) snprintf(what, sizeof what, "%5d/%4d", l->filters, l->groups);
        else snprintf(what, sizeof what, "%5d", l->filters);
        snprintf(size, sizeof size, "%2d x%2d/%2d", l->size, l->size, l->stride);
    } else if (l->type == DN_MAXPOOL) {
        snprintf(size, sizeof size, "%2d x%2d/%2d", l->size, l->size, l->stride);
    } else if (l->type == DN_UPSAMPLE) {
        snprintf(size, sizeof size, "     %2dx", l->stride);
    } else if (l->type == DN_ROUTE || l->type == DN_SHORTCUT) {
        int o = 0;
        for (int k = 0; k < l->nfrom; k++) o += snprintf(what + o, sizeof what - o, "%s%d", k ? "," : "", l->from[k]);
        if (l->route_groups > 1) snprintf(what + o, sizeof what - o, " %d/%d", l->group_id, l->route_groups);
    }
    fprintf(f, "%4d %-8s %-12s %-10s %4d x%4d x%4d -> %4d x%4d x%4d %7.3f\n", i, dn_type_name(l->type), what, size,
            l->w, l->h, l->c, l->out_w, l->out_h, l->out_c, l->bflops);
}

void dn_cfg_print(const DnCfg *c, FILE *f) {
    fprintf(f, "%4s %-8s %-12s %-10s %-18s    %-18s %7s\n", "", "layer", "filters", "size/strd", "input (WxHxC)",
            "output", "BFLOPs");
    for (int i = 0; i < c->n; i++) print_layer(&c->l[i], i, f);
    fprintf(f, "Total BFLOPs %.3f (convolutions %.3f) at %dx%d\n", dn_cfg_bflops(c, false), dn_cfg_bflops(c, true),
            c->width, c->height);
}
