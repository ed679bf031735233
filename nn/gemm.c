/* gemm.c: GEMM through CBLAS (OpenBLAS), in the engine's precision. */
#include "nn/gemm.h"

#include <cblas.h>

void gemm(bool trans_a, bool trans_b, int M, int N, int K, real_t alpha, const real_t *A, int lda,
          const real_t *B, int ldb, real_t beta, real_t *C, int ldc) {
#ifdef RUNE_DOUBLE
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

int gemm_set_threads(int n) {
    int old = openblas_get_num_threads();
    if (n != old) openblas_set_num_threads(n);
    return old;
}

#include <stdlib.h>
#include <unistd.h>

void gemm_select_kernels(char **argv) {
    if (getenv("OPENBLAS_CORETYPE") || getenv("RUNE_NO_REEXEC")) return;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return;
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    execv("/proc/self/exe", argv); /* on failure, carry on with the default kernels */
}
