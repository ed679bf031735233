/* concat.c: concatenation of n tensors along channels. */
#include <string.h>

#include "nn/backend.h"
#include "nn/ops/ops.h"
#include "util/err.h"

/* Inputs beyond the node's NODE_MAX_IN slots: the full list lives here. */
typedef struct {
    int n;
    Tensor **xs; /* [n] */
} ConcatSaved;

static void check_inputs(Tensor **xs, int n) {
    if (n < 1) rn_die("concat: no inputs");
    for (int i = 1; i < n; i++) {
        if (TN(xs[i]) == TN(xs[0]) && TH(xs[i]) == TH(xs[0]) && TW(xs[i]) == TW(xs[0])) continue;
        char s0[64], si[64];
        rn_die("concat: input %d is %s, input 0 is %s (N, H, W must agree)", i, tensor_shape_str(xs[i], si, 64),
               tensor_shape_str(xs[0], s0, 64));
    }
}

/* Input i occupies channels [c0, c0 + C_i) of every sample of the output. */
static void concat_backward(Node *nd) {
    const ConcatSaved *sv = nd->saved;
    Tensor *out = nd->out;
    const real_t *dout = out->grad; /* [N,Ctot,H,W] */
    int N = TN(out), Ctot = TC(out);
    size_t plane = (size_t)TH(out) * TW(out);
    int c0 = 0;
    /* inputs one after another: the same tensor may appear twice, and its two slices must not
     * be accumulated by two threads at once */
    for (int i = 0; i < sv->n; i++) {
        Tensor *x = sv->xs[i];
        if (x->requires_grad) {
            bool acc; /* a tensor given twice: its first slice stores, the second adds */
            real_t *dx = tensor_grad_write(x, &acc); /* [N,C_i,H,W] */
            int C = TC(x);
#pragma omp parallel for schedule(static) if ((size_t)N * C * plane > 65536)
            for (int t = 0; t < N * C; t++) {
                const real_t *src = dout + ((size_t)(t / C) * Ctot + c0 + t % C) * plane;
                real_t *dst = dx + (size_t)t * plane;
                if (!acc) memcpy(dst, src, plane * sizeof *dst);
                else
                    for (size_t j = 0; j < plane; j++) dst[j] += src[j];
            }
        }
        c0 += TC(x);
    }
}

static bool any_wants(Tensor **xs, int n) {
    if (!engine_grad_enabled()) return false;
    for (int i = 0; i < n; i++)
        if (xs[i]->requires_grad) return true;
    return false;
}

Tensor *op_concat(Tensor **xs, int n) {
    if (n < 1) rn_die("concat: no inputs"); /* before xs[0] is read */
    OPS_DISPATCH(concat, xs[0]->device, xs, n);
    check_inputs(xs, n);
    int N = TN(xs[0]), Ctot = 0;
    for (int i = 0; i < n; i++) Ctot += TC(xs[i]);
    Tensor *out = tensor_new(N, Ctot, TH(xs[0]), TW(xs[0])); /* [N,sum C_i,H,W] */
    size_t plane = (size_t)TH(out) * TW(out);
    /* one plane a task, not one sample: inference's batch of one kept a single thread copying
     * (CARN-M's concats were 9 % of its forward at 1 busy thread) */
    int *from = arena_alloc(engine_arena(), 2 * (size_t)Ctot * sizeof *from), *chan = from + Ctot;
    for (int i = 0, c = 0; i < n; i++)
        for (int k = 0; k < TC(xs[i]); k++, c++) from[c] = i, chan[c] = k;
#pragma omp parallel for schedule(static) if ((size_t)N * Ctot * plane > 65536)
    for (int t = 0; t < N * Ctot; t++) {
        int smp = t / Ctot, c = t % Ctot;
        const Tensor *x = xs[from[c]];
        memcpy(out->data + (size_t)t * plane, x->data + ((size_t)smp * TC(x) + chan[c]) * plane, plane * sizeof(real_t));
    }
    if (any_wants(xs, n)) {
        ConcatSaved *sv = arena_alloc(engine_arena(), sizeof *sv);
        sv->n = n;
        sv->xs = arena_alloc(engine_arena(), (size_t)n * sizeof *sv->xs);
        memcpy(sv->xs, xs, (size_t)n * sizeof *sv->xs);
        /* the first inputs go in the node's slots too, for anyone walking the tape */
        Node *nd = tape_push(OP_CONCAT, concat_backward, out, xs[0], n > 1 ? xs[1] : NULL, n > 2 ? xs[2] : NULL,
                             n > 3 ? xs[3] : NULL);
        nd->saved = sv;
    }
    return out;
}
