// dnn_fallback.cu: weak stand-ins for cuda-dnn's cuDNN ops (conv2d, conv_transpose2d, batch_norm), so this branch links alone.
#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
}

// The strong definitions in cuda-dnn's files replace these at link time; until then a model that
// reaches one on the GPU stops with a message instead of a missing symbol.
extern "C" __attribute__((weak)) Tensor *cuda_op_conv2d(Tensor *, Tensor *, Tensor *, ConvArgs) {
    rn_die("conv2d on cuda: not built (cuDNN convolution is nn/cuda's cuda-dnn part)");
}

extern "C" __attribute__((weak)) Tensor *cuda_op_conv_transpose2d(Tensor *, Tensor *, Tensor *, ConvArgs, int, int) {
    rn_die("conv_transpose2d on cuda: not built (cuDNN convolution is nn/cuda's cuda-dnn part)");
}

extern "C" __attribute__((weak)) Tensor *cuda_op_batch_norm(Tensor *, Tensor *, Tensor *, Tensor *, Tensor *, bool,
                                                           real_t, real_t) {
    rn_die("batch_norm on cuda: not built (cuDNN batch norm is nn/cuda's cuda-dnn part)");
}
