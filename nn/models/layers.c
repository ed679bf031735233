/* layers.c: conv / batch-norm / PReLU declarations and forwards, and PyTorch-like default init. */
#include "nn/models/layers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *pname(const char *fmt, ...) {
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 256, fmt, ap);
    va_end(ap);
    return b;
}

Conv conv_decl(ParamSet *ps, const char *prefix, int cin, int cout, int k, int stride, int pad, int dil,
               int groups, bool bias) {
    Conv c = {0};
    c.w = params_add(ps, pname("%s.weight", prefix), cout, cin / groups, k, k);
    if (bias) c.b = params_add(ps, pname("%s.bias", prefix), cout, 1, 1, 1);
    c.a = conv_args(stride, pad, dil, groups);
    return c;
}

Conv deconv_decl(ParamSet *ps, const char *prefix, int cin, int cout, int k, int stride, int pad,
                 int out_pad, bool bias) {
    Conv c = {0};
    c.w = params_add(ps, pname("%s.weight", prefix), cin, cout, k, k);
    if (bias) c.b = params_add(ps, pname("%s.bias", prefix), cout, 1, 1, 1);
    c.a = conv_args(stride, pad, 1, 1);
    c.transposed = true;
    c.out_pad = out_pad;
    return c;
}

Tensor *conv_fwd(const Conv *c, Tensor *x) {
    if (c->transposed) return op_conv_transpose2d(x, c->w, c->b, c->a, c->out_pad, c->out_pad);
    return op_conv2d(x, c->w, c->b, c->a);
}

Tensor *conv_relu_fwd(const Conv *c, Tensor *x) {
    if (c->transposed) return op_relu(conv_fwd(c, x));
    return op_conv2d_relu(x, c->w, c->b, c->a);
}

BatchNorm bn_decl(ParamSet *ps, const char *prefix, int c, double eps) {
    BatchNorm bn;
    bn.gamma = params_add(ps, pname("%s.weight", prefix), c, 1, 1, 1);
    bn.beta = params_add(ps, pname("%s.bias", prefix), c, 1, 1, 1);
    bn.rmean = params_add_buffer(ps, pname("%s.running_mean", prefix), c, 1, 1, 1);
    bn.rvar = params_add_buffer(ps, pname("%s.running_var", prefix), c, 1, 1, 1);
    bn.eps = eps;
    bn.momentum = 0.1;
    return bn;
}

Tensor *conv_bn_fwd(const Conv *c, const BatchNorm *bn, Tensor *x, bool training, bool relu) {
    if (training || c->transposed) {
        Tensor *y = bn_fwd(bn, conv_fwd(c, x), training);
        return relu ? op_relu(y) : y;
    }
    return op_conv2d_bn(x, c->w, c->b, c->a, bn->gamma, bn->beta, bn->rmean, bn->rvar, (real_t)bn->eps, relu);
}

Tensor *bn_fwd(const BatchNorm *bn, Tensor *x, bool training) {
    return op_batch_norm(x, bn->gamma, bn->beta, bn->rmean, bn->rvar, training, (real_t)bn->momentum,
                         (real_t)bn->eps);
}

Tensor *prelu_decl(ParamSet *ps, const char *prefix, int c) {
    return params_add(ps, pname("%s.weight", prefix), c, 1, 1, 1);
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

void layers_uniform_fan_in(Tensor *t, int fan_in, uint64_t (*next)(uint64_t *), uint64_t *state) {
    double bound = 1.0 / sqrt(fan_in > 0 ? fan_in : 1);
    size_t n = tensor_numel(t);
    for (size_t j = 0; j < n; j++) t->data[j] = (real_t)(bound * (2.0 * rng_unit(next(state)) - 1.0));
}

void layers_default_init(ParamSet *ps, unsigned seed) {
    uint64_t st = 0x2545F4914F6CDD1Dull ^ seed;
    for (int i = 0; i < ps->count; i++) {
        Tensor *t = ps->t[i];
        size_t n = tensor_numel(t);
        const char *nm = t->name;
        bool vec = t->shape[1] == 1 && t->shape[2] == 1 && t->shape[3] == 1;
        real_t v = 0;
        if (ends_with(nm, "running_var")) v = 1;
        else if (ends_with(nm, ".act.weight") || (vec && strstr(nm, "prelu"))) v = 0.25;
        else if (vec && ends_with(nm, ".weight")) v = 1; /* batch-norm gamma */
        if (!vec || (!ends_with(nm, ".bias") && !strstr(nm, "running") && v == 0)) {
            layers_uniform_fan_in(t, t->shape[1] * t->shape[2] * t->shape[3], xorshift64_next, &st);
            continue;
        }
        for (size_t j = 0; j < n; j++) t->data[j] = v;
    }
}
