/* tape.c: the node list and the reverse walk. */
#include "nn/tape.h"

#include <string.h>

#include "nn/backend.h"
#include "util/err.h"

static Node **g_nodes;
static int g_len, g_cap;

bool tape_wants(Tensor *a, Tensor *b, Tensor *c, Tensor *d) {
    if (!engine_grad_enabled()) return false;
    return (a && a->requires_grad) || (b && b->requires_grad) || (c && c->requires_grad) ||
           (d && d->requires_grad);
}

Node *tape_push(OpId op, BackwardFn fn, Tensor *out, Tensor *a, Tensor *b, Tensor *c, Tensor *d) {
    if (g_len == g_cap) {
        g_cap = g_cap ? 2 * g_cap : 1024;
        g_nodes = xrealloc(g_nodes, (size_t)g_cap * sizeof *g_nodes);
    }
    Node *n = arena_zalloc(engine_arena(), sizeof *n);
    n->op = op;
    n->backward = fn;
    n->out = out;
    n->in[0] = a, n->in[1] = b, n->in[2] = c, n->in[3] = d;
    out->requires_grad = true;
    g_nodes[g_len++] = n;
    return n;
}

/* dL/d(out) += seed (or 1), on out's device: a device seed is uploaded into its arena first. */
static void seed_grad(Tensor *out, const real_t *seed) {
    real_t *g = tensor_grad(out);
    size_t n = tensor_numel(out);
    if (out->device == DEV_CPU) {
        for (size_t i = 0; i < n; i++) g[i] += seed ? seed[i] : (real_t)1;
        return;
    }
    const OpsBackend *b = ops_backend(out->device, "tape_backward");
    real_t *s = b->arena_alloc(n * sizeof *s); /* [n] on the device */
    if (seed) b->copy(s, out->device, seed, DEV_CPU, n * sizeof *s);
    else b->fill(s, n, 1);
    b->accumulate(g, s, n); /* += as on the host: a second backward from out adds up */
}

void tape_backward_seed(Tensor *out, const real_t *seed) {
    if (!out->requires_grad) rn_die("backward on a tensor that needs no gradient (no trainable input)");
    seed_grad(out, seed);
    for (int i = g_len - 1; i >= 0; i--) {
        Node *nd = g_nodes[i];
        if (!nd->out->grad) continue; /* nothing downstream used this output */
        if (!g_profile_on) {
            nd->backward(nd);
            continue;
        }
        double t = profile_begin();
        nd->backward(nd);
        profile_end(PROF_BWD, op_name(nd->op), t);
    }
}

void tape_backward(Tensor *out) {
    if (tensor_numel(out) != 1) rn_die("tape_backward needs a scalar; use tape_backward_seed");
    tape_backward_seed(out, NULL);
}

void tape_clear(void) { g_len = 0; }

int tape_size(void) { return g_len; }

const Node *tape_node(int i) {
    if (i < 0 || i >= g_len) rn_die("tape_node(%d): the tape has %d nodes", i, g_len);
    return g_nodes[i];
}
