/* conv_gemm.h: the three GEMM passes shared by conv2d and conv_transpose2d (forward, backward-data, backward-weight). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "nn/ops/im2col.h"

/* Layouts, for a conv with geometry g (one group's view) over N images and G groups, M output
 * channels per group:
 *   x  [N, G*g->C, g->H, g->W]     conv input
 *   w  [G*M, g->C*kh*kw]           PyTorch's [Cout, Cin/G, kh, kw] seen as a matrix
 *   y  [N, G*M, g->OH, g->OW]      conv output
 * `accumulate` adds into the destination instead of overwriting it. All three run their own
 * OpenMP loop with a single-threaded BLAS inside over tasks that write disjoint parts of the
 * destination, each sum taken in a fixed order inside one task: results do not depend on which
 * thread runs a task, so the loops are scheduled dynamically (a busy core does not hold the
 * other back) and stay deterministic for a given thread count (which sets the blocks).
 * Scratch comes from the engine arena and is released before returning. */

/* y (=|+=) conv(x, w), + bias [G*M] (or NULL) when not accumulating. Stride-1 convs take the direct
 * kernel (nn/ops/conv_direct.h) where it applies, the others im2col + GEMM; so does backward-data. */
void conv_gemm_forward(const real_t *x, const real_t *w, const real_t *bias, real_t *y, const ConvGeom *g, int N,
                       int G, int M, bool accumulate);
/* dx (=|+=) conv's adjoint applied to dy (im2col^T of w^T dy): conv2d's dL/dx, conv_transpose2d's forward */
void conv_gemm_backward_data(const real_t *dy, const real_t *w, real_t *dx, const ConvGeom *g, int N, int G,
                             int M, bool accumulate);
/* dw += sum over images of dy * im2col(x)^T; db += dy summed per channel when db is not NULL */
void conv_gemm_backward_weight(const real_t *x, const real_t *dy, real_t *dw, real_t *db, const ConvGeom *g, int N,
                               int G, int M);

/* y[n, c, :] += b[c] over planes of P elements. */
void conv_bias_add(real_t *y, const real_t *b, int N, int C, size_t P);
/* db[c] += sum of dy[n, c, :] over n and the plane. */
void conv_bias_grad(const real_t *dy, real_t *db, int N, int C, size_t P);
