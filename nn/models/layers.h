/* layers.h: parameterised building blocks (conv, batch norm, PReLU) that declare their tensors by name. */
#pragma once
#include <stdbool.h>

#include "nn/ops/ops.h"
#include "nn/params.h"
#include "util/rng.h"

/* Each *_decl registers "<prefix>.weight" etc. in the ParamSet with PyTorch's names and shapes
 * (per-channel vectors as [C,1,1,1], i.e. PyTorch's [C]); the forward functions run the ops. */
typedef struct Conv {
    Tensor *w, *b; /* b NULL when the layer has no bias */
    ConvArgs a;
    bool transposed;
    int out_pad;
} Conv;

Conv conv_decl(ParamSet *ps, const char *prefix, int cin, int cout, int k, int stride, int pad, int dil,
               int groups, bool bias);
/* ConvTranspose2d: weight [cin, cout/g, k, k]. */
Conv deconv_decl(ParamSet *ps, const char *prefix, int cin, int cout, int k, int stride, int pad,
                 int out_pad, bool bias);
Tensor *conv_fwd(const Conv *c, Tensor *x);
/* relu(conv_fwd(c, x)), in one pass at inference (op_conv2d_relu). */
Tensor *conv_relu_fwd(const Conv *c, Tensor *x);

typedef struct BatchNorm {
    Tensor *gamma, *beta, *rmean, *rvar;
    double eps, momentum;
} BatchNorm;

BatchNorm bn_decl(ParamSet *ps, const char *prefix, int c, double eps);
Tensor *bn_fwd(const BatchNorm *bn, Tensor *x, bool training);
/* bn_fwd(bn, conv_fwd(c, x)), then relu when asked: in inference one fused pass (op_conv2d_bn). */
Tensor *conv_bn_fwd(const Conv *c, const BatchNorm *bn, Tensor *x, bool training, bool relu);

/* PReLU with one slope per channel ("<prefix>.weight" [C]), PyTorch's default init 0.25. */
Tensor *prelu_decl(ParamSet *ps, const char *prefix, int c);

/* snprintf into one of 8 static rotating buffers: names for *_decl calls ("%s.b%d.conv"). A
 * result stays valid for the next 7 calls only: copy a prefix that must outlive more. */
const char *pname(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Initialisation after params_finalize (checkpoints usually overwrite it): Kaiming-uniform
 * conv weights as PyTorch's default, zero biases, BN gamma 1 / beta 0 / running var 1, PReLU 0.25. */
void layers_default_init(ParamSet *ps, unsigned seed);

/* PyTorch's default for a conv/linear weight or bias: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)), one draw of next(state) per element (the generator is the caller's, so that each
 * model keeps the stream its seeds were written with). */
void layers_uniform_fan_in(Tensor *t, int fan_in, uint64_t (*next)(uint64_t *), uint64_t *state);
