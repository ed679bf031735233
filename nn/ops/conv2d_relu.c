/* conv2d_relu.c: relu(conv2d(x, w, b)) for inference in one pass (the ReLU applied as the conv stores its output). */
#include "nn/backend.h"
#include "nn/ops/conv_direct.h"
#include "nn/ops/conv_gemm.h"
#include "nn/ops/op_checks.h"
#include "nn/ops/ops.h"

/* Why not an op of its own on the tape: training needs conv2d's and relu's backward as they are,
 * so under autograd (and off the host) this is exactly op_relu(op_conv2d(...)). Without a tape the
 * fused store saves a read and a write of the whole output per conv: CARN-M's inference has a
 * ReLU after 32 of its 45 convs, the largest 44 MB at 480x360. */
Tensor *op_conv2d_relu(Tensor *x, Tensor *w, Tensor *b, ConvArgs a) {
    if (ops_device(x, w) != DEV_CPU || tape_wants(x, w, b, NULL)) return op_relu(op_conv2d(x, w, b, a));
    double t = profile_begin();
    ConvGeom g = conv2d_checked_geom(x, w, b, a);
    int N = TN(x), G = a.groups, M = TN(w) / G;
    Tensor *y = tensor_new(N, TN(w), g.OH, g.OW); /* [N,Cout,OH,OW] */
    const real_t *bias = b ? b->data : NULL;
    if (!conv_direct_forward_relu(x->data, w->data, bias, y->data, &g, N, G, M)) {
        conv_gemm_forward(x->data, w->data, bias, y->data, &g, N, G, M, false);
        size_t total = tensor_numel(y);
#pragma omp parallel for schedule(static) if (total > 65536)
        for (size_t i = 0; i < total; i++) y->data[i] = y->data[i] > 0 ? y->data[i] : 0;
    }
    profile_end(PROF_FWD, "conv2d+relu (fused)", t);
    return y;
}
