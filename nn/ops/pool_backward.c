/* pool_backward.c: plane-parallel input gradient of the pooling ops, accumulated in double. */
#include "nn/ops/pool_backward.h"

#include <stdlib.h>
#include <string.h>

#include "nn/ops/ops.h"
#include "util/err.h"

void pool_backward(Node *n, PoolPlaneBackward fn) {
    if (!node_wants(n, 0)) return;
    Tensor *x = n->in[0], *out = n->out;
    size_t hw = (size_t)TH(x) * TW(x), ohw = (size_t)TH(out) * TW(out);
    int planes = TN(x) * TC(x);
    real_t *dx = tensor_grad(x); /* [N,C,H,W] */
    /* one plane per iteration: windows only share inputs within a plane */
#pragma omp parallel if (planes > 1 && (size_t)planes * hw > 16384)
    {
        double *acc = xmalloc(hw * sizeof *acc); /* [H,W] per thread */
#pragma omp for schedule(static)
        for (int q = 0; q < planes; q++) {
            memset(acc, 0, hw * sizeof *acc);
            fn(n, q, out->grad + (size_t)q * ohw, acc);
            real_t *gi = dx + (size_t)q * hw; /* [H,W] */
            for (size_t i = 0; i < hw; i++) gi[i] += (real_t)acc[i];
        }
        free(acc);
    }
}
