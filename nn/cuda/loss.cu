// loss.cu: l1, mse, bce_with_logits, focal and cross-entropy losses on the device (per-element terms, deterministic sums).
#include <math.h>
#include <string.h>

#include "nn/cuda/cuda_check.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
#include "nn/cuda/reduce.h"
}

// Each loss: a kernel writes one double term per element, cuda_reduce_sum_d adds them in a fixed
// order, out = sum / n. Backward reads dL/dout from the device scalar, so nothing syncs.
typedef enum { LOSS_L1, LOSS_MSE, LOSS_BCE, LOSS_FOCAL } LossKind;

struct LossArgs {
    LossKind kind;
    const float *a, *b, *w; // a: prediction/logits, b: target, w: weights [n] or NULL
    double alpha, gamma;    // focal
};

__device__ double sigmoid_d(double x) {
    if (x >= 0) return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

// The focal terms of nn/ops/focal_loss.c: p, q = 1-p, ce, m = 1 - p_t, a_t.
struct FocalTerms {
    double p, q, ce, m, at;
};

__device__ FocalTerms focal_terms(double x, double t, double alpha) {
    FocalTerms f;
    double e = exp(-fabs(x));
    f.p = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    f.q = x >= 0 ? e / (1 + e) : 1 / (1 + e);
    f.ce = fmax(x, 0.0) - x * t + log1p(e);
    f.m = t * f.q + (1 - t) * f.p;
    f.at = alpha < 0 ? 1 : alpha * t + (1 - alpha) * (1 - t);
    return f;
}

__device__ double loss_term(const LossArgs &L, size_t i) {
    double a = L.a[i], b = L.b[i];
    switch (L.kind) {
    case LOSS_L1: return fabs(a - b);
    case LOSS_MSE: return (a - b) * (a - b);
    case LOSS_BCE: return (L.w ? (double)L.w[i] : 1.0) * (fmax(a, 0.0) - a * b + log1p(exp(-fabs(a))));
    default: {
        FocalTerms f = focal_terms(a, b, L.alpha);
        return f.at * pow(f.m, L.gamma) * f.ce;
    }
    }
}

// dL/da for element i with g = dL/dout / n (double), rounded as the CPU op rounds it.
__device__ float loss_grad(const LossArgs &L, size_t i, double g) {
    float a = L.a[i], b = L.b[i];
    switch (L.kind) {
    case LOSS_L1: {
        float d = a - b;
        return (float)g * (d > 0 ? 1.f : d < 0 ? -1.f : 0.f);
    }
    case LOSS_MSE: return (float)(2 * g) * (a - b);
    case LOSS_BCE: return (float)(g * (L.w ? (double)L.w[i] : 1.0) * (sigmoid_d(a) - (double)b));
    default: {
        FocalTerms f = focal_terms(a, b, L.alpha);
        double d = pow(f.m, L.gamma) * (f.p - b);
        if (L.gamma != 0 && f.m > 0) d += f.ce * L.gamma * pow(f.m, L.gamma - 1) * (1 - 2.0 * b) * f.p * f.q;
        return (float)(g * f.at * d);
    }
    }
}

__global__ void loss_terms(LossArgs L, size_t n, double *terms) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) terms[i] = loss_term(L, i);
}

// da += dL/da; db -= it for l1 and mse (the target of bce and focal never gets a gradient).
__global__ void loss_bwd(LossArgs L, size_t n, const float *dout, float *da, float *db) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = loss_grad(L, i, (double)dout[0] / (double)n);
    if (da) da[i] += g;
    if (db) db[i] -= g;
}

static void loss_backward(Node *nd) {
    LossArgs L = *(const LossArgs *)nd->saved;
    Tensor *a = nd->in[0], *b = nd->in[1];
    bool pair = L.kind == LOSS_L1 || L.kind == LOSS_MSE;
    float *da = node_wants(nd, 0) ? tensor_grad(a) : NULL, *db = pair && node_wants(nd, 1) ? tensor_grad(b) : NULL;
    if (!da && !db) return;
    size_t n = tensor_numel(a);
    loss_bwd<<<cuda_blocks(n), CUDA_THREADS>>>(L, n, nd->out->grad, da, db);
    CHECK_LAUNCH(loss_bwd);
}

static Tensor *elementwise_loss(OpId id, LossArgs L, Tensor *a, Tensor *b) {
    const char *op = op_name(id);
    cuda_need(op, "input", a), cuda_need(op, "target", b);
    char sa[64], sb[64];
    if (!tensor_same_shape(a, b))
        rn_die("%s: shapes %s and %s differ", op, tensor_shape_str(a, sa, sizeof sa), tensor_shape_str(b, sb, sizeof sb));
    size_t n = tensor_numel(a);
    L.a = a->data, L.b = b->data;
    double *terms = (double *)cuda_arena_alloc(n * sizeof(double)), *sum = (double *)cuda_arena_alloc(sizeof(double));
    loss_terms<<<cuda_blocks(n), CUDA_THREADS>>>(L, n, terms);
    CHECK_LAUNCH(loss_terms);
    cuda_reduce_sum_d(terms, n, sum);
    Tensor *out = tensor_new_on(DEV_CUDA, 1, 1, 1, 1); // [1,1,1,1]
    cuda_scalar_ratio(out->data, sum, NULL, (double)n);
    bool pair = L.kind == LOSS_L1 || L.kind == LOSS_MSE;
    if (tape_wants(a, pair ? b : NULL, NULL, NULL)) {
        Node *nd = tape_push(id, loss_backward, out, a, b, NULL, NULL);
        LossArgs *saved = (LossArgs *)arena_alloc(engine_arena(), sizeof *saved);
        *saved = L;
        nd->saved = saved;
    }
    return out;
}

static LossArgs loss_args(LossKind k) {
    LossArgs L;
    memset(&L, 0, sizeof L);
    L.kind = k;
    return L;
}

extern "C" Tensor *cuda_op_l1_loss(Tensor *a, Tensor *b) { return elementwise_loss(OP_L1_LOSS, loss_args(LOSS_L1), a, b); }
extern "C" Tensor *cuda_op_mse_loss(Tensor *a, Tensor *b) { return elementwise_loss(OP_MSE_LOSS, loss_args(LOSS_MSE), a, b); }

extern "C" Tensor *cuda_op_bce_with_logits(Tensor *x, Tensor *t, const real_t *weight) {
    LossArgs L = loss_args(LOSS_BCE);
    L.w = (const float *)cuda_upload_arena(weight, tensor_numel(x) * sizeof(real_t)); // lives until the step ends
    return elementwise_loss(OP_BCE_WITH_LOGITS, L, x, t);
}

extern "C" Tensor *cuda_op_focal_loss(Tensor *x, Tensor *t, real_t alpha, real_t gamma) {
    RN_CHECK(gamma >= 0, "focal_loss: gamma %g must be >= 0", (double)gamma);
    LossArgs L = loss_args(LOSS_FOCAL);
    L.alpha = alpha, L.gamma = gamma;
    return elementwise_loss(OP_FOCAL_LOSS, L, x, t);
}

// ---- softmax cross-entropy over channels against uint8 labels, weighted 'mean' ----

struct CeDev {
    const float *z;           // logits [N,K,H,W]
    const unsigned char *lab; // [N*H*W] on the device
    const float *w;           // [N*H*W] or NULL
    int K, ignore;
    size_t hw;
    double *lse;       // [N*H*W] log-sum-exp, left by forward for backward
    const double *den; // the sum of counted weights (device scalar)
};

// One thread per pixel: lse as the CPU computes it (float exps added in double), its weighted nll.
__global__ void ce_fwd(CeDev c, size_t npix, double *num, double *den) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= npix) return;
    const float *z = c.z + i / c.hw * c.K * c.hw + i % c.hw;
    float mx = z[0];
    for (int k = 1; k < c.K; k++) mx = z[k * c.hw] > mx ? z[k * c.hw] : mx;
    double s = 0;
    for (int k = 0; k < c.K; k++) s += expf(z[k * c.hw] - mx);
    double lse = mx + log(s);
    c.lse[i] = lse;
    int y = c.lab[i];
    double w = y == c.ignore ? 0 : c.w ? (double)c.w[i] : 1.0;
    num[i] = y == c.ignore ? 0 : w * (lse - (double)z[y * c.hw]);
    den[i] = w;
}

// dz_k += dout * w * (softmax_k - [k == y]) / den, each pixel's K logits by its own thread.
__global__ void ce_bwd(CeDev c, size_t npix, const float *dout, float *dz) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= npix) return;
    int y = c.lab[i];
    double den = *c.den;
    if (y == c.ignore || den == 0) return;
    double gw = (double)dout[0] / den * (c.w ? (double)c.w[i] : 1.0);
    if (gw == 0) return;
    size_t base = i / c.hw * c.K * c.hw + i % c.hw;
    for (int k = 0; k < c.K; k++) dz[base + k * c.hw] += (float)(gw * expf((float)(c.z[base + k * c.hw] - c.lse[i])));
    dz[base + y * c.hw] -= (float)gw;
}

static void ce_backward(Node *nd) {
    if (!node_wants(nd, 0)) return;
    const CeDev *c = (const CeDev *)nd->saved;
    size_t npix = (size_t)TN(nd->in[0]) * c->hw;
    ce_bwd<<<cuda_blocks(npix), CUDA_THREADS>>>(*c, npix, nd->out->grad, tensor_grad(nd->in[0]));
    CHECK_LAUNCH(ce_bwd);
}

// Labels are checked on the host (they come from there) with the CPU op's message.
static void ce_check_labels(const unsigned char *labels, size_t npix, int K, int ignore) {
    for (size_t i = 0; i < npix; i++)
        if (labels[i] != ignore && labels[i] >= K)
            rn_die("cross_entropy: label %d at pixel %zu is outside the %d classes (ignore=%d)", labels[i], i, K, ignore);
}

extern "C" Tensor *cuda_op_cross_entropy(Tensor *logits, const unsigned char *labels, int ignore, const real_t *weight) {
    cuda_need("cross_entropy", "logits", logits);
    size_t hw = (size_t)TH(logits) * TW(logits), npix = (size_t)TN(logits) * hw;
    ce_check_labels(labels, npix, TC(logits), ignore);
    CeDev c;
    memset(&c, 0, sizeof c);
    c.z = logits->data, c.K = TC(logits), c.ignore = ignore, c.hw = hw;
    c.lab = (const unsigned char *)cuda_upload_arena(labels, npix);
    c.w = (const float *)cuda_upload_arena(weight, npix * sizeof(real_t));
    c.lse = (double *)cuda_arena_alloc(npix * sizeof(double));                 // [N*H*W]
    double *terms = (double *)cuda_arena_alloc(2 * npix * sizeof(double));    // [2][N*H*W]: nll, weight
    double *sums = (double *)cuda_arena_alloc(2 * sizeof(double));            // num, den
    ce_fwd<<<cuda_blocks(npix), CUDA_THREADS>>>(c, npix, terms, terms + npix);
    CHECK_LAUNCH(ce_fwd);
    cuda_reduce_sum_d(terms, npix, sums);
    cuda_reduce_sum_d(terms + npix, npix, sums + 1);
    c.den = sums + 1;
    Tensor *out = tensor_new_on(DEV_CUDA, 1, 1, 1, 1); // [1,1,1,1]
    cuda_scalar_ratio(out->data, sums, sums + 1, 0);
    if (tape_wants(logits, NULL, NULL, NULL)) {
        Node *nd = tape_push(OP_CROSS_ENTROPY, ce_backward, out, logits, NULL, NULL, NULL);
        CeDev *saved = (CeDev *)arena_alloc(engine_arena(), sizeof *saved);
        *saved = c;
        nd->saved = saved;
    }
    return out;
}
