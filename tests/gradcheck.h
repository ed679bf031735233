/* gradcheck.h: central finite-difference gradient checks of ops and models (double-precision build). */
#pragma once
#include "nn/tensor.h"

/* f maps the inputs to one output tensor. */
typedef Tensor *(*GradFn)(Tensor **in, void *ctx);

/* Checks d(sum(R * f(in)))/d(in[i]) for every input with requires_grad, R a fixed random tensor,
 * against central differences with step eps. An element passes when |analytic - numeric| <=
 * tol * (1 + |numeric|); a NaN or infinite gradient (or difference) never passes. Returns the worst
 * such scaled error, INFINITY for a non-finite one (fails the test when > tol). */
double gradcheck(const char *what, GradFn f, Tensor **in, int nin, void *ctx, double eps, double tol);

/* Fill with deterministic pseudo-random values in [lo, hi). */
void fill_uniform(Tensor *t, unsigned seed, double lo, double hi);
/* A persistent-for-the-test input tensor, random in [-1,1), with requires_grad set. */
Tensor *grad_input(int n, int c, int h, int w, unsigned seed);

/* Whole-model directional check: for a random direction d over input `x` (and optionally every
 * trainable tensor of a ParamSet-like list `extra`), compares (L(x+eps d) - L(x-eps d)) / 2eps
 * with <dL/dx, d>, where L = sum(R * f(in)). Cheaper than element-wise checks for big models.
 * Returns the relative error |a-n| / max(|n|, 1e-12), INFINITY when either is NaN or infinite
 * (fails the test when > tol). */
double gradcheck_directional(const char *what, GradFn f, Tensor **in, int nin, void *ctx, Tensor **extra,
                             int nextra, double eps, double tol);
