/* loss_check.c: refuse a NaN or Inf loss value loudly instead of letting it poison training. */
#include <math.h>

#include "nn/ops/ops.h"
#include "util/err.h"

int loss_check_finite(const Tensor *loss, const char *what) {
    if (loss->device != DEV_CPU) loss = tensor_to(loss, DEV_CPU); /* a scalar: one small download */
    size_t n = tensor_numel(loss);
    for (size_t i = 0; i < n; i++) {
        double v = loss->data[i];
        if (!isfinite(v))
            return rn_fail("loss %s is %s%s (element %zu of %zu): diverged or bad input", what ? what : "(unnamed)",
                           isnan(v) ? "NaN" : "Inf", isnan(v) ? "" : (v > 0 ? " (+)" : " (-)"), i, n);
    }
    return 0;
}
