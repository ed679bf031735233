/* batch_norm.c: per-channel batch normalisation (training: batch stats + running update; inference: running stats). */
#include <math.h>

#include "nn/backend.h"
#include "nn/ops/op_checks.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* What backward needs: the statistics the forward actually normalised with, per channel. */
typedef struct {
    double *mean; /* [C] */
    double *istd; /* [C] 1/sqrt(var + eps) */
} BnSaved;

/* A per-channel vector may be [1,C,1,1] or [C,1,1,1] (a PyTorch [C] tensor read from a file). */
static void check_per_channel(const Tensor *t, int C, const char *what) {
    if (!t) return;
    bool ok = tensor_numel(t) == (size_t)C && (TC(t) == C || TN(t) == C);
    char s[64];
    if (!ok) rn_die("batch_norm: %s is %s, want [1,%d,1,1]", what, tensor_shape_str(t, s, sizeof s), C);
}

void batch_norm_check(const Tensor *x, const Tensor *gamma, const Tensor *beta, const Tensor *rmean,
                      const Tensor *rvar, bool training) {
    int C = TC(x);
    check_per_channel(gamma, C, "gamma");
    check_per_channel(beta, C, "beta");
    check_per_channel(rmean, C, "running_mean");
    check_per_channel(rvar, C, "running_var");
    if (!training && (!rmean || !rvar)) rn_die("batch_norm: inference needs running_mean and running_var");
    size_t M = (size_t)TN(x) * TH(x) * TW(x);
    if (training && M < 2) rn_die("batch_norm: training needs more than one value per channel (got %zu)", M);
}

static inline double gamma_at(const Tensor *g, int c) { return g ? (double)g->data[c] : 1.0; }
static inline double beta_at(const Tensor *b, int c) { return b ? (double)b->data[c] : 0.0; }

/* Batch mean and biased variance of channel c (two passes: stable for large offsets). The simd
 * reductions reorder sums by vector lane: fixed for a given build, so still deterministic. */
static void channel_stats(const Tensor *x, int c, double *mean, double *var) {
    int N = TN(x), C = TC(x);
    size_t plane = (size_t)TH(x) * TW(x), M = (size_t)N * plane;
    double s = 0, ss = 0;
    for (int n = 0; n < N; n++) {
        const real_t *xp = x->data + ((size_t)n * C + c) * plane; /* [H*W] */
#pragma omp simd reduction(+ : s)
        for (size_t i = 0; i < plane; i++) s += xp[i];
    }
    double mu = s / (double)M;
    for (int n = 0; n < N; n++) {
        const real_t *xp = x->data + ((size_t)n * C + c) * plane; /* [H*W] */
#pragma omp simd reduction(+ : ss)
        for (size_t i = 0; i < plane; i++) ss += (xp[i] - mu) * (xp[i] - mu);
    }
    *mean = mu;
    *var = ss / (double)M;
}

/* Training statistics; running stats move toward the batch with PyTorch's unbiased variance. */
static void batch_stats(const Tensor *x, Tensor *rmean, Tensor *rvar, double momentum, double eps, BnSaved *sv) {
    int C = TC(x);
    size_t M = (size_t)TN(x) * TH(x) * TW(x);
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double mu, var;
        channel_stats(x, c, &mu, &var);
        sv->mean[c] = mu;
        sv->istd[c] = 1.0 / sqrt(var + eps);
        if (rmean) rmean->data[c] = (real_t)((1 - momentum) * rmean->data[c] + momentum * mu);
        if (rvar) rvar->data[c] = (real_t)((1 - momentum) * rvar->data[c] + momentum * var * (double)M / (double)(M - 1));
    }
}

/* y = gamma * (x - mean) * istd + beta, as one scale and shift per channel. */
static void normalise(const Tensor *x, const Tensor *gamma, const Tensor *beta, const BnSaved *sv, Tensor *out) {
    int N = TN(x), C = TC(x);
    size_t plane = (size_t)TH(x) * TW(x);
#pragma omp parallel for schedule(static)
    for (int nc = 0; nc < N * C; nc++) {
        int c = nc % C;
        double k = gamma_at(gamma, c) * sv->istd[c];
        double b = beta_at(beta, c) - sv->mean[c] * k;
        const real_t *xp = x->data + (size_t)nc * plane; /* [H*W] */
        real_t *yp = out->data + (size_t)nc * plane;     /* [H*W] */
        for (size_t i = 0; i < plane; i++) yp[i] = (real_t)(xp[i] * k + b);
    }
}

/* Per-channel sums of dy and dy * xhat, the two reductions every gradient needs. */
static void channel_sums(const Tensor *x, const real_t *dy, const BnSaved *sv, int c, double *sdy, double *sdyx) {
    int N = TN(x), C = TC(x);
    size_t plane = (size_t)TH(x) * TW(x);
    double mu = sv->mean[c], is = sv->istd[c], s = 0, sx = 0;
    for (int n = 0; n < N; n++) {
        size_t off = ((size_t)n * C + c) * plane;
#pragma omp simd reduction(+ : s, sx)
        for (size_t i = 0; i < plane; i++) {
            s += dy[off + i];
            sx += dy[off + i] * (x->data[off + i] - mu) * is;
        }
    }
    *sdy = s, *sdyx = sx;
}

/* dx for one channel. Training: the batch statistics depend on x, which gives the two mean terms;
 * inference: the statistics are constants, so dx is a plain per-channel scale of dy. Either way
 * dx = k*dy + kx*x + k0 per channel, one fused multiply-add chain per element. */
static void channel_dx(const Tensor *x, const real_t *dy, real_t *dx, const BnSaved *sv, int c, double g,
                       double sdy, double sdyx, bool training) {
    int N = TN(x), C = TC(x);
    size_t plane = (size_t)TH(x) * TW(x);
    double mu = sv->mean[c], is = sv->istd[c], M = (double)N * (double)plane;
    double a = training ? sdy / M : 0, b = training ? sdyx / M : 0;
    /* g*is*(dy - a - (x - mu)*is*b) expanded */
    real_t k = (real_t)(g * is), kx = (real_t)(-g * is * is * b), k0 = (real_t)(g * is * (mu * is * b - a));
    for (int n = 0; n < N; n++) {
        size_t off = ((size_t)n * C + c) * plane;
        real_t *d = dx + off;
        const real_t *yp = dy + off, *xp = x->data + off;
        for (size_t i = 0; i < plane; i++) d[i] += k * yp[i] + kx * xp[i] + k0;
    }
}

static void batch_norm_backward(Node *n) {
    Tensor *x = n->in[0], *gamma = n->in[1], *beta = n->in[2];
    const BnSaved *sv = n->saved;
    const real_t *dy = n->out->grad; /* [N,C,H,W] */
    bool training = n->iarg[0];
    bool want_x = node_wants(n, 0), want_g = node_wants(n, 1), want_b = node_wants(n, 2);
    real_t *dx = want_x ? tensor_grad(x) : NULL;    /* [N,C,H,W] */
    real_t *dg = want_g ? tensor_grad(gamma) : NULL; /* [C] */
    real_t *db = want_b ? tensor_grad(beta) : NULL;  /* [C] */
    int C = TC(x);
    /* one channel per iteration: every write below belongs to that channel alone */
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double sdy = 0, sdyx = 0;
        /* a frozen model in inference (ASR trains through one) needs no sums at all */
        if (training || dg || db) channel_sums(x, dy, sv, c, &sdy, &sdyx);
        if (dg) dg[c] += (real_t)sdyx;
        if (db) db[c] += (real_t)sdy;
        if (dx) channel_dx(x, dy, dx, sv, c, gamma_at(gamma, c), sdy, sdyx, training);
    }
}

/* Inference statistics: the running ones, copied so later updates cannot change this node. */
static void running_stats(const Tensor *rmean, const Tensor *rvar, double eps, BnSaved *sv, int C) {
    for (int c = 0; c < C; c++) {
        sv->mean[c] = rmean->data[c];
        sv->istd[c] = 1.0 / sqrt((double)rvar->data[c] + eps);
    }
}

Tensor *op_batch_norm(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar, bool training,
                      real_t momentum, real_t eps) {
    OPS_DISPATCH(batch_norm, ops_device(x, gamma), x, gamma, beta, rmean, rvar, training, momentum, eps);
    int C = TC(x);
    batch_norm_check(x, gamma, beta, rmean, rvar, training);
    BnSaved *sv = arena_alloc(engine_arena(), sizeof *sv);
    sv->mean = arena_alloc(engine_arena(), (size_t)C * sizeof(double));
    sv->istd = arena_alloc(engine_arena(), (size_t)C * sizeof(double));
    if (training) batch_stats(x, rmean, rvar, momentum, eps, sv);
    else running_stats(rmean, rvar, eps, sv, C);
    Tensor *out = tensor_like(x); /* [N,C,H,W] */
    normalise(x, gamma, beta, sv, out);
    /* running stats are buffers: never tape inputs, never a gradient */
    if (tape_wants(x, gamma, beta, NULL)) {
        Node *n = tape_push(OP_BATCH_NORM, batch_norm_backward, out, x, gamma, beta, NULL);
        n->saved = sv;
        n->iarg[0] = training;
    }
    return out;
}
