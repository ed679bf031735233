/* cross_entropy.c: softmax cross-entropy over channels against uint8 labels, weighted 'mean'. */
#include <math.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "nn/ops/reduce.h"

/* Pixels are processed in runs of at most CE_RUN within one image, channel-outer and pixel-inner,
 * so every inner loop walks contiguous memory of one channel plane. */
#define CE_RUN 256

typedef struct {
    const real_t *z;          /* logits [N,K,H,W] */
    const unsigned char *lab; /* [N*H*W] */
    const real_t *w;          /* [N*H*W] or NULL */
    int K, ignore;
    size_t hw;
    double *lse_out; /* [N*H*W]: forward leaves log-sum-exp here for backward, or NULL */
} CeCtx;

/* exp in the engine's precision: expf in the float build is ~3x cheaper than exp, and the
 * sums it feeds are still accumulated in double. */
static inline real_t rexp(real_t v) {
#ifdef RUNE_DOUBLE
    return exp(v);
#else
    return expf(v);
#endif
}

/* For pixels [off, off+len) of image img: lse[p] = log sum_k exp(z_k). */
static void ce_logsumexp(const CeCtx *c, size_t img, size_t off, size_t len, double *lse) {
    const real_t *z = c->z + img * (size_t)c->K * c->hw + off;
    real_t mx[CE_RUN];
    for (size_t p = 0; p < len; p++) mx[p] = z[p], lse[p] = 0;
    for (int k = 1; k < c->K; k++)
        for (size_t p = 0; p < len; p++) mx[p] = z[k * c->hw + p] > mx[p] ? z[k * c->hw + p] : mx[p];
    for (int k = 0; k < c->K; k++)
        for (size_t p = 0; p < len; p++) lse[p] += rexp(z[k * c->hw + p] - mx[p]);
    for (size_t p = 0; p < len; p++) lse[p] = mx[p] + log(lse[p]);
}

static bool ce_counted(const CeCtx *c, size_t i) {
    int y = c->lab[i];
    if (y == c->ignore) return false;
    if (y >= c->K) rn_die("cross_entropy: label %d at pixel %zu is outside the %d classes (ignore=%d)", y, i, c->K, c->ignore);
    return true;
}

/* Length of the run of pixels starting at flat pixel i0: stops at hi, at the end of the image
 * and at CE_RUN. */
static size_t ce_run_len(const CeCtx *c, size_t i0, size_t hi) {
    size_t len = hi - i0, left = c->hw - i0 % c->hw;
    if (len > left) len = left;
    return len < CE_RUN ? len : CE_RUN;
}

static void ce_block(size_t lo, size_t hi, const void *ctx, double acc[2]) {
    const CeCtx *c = ctx;
    double num = 0, den = 0, lse[CE_RUN];
    for (size_t i0 = lo, len; i0 < hi; i0 += len) {
        len = ce_run_len(c, i0, hi);
        size_t img = i0 / c->hw, off = i0 % c->hw;
        ce_logsumexp(c, img, off, len, lse);
        if (c->lse_out) memcpy(c->lse_out + i0, lse, len * sizeof *lse);
        const real_t *z = c->z + img * (size_t)c->K * c->hw + off;
        for (size_t p = 0; p < len; p++) {
            size_t i = i0 + p;
            if (!ce_counted(c, i)) continue;
            double w = c->w ? (double)c->w[i] : 1.0;
            num += w * (lse[p] - (double)z[c->lab[i] * c->hw + p]);
            den += w;
        }
    }
    acc[0] = num, acc[1] = den;
}

/* dz_k = dout * w * (softmax_k - [k == y]) / sum(w); softmax_k = exp(z_k - lse) from the saved lse. */
static void ce_backward(Node *n) {
    if (!node_wants(n, 0)) return;
    Tensor *x = n->in[0];
    CeCtx c = *(const CeCtx *)n->saved;
    double den = n->farg[0];
    if (den == 0) return; /* nothing counted: the loss is a constant 0 */
    double g = n->out->grad[0] / den;
    real_t *dz = tensor_grad(x); /* [N,K,H,W] */
    size_t npix = (size_t)TN(x) * c.hw, nb = (npix + REDUCE_BLOCK - 1) / REDUCE_BLOCK;
#pragma omp parallel for schedule(static) if (nb > 1)
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * REDUCE_BLOCK, hi = lo + REDUCE_BLOCK < npix ? lo + REDUCE_BLOCK : npix;
        double gw[CE_RUN];
        for (size_t i0 = lo, len; i0 < hi; i0 += len) {
            len = ce_run_len(&c, i0, hi);
            size_t img = i0 / c.hw, off = i0 % c.hw;
            const double *lse = c.lse_out + i0; /* saved by forward */
            for (size_t p = 0; p < len; p++) {
                size_t i = i0 + p;
                gw[p] = !ce_counted(&c, i) ? 0 : g * (c.w ? (double)c.w[i] : 1.0);
            }
            size_t base = img * (size_t)c.K * c.hw + off;
            for (int k = 0; k < c.K; k++)
                for (size_t p = 0; p < len; p++)
                    if (gw[p] != 0)
                        dz[base + k * c.hw + p] += (real_t)(gw[p] * rexp((real_t)(c.z[base + k * c.hw + p] - lse[p])));
            for (size_t p = 0; p < len; p++)
                if (gw[p] != 0) dz[base + c.lab[i0 + p] * c.hw + p] -= (real_t)gw[p];
        }
    }
}

Tensor *op_cross_entropy(Tensor *logits, const unsigned char *labels, int ignore, const real_t *weight) {
    OPS_DISPATCH(cross_entropy, logits->device, logits, labels, ignore, weight);
    size_t hw = (size_t)TH(logits) * TW(logits), npix = (size_t)TN(logits) * hw;
    bool record = tape_wants(logits, NULL, NULL, NULL);
    CeCtx c = {logits->data, labels, weight, TC(logits), ignore, hw, NULL};
    if (record) c.lse_out = arena_alloc(engine_arena(), npix * sizeof(double)); /* [N*H*W] */
    double s[2];
    reduce_blocks(npix, ce_block, &c, s);
    Tensor *out = tensor_new(1, 1, 1, 1); /* [1,1,1,1] */
    out->data[0] = s[1] > 0 ? (real_t)(s[0] / s[1]) : 0;
    if (record) {
        Node *n = tape_push(OP_CROSS_ENTROPY, ce_backward, out, logits, NULL, NULL, NULL);
        /* the caller's label and weight buffers may be gone by backward time: keep copies */
        Arena *ar = engine_arena();
        unsigned char *lab = arena_alloc(ar, npix);
        memcpy(lab, labels, npix);
        c.lab = lab;
        if (weight) {
            real_t *w = arena_alloc(ar, npix * sizeof(real_t));
            memcpy(w, weight, npix * sizeof(real_t));
            c.w = w;
        }
        CeCtx *saved = arena_alloc(ar, sizeof *saved);
        *saved = c;
        n->saved = saved;
        n->farg[0] = s[1];
    }
    return out;
}
