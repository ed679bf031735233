/* optim.c: Adam and SGD with momentum over a ParamSet's flat buffers (PyTorch's formulas), lr schedules. */
#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "util/err.h"

/* Moments span the whole ParamSet (buffers and frozen entries included) so that index i of m/v
 * is index i of ps->data: one offset for everything, and the checkpoint stores them flat. */
static void init_common(Optim *o, const ParamSet *ps, OptimKind kind, double lr, double wd, int nmoments) {
    RN_CHECK(ps->finalized, "optimizer created before params_finalize");
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->lr = lr;
    o->weight_decay = wd;
    o->n = ps->total;
    o->m = xcalloc(o->n ? o->n : 1, sizeof(real_t));
    if (nmoments == 2) o->v = xcalloc(o->n ? o->n : 1, sizeof(real_t));
}

void optim_init_adam(Optim *o, const ParamSet *ps, double lr, double beta1, double beta2, double eps,
                     double weight_decay) {
    init_common(o, ps, OPTIM_ADAM, lr, weight_decay, 2);
    o->beta1 = beta1, o->beta2 = beta2, o->eps = eps;
}

void optim_init_sgd(Optim *o, const ParamSet *ps, double lr, double momentum, double weight_decay) {
    init_common(o, ps, OPTIM_SGD, lr, weight_decay, 1);
    o->momentum = momentum;
}

void optim_free(Optim *o) {
    if (o->device == DEV_CPU) {
        free(o->m);
        free(o->v);
    } else {
        ops_backend(o->device, "optim_free")->block_free(o->m);
        if (o->v) ops_backend(o->device, "optim_free")->block_free(o->v);
    }
    memset(o, 0, sizeof *o);
}

void optim_to_device(Optim *o, Device d) {
    if (d == o->device) return;
    o->m = params_move_block(o->m, o->device, d, o->n);
    if (o->v) o->v = params_move_block(o->v, o->device, d, o->n);
    o->device = d;
}

/* torch.optim.Adam (amsgrad off): g += wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). The step-dependent factors are computed
 * once in double, as PyTorch does with Python floats. */
static AdamCoef adam_coef(const Optim *o) {
    const double t = (double)o->step;
    AdamCoef c;
    c.b1 = (real_t)o->beta1, c.b2 = (real_t)o->beta2, c.wd = (real_t)o->weight_decay;
    c.omb1 = (real_t)(1.0 - o->beta1), c.omb2 = (real_t)(1.0 - o->beta2); /* as torch: in double */
    c.step_size = (real_t)(o->lr / (1.0 - pow(o->beta1, t)));
    c.bc2_sqrt = (real_t)sqrt(1.0 - pow(o->beta2, t));
    c.eps = (real_t)o->eps;
    return c;
}

static void adam_range(AdamCoef c, real_t *p, const real_t *grad, real_t *m, real_t *v, size_t n) {
    const real_t b1 = c.b1, b2 = c.b2, wd = c.wd, omb1 = c.omb1, omb2 = c.omb2;
    const real_t step_size = c.step_size, bc2_sqrt = c.bc2_sqrt, eps = c.eps;
#pragma omp parallel for if (n > (1 << 16)) schedule(static)
    for (size_t i = 0; i < n; i++) {
        real_t g = grad[i] + wd * p[i];
        m[i] = m[i] * b1 + g * omb1;
        v[i] = v[i] * b2 + omb2 * g * g;
        real_t denom = (real_t)sqrt(v[i]) / bc2_sqrt + eps;
        p[i] -= step_size * m[i] / denom; /* torch addcdiv: (value*t1)/t2 */
    }
}

/* torch.optim.SGD (dampening 0, no Nesterov): g += wd*p; buf = g on the first step, else
 * buf = momentum*buf + g; p -= lr*buf. With momentum 0 the buffer is just g. */
static SgdCoef sgd_coef(const Optim *o) {
    SgdCoef c = {(real_t)o->momentum, (real_t)o->weight_decay, (real_t)o->lr, o->step == 1};
    return c;
}

static void sgd_range(SgdCoef c, real_t *p, const real_t *grad, real_t *buf, size_t n) {
    const real_t mom = c.mom, wd = c.wd, lr = c.lr;
    const int first = c.first;
#pragma omp parallel for if (n > (1 << 16)) schedule(static)
    for (size_t i = 0; i < n; i++) {
        real_t g = grad[i] + wd * p[i];
        buf[i] = first ? g : buf[i] * mom + g;
        p[i] -= lr * buf[i];
    }
}

/* The same update on the ParamSet's device: the CPU loops here, or the backend's kernels. */
static void update_range(const Optim *o, ParamSet *ps, size_t off, size_t n) {
    const OpsBackend *b = ps->device == DEV_CPU ? NULL : ops_backend(ps->device, "optim_step");
    if (o->kind == OPTIM_ADAM) {
        AdamCoef c = adam_coef(o);
        if (b) b->adam_step(ps->data + off, ps->grad + off, o->m + off, o->v + off, n, c);
        else adam_range(c, ps->data + off, ps->grad + off, o->m + off, o->v + off, n);
    } else {
        SgdCoef c = sgd_coef(o);
        if (b) b->sgd_step(ps->data + off, ps->grad + off, o->m + off, n, c);
        else sgd_range(c, ps->data + off, ps->grad + off, o->m + off, n);
    }
}

static bool trainable(const ParamSet *ps, int i) { return !ps->is_buffer[i] && ps->t[i]->requires_grad; }

/* Consecutive trainable entries are contiguous in memory, so they are merged into one range and
 * updated by one loop; buffers and frozen entries break the range and are never touched. */
void optim_step(Optim *o, ParamSet *ps) {
    RN_CHECK(o->n == ps->total, "optimizer built for %zu values, ParamSet has %zu", o->n, ps->total);
    RN_CHECK(o->device == ps->device, "optimizer moments on %s, parameters on %s: optim_to_device them alike",
             device_name(o->device), device_name(ps->device));
    o->step++;
    size_t start = 0, len = 0;
    for (int i = 0; i < ps->count; i++) {
        if (!trainable(ps, i)) continue;
        size_t off = ps->offset[i], n = tensor_numel(ps->t[i]);
        if (len && start + len == off) {
            len += n;
            continue;
        }
        if (len) update_range(o, ps, start, len);
        start = off, len = n;
    }
    if (len) update_range(o, ps, start, len);
}

/* Closed forms of torch.optim.lr_scheduler: StepLR = base*gamma^(step/step_size);
 * CosineAnnealingLR = min + (base-min)*(1+cos(pi*step/total))/2, held at min_lr after total
 * (PyTorch's would climb back up). */
static double lr_plain(const LrSchedule *s, long long step) {
    switch (s->kind) {
    case LR_CONSTANT: return s->base_lr;
    case LR_STEP:
        RN_CHECK(s->step_size > 0, "LR_STEP needs step_size > 0");
        return s->base_lr * pow(s->gamma, (double)(step / s->step_size));
    case LR_COSINE:
        RN_CHECK(s->total > 0, "LR_COSINE needs total > 0");
        if (step >= s->total) return s->min_lr;
        return s->min_lr + (s->base_lr - s->min_lr) * (1 + cos(M_PI * (double)step / (double)s->total)) / 2;
    }
    rn_die("unknown lr schedule kind %d", (int)s->kind);
}

/* Warm-up scales the schedule by (step+1)/warmup for the first `warmup` steps (torch's LinearLR
 * with start_factor 1/warmup over warmup-1 iterations); the schedule itself keeps counting from
 * step 0, so `total` is the absolute step where cosine reaches min_lr. */
double lr_at(const LrSchedule *s, long long step) {
    double lr = lr_plain(s, step < 0 ? 0 : step);
    if (s->warmup > 0 && step < s->warmup) lr *= (double)(step + 1) / (double)s->warmup;
    return lr;
}
