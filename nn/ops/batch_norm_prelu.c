/* batch_norm_prelu.c: prelu(batch_norm(x), a) with running statistics (inference) in one pass, with its own backward to x. */
#include "nn/backend.h"
#include "nn/ops/bn_fold.h"
#include "nn/ops/op_checks.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* Saved for the backward: the folded norm per channel (v = s*x + t) and the slope per channel. */
typedef struct {
    real_t *s, *t, *a; /* [C] each */
} BnPreluSaved;

/* dx (=|+=) s[c] * dy * (v > 0 ? 1 : a[c]), v recomputed from x (the output's sign is not v's when
 * a slope is negative). */
static void batch_norm_prelu_backward(Node *n) {
    if (!node_wants(n, 0)) return;
    Tensor *x = n->in[0];
    const BnPreluSaved *sv = n->saved;
    const real_t *dy = n->out->grad;
    int C = TC(x), NC = TN(x) * C;
    size_t plane = (size_t)TH(x) * TW(x);
    bool acc;
    real_t *dx = tensor_grad_write(x, &acc); /* [N,C,H,W] */
#pragma omp parallel for schedule(static) if ((size_t)NC * plane > 65536)
    for (int nc = 0; nc < NC; nc++) {
        int c = nc % C;
        real_t s = sv->s[c], t = sv->t[c], a = sv->a[c], *d = dx + (size_t)nc * plane;
        const real_t *g = dy + (size_t)nc * plane, *xp = x->data + (size_t)nc * plane;
        for (size_t i = 0; i < plane; i++) d[i] = (acc ? d[i] : 0) + (s * xp[i] + t > 0 ? s : a * s) * g[i];
    }
}

static int slope_count(const Tensor *x, const Tensor *w) {
    size_t nw = tensor_numel(w);
    if (nw == 1 || (nw == (size_t)TC(x) && (TC(w) == TC(x) || TN(w) == TC(x)))) return (int)nw;
    char sx[64], sw[64];
    rn_die("batch_norm_prelu: slope %s does not fit input %s (want [1,%d,1,1] or [1,1,1,1])",
           tensor_shape_str(w, sw, 64), tensor_shape_str(x, sx, 64), TC(x));
}

/* Why: ESPNet follows most convs with BatchNorm then PReLU: two passes and two buffers of one affine
 * map and a select per element. The norm is v = s*x + t in float (op_batch_norm rounds through
 * double: they differ in the last bits). When gamma, beta or the slope want a gradient, or off the
 * host, it is the two ops. */
Tensor *op_batch_norm_prelu(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar, real_t eps,
                            Tensor *slope) {
    if (x->device != DEV_CPU || tape_wants(gamma, beta, slope, NULL))
        return op_prelu(op_batch_norm(x, gamma, beta, rmean, rvar, false, 0, eps), slope);
    batch_norm_check(x, gamma, beta, rmean, rvar, false);
    int C = TC(x), NC = TN(x) * C, na = slope_count(x, slope);
    double t0 = profile_begin();
    size_t plane = (size_t)TH(x) * TW(x);
    BnPreluSaved *sv = arena_alloc(engine_arena(), sizeof *sv);
    sv->s = arena_alloc(engine_arena(), 3 * (size_t)C * sizeof(real_t)), sv->t = sv->s + C, sv->a = sv->t + C;
    bn_fold(gamma, beta, rmean, rvar, eps, C, sv->s, sv->t);
    for (int c = 0; c < C; c++) sv->a[c] = slope->data[na == 1 ? 0 : c];
    Tensor *y = tensor_like(x); /* [N,C,H,W] */
#pragma omp parallel for schedule(static) if ((size_t)NC * plane > 65536)
    for (int nc = 0; nc < NC; nc++) {
        int c = nc % C;
        real_t s = sv->s[c], t = sv->t[c], a = sv->a[c], *o = y->data + (size_t)nc * plane;
        const real_t *xp = x->data + (size_t)nc * plane;
        for (size_t i = 0; i < plane; i++) {
            real_t v = s * xp[i] + t;
            o[i] = v > 0 ? v : a * v;
        }
    }
    if (tape_wants(x, NULL, NULL, NULL))
        tape_push(OP_BATCH_NORM_PRELU, batch_norm_prelu_backward, y, x, NULL, NULL, NULL)->saved = sv;
    profile_end(PROF_FWD, "batch_norm+prelu (fused)", t0);
    return y;
}
