// batch_norm.cu: op_batch_norm on the device — cuDNN forward (training / inference) and its backward on the tape.
#include "nn/cuda/dnn.h"

extern "C" {
#include "nn/cuda/cuda_ops.h"
#include "nn/ops/op_checks.h"
}

// What backward needs, device tensors [1,C,1,1]: training: the batch mean and 1/sqrt(var + eps)
// cuDNN saved; inference: copies of the running mean and variance (a later update of the running
// stats must not change this node, as on the CPU).
struct BnSaved {
    Tensor *a, *b;
};

static const float *data_or_null(const Tensor *t) { return t ? t->data : NULL; }

static void batch_norm_backward(Node *n) {
    Tensor *x = n->in[0], *gamma = n->in[1], *beta = n->in[2];
    const BnSaved *sv = (const BnSaved *)n->saved;
    const float *dy = n->out->grad; // [N,C,H,W]
    float *dx = node_wants(n, 0) ? tensor_grad(x) : NULL;         // [N,C,H,W]
    float *dg = node_wants(n, 1) ? tensor_grad(gamma) : NULL;     // [C]
    float *db = beta && node_wants(n, 2) ? tensor_grad(beta) : NULL; // [C]
    double eps = n->farg[0];
    if (n->iarg[0])
        cuda_must(cuda_bn_backward_train(TN(x), TC(x), TH(x), TW(x), x->data, dy, data_or_null(gamma), sv->a->data,
                                         sv->b->data, eps, dx, dg, db),
                  "batch_norm backward");
    else
        cuda_must(cuda_bn_backward_infer(TN(x), TC(x), TH(x), TW(x), x->data, dy, data_or_null(gamma), sv->a->data,
                                         sv->b->data, eps, dx, dg, db),
                  "batch_norm backward (inference)");
}

extern "C" Tensor *cuda_op_batch_norm(Tensor *x, Tensor *gamma, Tensor *beta, Tensor *rmean, Tensor *rvar,
                                      bool training, real_t momentum, real_t eps) {
    const char *op = "batch_norm";
    cuda_need(op, "x", x), cuda_need(op, "gamma", gamma), cuda_need(op, "beta", beta);
    cuda_need(op, "running_mean", rmean), cuda_need(op, "running_var", rvar);
    batch_norm_check(x, gamma, beta, rmean, rvar, training);
    int N = TN(x), C = TC(x), H = TH(x), W = TW(x);
    Tensor *out = tensor_new_on(DEV_CUDA, N, C, H, W); // [N,C,H,W]
    BnSaved *sv = (BnSaved *)arena_alloc(engine_arena(), sizeof *sv);
    if (training) {
        sv->a = tensor_new_on(DEV_CUDA, 1, C, 1, 1), sv->b = tensor_new_on(DEV_CUDA, 1, C, 1, 1);
        cuda_must(cuda_bn_forward_train(N, C, H, W, x->data, out->data, data_or_null(gamma), data_or_null(beta),
                                        momentum, eps, rmean ? rmean->data : NULL, rvar ? rvar->data : NULL,
                                        sv->a->data, sv->b->data),
                  op);
    } else {
        cuda_must(cuda_bn_forward_infer(N, C, H, W, x->data, out->data, data_or_null(gamma), data_or_null(beta),
                                        rmean->data, rvar->data, eps),
                  op);
    }
    // running stats are buffers: never tape inputs, never a gradient
    if (tape_wants(x, gamma, beta, NULL)) {
        if (!training) sv->a = tensor_to(rmean, DEV_CUDA), sv->b = tensor_to(rvar, DEV_CUDA);
        Node *n = tape_push(OP_BATCH_NORM, batch_norm_backward, out, x, gamma, beta, NULL);
        n->saved = sv;
        n->iarg[0] = training;
        n->farg[0] = eps;
    }
    return out;
}
