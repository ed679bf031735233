/* dnn.h: cuDNN convolution / batch norm and cuBLAS GEMM on raw device pointers (float32, NCHW). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <cublas_v2.h>
#include <cudnn.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "nn/ops/im2col.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* ---- handles, scratch ----------------------------------------------------------------------- */
/* The process's one cuDNN / cuBLAS handle, made on first use with TF32 off (float32 stays float32:
 * CPU parity tolerances stay tight and PyTorch comparisons are fp32 against fp32). */
int cuda_dnn_handle(cudnnHandle_t *h);
int cuda_blas_handle(cublasHandle_t *h);
/* The one shared device scratch buffer (cuDNN workspaces, throw-away outputs), grown to at least
 * `bytes` and never shrunk; NULL (rn_errmsg says why) when it cannot grow. Everything runs on the
 * default stream, so one user at a time: a pointer is valid until the next call. */
void *cuda_workspace(size_t bytes);

/* ---- convolution ---------------------------------------------------------------------------- */
/* One convolution's geometry: x [n,c,h,w] * w [k,c/groups,kh,kw] -> y [n,k,oh,ow]. oh/ow are
 * the caller's (a transposed conv's output_padding picks them): they must be what cuDNN computes. */
typedef struct CudaConv {
    int n, c, h, w;
    int k, kh, kw;
    int sh, sw, ph, pw, dh, dw, groups;
    int oh, ow;
} CudaConv;

/* The CudaConv of a conv over n images with one group's geometry g, `groups` groups and k output channels. */
static inline CudaConv cuda_conv_of(const ConvGeom *g, int n, int groups, int k) {
    CudaConv cv = {n, g->C * groups, g->H, g->W, k, g->kh, g->kw, g->sh, g->sw, g->ph, g->pw, g->dh, g->dw,
                   groups, g->OH, g->OW};
    return cv;
}

/* A conv op's ConvArgs in its tape node (iarg[0..6], as the CPU ops keep them) and back. */
static inline void cuda_conv_args_save(Node *n, ConvArgs a) {
    int v[7] = {a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dil_h, a.dil_w, a.groups};
    for (int i = 0; i < 7; i++) n->iarg[i] = v[i];
}
static inline ConvArgs cuda_conv_args_load(const Node *n) {
    ConvArgs a = {n->iarg[0], n->iarg[1], n->iarg[2], n->iarg[3], n->iarg[4], n->iarg[5], n->iarg[6]};
    return a;
}

/* The Tensor-level ops have no error return: a failed call dies with its message, naming the op. */
static inline void cuda_must(int rc, const char *op) {
    if (rc < 0) rn_die("%s on CUDA: %s", op, rn_errmsg());
}

/* y = conv(x, w) + beta * y (beta 0: overwrite, 1: accumulate). */
int cuda_conv_forward(const CudaConv *cv, const float *x, const float *w, float beta, float *y);
/* dx = conv's adjoint applied to dy + beta * dx (dL/dx of the conv, a transposed conv's forward). */
int cuda_conv_backward_data(const CudaConv *cv, const float *w, const float *dy, float beta, float *dx);
/* dw = sum over images of dy (x) + beta * dw. */
int cuda_conv_backward_filter(const CudaConv *cv, const float *x, const float *dy, float beta, float *dw);
/* y[n,c,:] += b[c] and db[c] = sum of dy[n,c,:] + beta * db[c], over y/dy [n,c,h,w]. */
int cuda_bias_add(int n, int c, int h, int w, const float *b, float *y);
int cuda_bias_grad(int n, int c, int h, int w, const float *dy, float beta, float *db);

/* ---- batch norm (per channel over n,h,w; gamma/beta/stats [c]) -------------------------------- */
/* Training: batch statistics; save_mean / save_istd ([c], for backward) get the batch mean and
 * 1/sqrt(var + eps); rmean / rvar (may both be NULL) move toward the batch as in PyTorch:
 * r = (1-m) r + m * batch, with the unbiased variance. eps >= CUDNN_BN_MIN_EPSILON (0 since cuDNN 8). */
int cuda_bn_forward_train(int n, int c, int h, int w, const float *x, float *y, const float *gamma,
                          const float *beta, double momentum, double eps, float *rmean, float *rvar,
                          float *save_mean, float *save_istd);
/* Inference: y = gamma * (x - rmean) / sqrt(rvar + eps) + beta. */
int cuda_bn_forward_infer(int n, int c, int h, int w, const float *x, float *y, const float *gamma,
                          const float *beta, const float *rmean, const float *rvar, double eps);
/* Backward of the training form: dx, dgamma, dbeta += their gradients (any may be NULL). */
int cuda_bn_backward_train(int n, int c, int h, int w, const float *x, const float *dy, const float *gamma,
                           const float *save_mean, const float *save_istd, double eps, float *dx,
                           float *dgamma, float *dbeta);
/* Backward of the inference form (the statistics are constants): dx += gamma * dy / sqrt(rvar +
 * eps); dgamma, dbeta += sums of dy * xhat and dy (any of the three may be NULL). */
int cuda_bn_backward_infer(int n, int c, int h, int w, const float *x, const float *dy, const float *gamma,
                           const float *rmean, const float *rvar, double eps, float *dx, float *dgamma,
                           float *dbeta);

/* ---- GEMM ------------------------------------------------------------------------------------ */
/* Row-major C[M,N] = alpha * op(A)[M,K] op(B)[K,N] + beta * C, as nn/gemm.h's gemm(), through cuBLAS. */
int cuda_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

#ifdef __cplusplus
}
#endif
