/* gemm.h: the one matrix-multiply entry point of the CPU engine (row-major, C = alpha*op(A)op(B) + beta*C). */
#pragma once
#include <stdbool.h>

#include "nn/real.h"

/* Row-major GEMM: C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
 * lda/ldb/ldc are the row strides of A, B, C as stored. Backed by a real BLAS. */
void gemm(bool trans_a, bool trans_b, int M, int N, int K, real_t alpha, const real_t *A, int lda,
          const real_t *B, int ldb, real_t beta, real_t *C, int ldc);

/* Sets how many threads the BLAS itself uses and returns the previous count. Ops that run their
 * own OpenMP loop around many small GEMMs set 1 for the loop, so the two thread pools never
 * compete for the same cores, then restore. */
int gemm_set_threads(int n);

/* Debian's OpenBLAS 0.3.21 does not recognise this machine's CPU and falls back to SSE3 kernels
 * (3x slower). OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so when the variable is unset
 * and the CPU has AVX-512 this sets it and re-executes the program once (argv unchanged). */
void gemm_select_kernels(char **argv);
