/* broadcast.c: shape checks for binary elementwise ops. */
#include "nn/ops/broadcast.h"

#include "util/err.h"

BroadcastKind broadcast_kind(const char *op, const Tensor *a, const Tensor *b) {
    if (tensor_same_shape(a, b)) return BC_SAME;
    size_t nb = tensor_numel(b);
    if (nb == 1) return BC_SCALAR;
    if (nb == (size_t)TC(a) && (TC(b) == TC(a) || TN(b) == TC(a))) return BC_CHANNEL;
    char sa[64], sb[64];
    rn_die("%s: shapes %s and %s do not broadcast", op, tensor_shape_str(a, sa, 64), tensor_shape_str(b, sb, 64));
}
