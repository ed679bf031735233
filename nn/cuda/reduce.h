/* reduce.h: deterministic device reductions shared by the CUDA ops (block partials, then one block; no atomics). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "nn/real.h"

#ifdef __cplusplus
extern "C" {
#endif

/* *out (device double) = the sum of x[0..n) (device), in an order fixed by n alone. */
void cuda_reduce_sum_f(const real_t *x, size_t n, double *out);
void cuda_reduce_sum_d(const double *x, size_t n, double *out);
/* out[0] (device) = (real_t)(num[0] / den[0]), 0 unless den[0] > 0; den NULL: num[0] / d (d > 0). */
void cuda_scalar_ratio(real_t *out, const double *num, const double *den, double d);

/* What a per-channel (or scalar) broadcast factor's gradient sums over n and the plane. */
typedef enum { CS_DOUT, CS_DOUT_A, CS_DOUT_A_NONPOS } ChannelSumKind;
/* grad[c] += sum over n, plane of the kind's term for channel c; scalar: grad[0] += the sum over
 * all channels (added in channel order). a [N,C,plane], dout [N,C,plane], grad on the device. */
void cuda_channel_grad(ChannelSumKind kind, const real_t *a, const real_t *dout, int N, int C, size_t plane,
                       real_t *grad, bool scalar);

#ifdef __cplusplus
}
#endif
