/* test_cuda.c: CPU vs CUDA parity of the CUDA backend's ops (skipped without CUDA or a GPU). */
#include <math.h>
#include <stdlib.h>

#include "nn/gemm.h"
#include "nn/ops/ops.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#ifdef RUNE_CUDA
#include "nn/cuda/cuda.h"
#include "nn/cuda/dnn.h"
#include "util/err.h"
#endif

#ifdef RUNE_CUDA
static float max_diff(const float *a, const float *b, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

static float *to_device(const Tensor *t) {
    float *d = cuda_alloc(tensor_numel(t));
    EXPECT(cuda_upload(d, t->data, tensor_numel(t)) == 0, "%s", rn_errmsg());
    return d;
}
#endif

TEST(cuda_parity_gemm_relu_conv) {
#ifndef RUNE_CUDA
    SKIP("built without CUDA (make CUDA=1)");
#else
    if (!cuda_available()) SKIP(rn_errmsg());
    char info[256];
    cuda_describe(info, sizeof info);
    printf("    device: %s\n", info);
    /* GEMM */
    Tensor *a = tensor_new(1, 1, 37, 29), *b = tensor_new(1, 1, 29, 41), *c = tensor_zeros(1, 1, 37, 41);
    fill_uniform(a, 1, -1, 1), fill_uniform(b, 2, -1, 1);
    gemm(false, false, 37, 41, 29, 1, a->data, 29, b->data, 41, 0, c->data, 41);
    float *da = to_device(a), *db = to_device(b), *dc = cuda_alloc(37 * 41);
    EXPECT(cuda_gemm(false, false, 37, 41, 29, 1, da, 29, db, 41, 0, dc, 41) == 0, "%s", rn_errmsg());
    float *back = malloc(37 * 41 * sizeof(float));
    cuda_download(back, dc, 37 * 41);
    EXPECT(max_diff(back, c->data, 37 * 41) < 1e-4, "gemm parity %g", max_diff(back, c->data, 37 * 41));
    /* ReLU, through the op table on a device tensor */
    Tensor *x = tensor_new(2, 3, 8, 8);
    fill_uniform(x, 3, -1, 1);
    Tensor *y = op_relu(x), *yd = op_relu(tensor_to(x, DEV_CUDA)), *yb = tensor_to(yd, DEV_CPU);
    EXPECT(max_diff(yb->data, y->data, tensor_numel(x)) == 0, "relu parity");
    float *dx = to_device(x);
    /* conv: 3x3, stride 1, pad 1, groups 1 */
    Tensor *w = tensor_new(4, 3, 3, 3), *bias = tensor_new(4, 1, 1, 1);
    fill_uniform(w, 4, -1, 1), fill_uniform(bias, 5, -1, 1);
    Tensor *ref = op_conv2d(x, w, bias, conv_args(1, 1, 1, 1));
    float *dw = to_device(w), *dbias = to_device(bias), *dout = cuda_alloc(tensor_numel(ref));
    CudaConv cv = {.n = 2, .c = 3, .h = 8, .w = 8, .k = 4, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = 1, .pw = 1,
                   .dh = 1, .dw = 1, .groups = 1, .oh = 8, .ow = 8};
    EXPECT(cuda_conv_forward(&cv, dx, dw, 0, dout) == 0, "%s", rn_errmsg());
    EXPECT(cuda_bias_add(2, 4, 8, 8, dbias, dout) == 0, "%s", rn_errmsg());
    float *ob = malloc(tensor_numel(ref) * sizeof(float));
    cuda_download(ob, dout, tensor_numel(ref));
    EXPECT(max_diff(ob, ref->data, tensor_numel(ref)) < 1e-4, "conv parity %g", max_diff(ob, ref->data, tensor_numel(ref)));
#endif
}
