/* finite.h: loaded weights must be finite — the check every reader (HDF5, PyTorch, darknet) runs on what it read. */
#pragma once
#include <stddef.h>

#include "nn/real.h"

/* 0 when x[0..n) are all finite; else -1 with rn_errmsg() "PATH: WHAT holds nan at element I",
 * I counted from `offset` (for a tensor read in pieces). A NaN or infinite weight would otherwise
 * load silently and turn every output into NaN (a flat grey image, exit status 0). */
int io_check_finite(const char *path, const char *what, const real_t *x, size_t n, size_t offset);
/* The same for float data (PyTorch tensors are materialised as float whatever real_t is). */
int io_check_finite_f(const char *path, const char *what, const float *x, size_t n, size_t offset);
