/* finite.c: refusing NaN and infinite values in loaded weights, naming the tensor and the element. */
#include "nn/io/finite.h"

#include <math.h>

#include "util/err.h"

static int refuse(const char *path, const char *what, double v, size_t at) {
    return rn_fail("%s: %s holds %s at element %zu: non-finite weights are refused", path, what,
                   isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf", at);
}

int io_check_finite(const char *path, const char *what, const real_t *x, size_t n, size_t offset) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return refuse(path, what, (double)x[i], offset + i);
    return 0;
}

int io_check_finite_f(const char *path, const char *what, const float *x, size_t n, size_t offset) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return refuse(path, what, (double)x[i], offset + i);
    return 0;
}
