/* conv2d_fused.c: inference's conv + per-channel scale + bias + ReLU in one pass over the output (see conv_fused.h). */
#include "nn/ops/conv_fused.h"

#include "nn/ops/conv_direct.h"
#include "nn/ops/conv_gemm.h"
#include "nn/ops/conv_winograd.h"
#include "nn/ops/op_checks.h"
#include "nn/profile.h"

const real_t *conv_scaled_weights(const Tensor *w, const real_t *wscale) {
    if (!wscale) return w->data;
    size_t K = tensor_numel(w) / (size_t)TN(w);
    real_t *ws = arena_alloc(engine_arena(), tensor_numel(w) * sizeof *ws);
    /* a row per output channel, on every thread: ResNet-18 folds 11 M weights per backward */
#pragma omp parallel for schedule(static) if (tensor_numel(w) > 65536)
    for (int m = 0; m < TN(w); m++)
        for (size_t k = 0; k < K; k++) ws[(size_t)m * K + k] = wscale[m] * w->data[(size_t)m * K + k];
    return ws;
}

Tensor *conv2d_fused_forward(Tensor *x, Tensor *w, const real_t *wscale, const real_t *bias, ConvArgs a, bool relu) {
    ConvGeom g = conv2d_checked_geom(x, w, NULL, a);
    int N = TN(x), G = a.groups, M = TN(w) / G;
    Tensor *y = tensor_new(N, TN(w), g.OH, g.OW); /* [N,Cout,OH,OW] */
    double td = profile_clock();
    if (conv_winograd_forward(x->data, w->data, wscale, bias, relu, false, y->data, &g, N, G, M)) {
        profile_add_since("winograd [conv y=Wx]", td);
        return y;
    }
    if (conv_direct_forward_fused(x->data, w->data, wscale, bias, relu, y->data, &g, N, G, M)) return y;
    conv_gemm_forward(x->data, conv_scaled_weights(w, wscale), bias, y->data, &g, N, G, M, false);
    if (relu) {
        size_t total = tensor_numel(y);
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) y->data[i] = y->data[i] > 0 ? y->data[i] : 0;
    }
    return y;
}
