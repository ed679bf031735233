/* import.h: `rune import`'s work — foreign weight files to rune HDF5 checkpoints, and listing a .pth. */
#pragma once
#include <stdio.h>

/* Prints a .pth file's tensors (name, shape, dtype; one a line, a '#' header) to f. */
int import_list_pth(const char *in, const char *strip_prefix, FILE *f);
/* Every floating tensor of a PyTorch .pth/.pt under its own name (after strip_prefix) into out:
 * running statistics as buffers, the rest as parameters; model attribute = model or a guess from
 * the names; notes on skipped integer/empty tensors go to stderr; a summary line to stdout. */
int import_pth(const char *in, const char *out, const char *model, const char *strip_prefix);
/* A rune CARN training checkpoint re-written with weights and attributes only (no optimizer state). */
int import_carn_h5(const char *in, const char *out);
