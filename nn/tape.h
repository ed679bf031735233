/* tape.h: reverse-mode autograd as a tape of eagerly-run ops.
 *
 * Conventions, once for the whole engine:
 *  - Every op runs its forward at once and, when any input requires a gradient and grad mode is
 *    on, appends a Node with its inputs, output, saved state and backward function.
 *  - Gradients mean dL/dx. Backward functions ACCUMULATE (+=) into tensor_grad(input), because an
 *    input may feed several ops; one that writes every element may instead ask tensor_grad_write,
 *    which says whether this is the buffer's first use (store) or not (add). Parameter grads therefore accumulate across backward calls until
 *    params_zero_grad(); the optimizer then does p -= lr * update.
 *  - A frozen parameter has requires_grad = false: it gets no gradient, but gradients still flow
 *    through the op to any other input that requires one (ASR trains through a frozen model).
 *  - tape_backward walks nodes in reverse and skips a node whose output received no gradient. */
#pragma once
#include "nn/ops/op_id.h"
#include "nn/tensor.h"

#define NODE_MAX_IN 4

typedef struct Node Node;
typedef void (*BackwardFn)(Node *n);

struct Node {
    OpId op;                    /* op_names[op] names it */
    BackwardFn backward;
    Tensor *out;
    Tensor *in[NODE_MAX_IN];    /* NULL where unused */
    void *saved;                /* op-specific state, arena-allocated */
    int iarg[8];                /* small integer arguments (strides, pads, ...) */
    double farg[4];             /* small real arguments (slopes, eps, ...) */
};

/* True when an op on these inputs must record itself (grad mode on and some input needs grad). */
bool tape_wants(Tensor *a, Tensor *b, Tensor *c, Tensor *d);

/* Append a node; marks out->requires_grad. Returns the node so the op can fill saved/args. */
Node *tape_push(OpId op, BackwardFn fn, Tensor *out, Tensor *a, Tensor *b, Tensor *c, Tensor *d);

/* Seed dL/d(out) = 1 for a scalar out (or `seed`, host memory, elementwise when not NULL) and run
 * backward. The seed is written on out's device. */
void tape_backward(Tensor *out);
void tape_backward_seed(Tensor *out, const real_t *seed);

void tape_clear(void);
int tape_size(void);
/* Node i of the tape (0 = first recorded), for diagnostics and tests; dies out of range. */
const Node *tape_node(int i);

/* Helper for backward functions: true when input i wants a gradient. */
static inline bool node_wants(const Node *n, int i) { return n->in[i] && n->in[i]->requires_grad; }
