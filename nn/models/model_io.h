/* model_io.h: loading a model's weights from a rune checkpoint (.h5) or a PyTorch file (.pth/.pt). */
#pragma once
#include <stdbool.h>

#include "nn/io/checkpoint.h"

/* Fills ps (finalised) from path. A .h5 must be a rune checkpoint whose "model" attribute equals
 * `kind` (when kind is not NULL); attributes land in at (may be NULL). A .pth/.pt goes through the
 * PyTorch reader with every name and shape checked (strip_prefix for DataParallel's "module.").
 * Returns -1 with rn_errmsg() naming the file and the first mismatch. */
int model_load_weights(ParamSet *ps, const char *path, const char *kind, CkptAttrs *at, const char *strip_prefix);
bool path_has_ext(const char *path, const char *ext);
