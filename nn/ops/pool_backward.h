/* pool_backward.h: the backward pass the pooling ops share — one input plane at a time, window gradients summed in double. */
#pragma once
#include "nn/tape.h"

/* Adds the gradient of output plane q (go, [OH,OW]) into acc ([H,W], zeroed, in double so
 * overlapping windows sum the same whatever the order), as the op's windows route it. */
typedef void (*PoolPlaneBackward)(const Node *n, int q, const real_t *go, double *acc);

/* dx += the input gradient of pooling node n (in[0] = x [N,C,H,W], out [N,C,OH,OW]), plane by plane
 * over threads through fn. Does nothing when x needs no gradient. */
void pool_backward(Node *n, PoolPlaneBackward fn);
