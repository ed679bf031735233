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

/* part[c] = sum over n and the plane of dout * a (only a <= 0 when nonpos_only) for channel c;
 * simd lanes are fixed by the build. */
static void channel_sums(const Tensor *a, const real_t *dout, bool nonpos_only, double *part) {
    int N = TN(a), C = TC(a);
    size_t plane = (size_t)TH(a) * TW(a);
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int n = 0; n < N; n++) {
            const real_t *x = a->data + ((size_t)n * C + c) * plane, *d = dout + ((size_t)n * C + c) * plane;
            if (nonpos_only) {
#pragma omp simd reduction(+ : s)
                for (size_t i = 0; i < plane; i++) s += x[i] > 0 ? 0.0 : (double)d[i] * x[i];
            } else {
#pragma omp simd reduction(+ : s)
                for (size_t i = 0; i < plane; i++) s += (double)d[i] * x[i];
            }
        }
        part[c] = s;
    }
}

void broadcast_channel_grad(const Tensor *a, const real_t *dout, bool nonpos_only, real_t *grad, bool scalar) {
    int C = TC(a);
    double *part = arena_alloc(engine_arena(), (size_t)C * sizeof(double)); /* [C] */
    channel_sums(a, dout, nonpos_only, part);
    double s = 0;
    for (int c = 0; c < C; c++) {
        if (scalar) s += part[c];
        else grad[c] += (real_t)part[c];
    }
    if (scalar) grad[0] += (real_t)s;
}
