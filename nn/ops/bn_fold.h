/* bn_fold.h: inference BatchNorm as one affine map per channel, y = s*x + t (the fused norm ops share it). */
#pragma once
#include <math.h>

#include "nn/tensor.h"

/* s[c] = gamma / sqrt(var + eps), t[c] = beta - s*mean, computed in double and stored as float. */
static inline void bn_fold(const Tensor *gamma, const Tensor *beta, const Tensor *rmean, const Tensor *rvar,
                           double eps, int C, real_t *s, real_t *t) {
    for (int c = 0; c < C; c++) {
        double sc = (gamma ? gamma->data[c] : 1.0) / sqrt((double)rvar->data[c] + eps);
        s[c] = (real_t)sc, t[c] = (real_t)((beta ? beta->data[c] : 0.0) - sc * rmean->data[c]);
    }
}
