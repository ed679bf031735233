/* reduce.h: deterministic parallel sums — fixed blocks summed in parallel, partials added in order. */
#pragma once
#include <stddef.h>
#include <stdlib.h>

#include "util/err.h"

/* Block size of every reduction: fixed, so the summation order (and the result) does not depend
 * on the thread count; blocks are big enough that the partials cost nothing. */
#define REDUCE_BLOCK 4096

/* Adds the sums over elements [lo, hi) of up to two quantities into acc[0..1] (in double). */
typedef void (*BlockSumFn)(size_t lo, size_t hi, const void *ctx, double acc[2]);

/* out[0..1] = sums over [0, n) of f's quantities; OpenMP over blocks, no atomics. */
static inline void reduce_blocks(size_t n, BlockSumFn f, const void *ctx, double out[2]) {
    size_t nb = (n + REDUCE_BLOCK - 1) / REDUCE_BLOCK;
    double *part = xcalloc(2 * (nb ? nb : 1), sizeof *part); /* [nb][2] */
#pragma omp parallel for schedule(static) if (nb > 1)
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * REDUCE_BLOCK, hi = lo + REDUCE_BLOCK < n ? lo + REDUCE_BLOCK : n;
        f(lo, hi, ctx, part + 2 * b);
    }
    out[0] = out[1] = 0;
    for (size_t b = 0; b < nb; b++) out[0] += part[2 * b], out[1] += part[2 * b + 1];
    free(part);
}
