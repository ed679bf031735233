// gemm.cu: row-major GEMM through cuBLAS (column-major underneath), the GPU twin of nn/gemm.c.
#include "nn/cuda/dnn.h"
#include "nn/cuda/cuda_check.h"

extern "C" int cuda_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc) {
    cublasHandle_t h;
    TRY(cuda_blas_handle(&h));
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the same buffers with the
    // operands swapped, no transposes.
    CHECK_CUBLAS(cublasSgemm(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K,
                             &alpha, B, ldb, A, lda, &beta, C, ldc));
    return 0;
}
