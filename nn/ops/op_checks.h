/* op_checks.h: argument checks (dying with the CPU op's message) and output geometry that every backend's op shares. */
#pragma once
#include <stdbool.h>

#include "nn/ops/im2col.h"
#include "nn/ops/ops.h"

/* op_conv2d's arguments checked; one group's geometry of x [N,Cin,H,W] * w [Cout,Cin/g,kh,kw]. */
ConvGeom conv2d_checked_geom(const Tensor *x, const Tensor *w, const Tensor *b, ConvArgs a);
/* op_conv_transpose2d's arguments checked; the geometry of the conv whose adjoint it is (that
 * conv's input [C*g,H,W] is this op's output, its output [OH,OW] this op's input plane). */
ConvGeom conv_transpose2d_checked_geom(const Tensor *x, const Tensor *w, const Tensor *b, ConvArgs a, int oph,
                                       int opw);
/* op_batch_norm's arguments checked (per-channel shapes, running stats for inference, more than
 * one value per channel for training). */
void batch_norm_check(const Tensor *x, const Tensor *gamma, const Tensor *beta, const Tensor *rmean,
                      const Tensor *rvar, bool training);
