/* focal_loss.c: sigmoid focal loss (Lin et al.), mean over elements, torchvision's formulation. */
#include <math.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/reduce.h"

/* Per element, with p = sigmoid(x):
 *   ce  = -[t log p + (1-t) log(1-p)]          (stable: max(x,0) - x t + log1p(exp(-|x|)))
 *   m   = 1 - p_t = t (1-p) + (1-t) p
 *   a_t = alpha t + (1-alpha)(1-t)             (1 when alpha < 0)
 *   l   = a_t * m^gamma * ce
 * For binary t this is exactly -a_t (1-p_t)^gamma log(p_t) (ops.h); for soft t it matches
 * torchvision.ops.sigmoid_focal_loss, the de-facto reference. */
typedef struct {
    const real_t *x, *t;
    double alpha, gamma;
} FocalCtx;

typedef struct {
    double p, q, ce, m, at; /* sigmoid(x), 1 - sigmoid(x), ce, 1 - p_t, alpha_t */
} FocalTerms;

static inline FocalTerms focal_terms(double x, double t, double alpha) {
    FocalTerms f;
    double e = exp(-fabs(x)); /* in (0,1]: no overflow on either side */
    f.p = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    f.q = x >= 0 ? e / (1 + e) : 1 / (1 + e); /* 1 - p without cancellation */
    f.ce = fmax(x, 0) - x * t + log1p(e);
    f.m = t * f.q + (1 - t) * f.p;
    f.at = alpha < 0 ? 1 : alpha * t + (1 - alpha) * (1 - t);
    return f;
}

static void focal_block(size_t lo, size_t hi, const void *ctx, double acc[2]) {
    const FocalCtx *c = ctx;
    double s = 0;
    for (size_t i = lo; i < hi; i++) {
        FocalTerms f = focal_terms(c->x[i], c->t[i], c->alpha);
        s += f.at * pow(f.m, c->gamma) * f.ce;
    }
    acc[0] = s;
}

/* dl/dx = a_t [ m^g (p - t) + ce g m^(g-1) dm/dx ],  dm/dx = (1 - 2t) p (1-p). */
static inline double focal_dx(double x, double t, double alpha, double gamma) {
    FocalTerms f = focal_terms(x, t, alpha);
    double d = pow(f.m, gamma) * (f.p - t);
    /* m = 0 only where p(1-p) = 0 too, and there the second term vanishes */
    if (gamma != 0 && f.m > 0) d += f.ce * gamma * pow(f.m, gamma - 1) * (1 - 2 * t) * f.p * f.q;
    return f.at * d;
}

static void focal_backward(Node *n) {
    Tensor *x = n->in[0], *t = n->in[1];
    if (!node_wants(n, 0)) return; /* the target never gets a gradient */
    double alpha = n->farg[0], gamma = n->farg[1];
    size_t total = tensor_numel(x);
    double g = n->out->grad[0] / (double)total;
    real_t *dx = tensor_grad(x); /* [numel(x)] */
#pragma omp parallel for schedule(static) if (total > 16384)
    for (size_t i = 0; i < total; i++) dx[i] += (real_t)(g * focal_dx(x->data[i], t->data[i], alpha, gamma));
}

Tensor *op_focal_loss(Tensor *x, Tensor *t, real_t alpha, real_t gamma) {
    OPS_DISPATCH(focal_loss, ops_device(x, t), x, t, alpha, gamma);
    char sx[64], st[64];
    if (!tensor_same_shape(x, t))
        rn_die("focal_loss: logits %s and targets %s differ in shape", tensor_shape_str(x, sx, sizeof sx),
               tensor_shape_str(t, st, sizeof st));
    RN_CHECK(gamma >= 0, "focal_loss: gamma %g must be >= 0", (double)gamma);
    size_t total = tensor_numel(x);
    FocalCtx c = {x->data, t->data, alpha, gamma};
    double s[2];
    reduce_blocks(total, focal_block, &c, s);
    Tensor *out = tensor_new(1, 1, 1, 1); /* [1,1,1,1] */
    out->data[0] = (real_t)(s[0] / (double)total);
    if (tape_wants(x, NULL, NULL, NULL)) {
        Node *n = tape_push(OP_FOCAL_LOSS, focal_backward, out, x, t, NULL, NULL);
        n->farg[0] = alpha, n->farg[1] = gamma;
    }
    return out;
}
