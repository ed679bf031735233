/* fixture.h: reading PyTorch reference fixtures (HDF5 files written by scripts/fixtures/gen_*.py). */
#pragma once
#include "nn/tensor.h"

typedef struct Fixture Fixture;

/* Opens tests/fixtures/<rel>; fails the test (returns NULL) when missing. */
Fixture *fx_open(const char *rel);
void fx_close(Fixture *f);
/* Dataset `name` as an arena tensor; rank-r shapes fill shape[0..r-1], the rest are 1.
 * requires_grad is left false. Fails the test and returns NULL when absent. */
Tensor *fx_tensor(Fixture *f, const char *name);
/* Raw float64 copy of a dataset (arena); *n gets the element count. */
double *fx_array(Fixture *f, const char *name, size_t *n);
/* A scalar attribute or 1-element dataset. */
double fx_scalar(Fixture *f, const char *name);
/* Compares got[0..n) with dataset `name`; fails the test when max |diff| > atol + rtol*|ref|.
 * Prints the max error either way. Returns the max abs error. */
double fx_expect(Fixture *f, const char *name, const real_t *got, size_t n, double atol, double rtol);
