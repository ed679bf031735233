/* optim.h: Adam and SGD (momentum, weight decay) over a ParamSet's flat buffers, and learning-rate schedules. */
#pragma once
#include "nn/params.h"

typedef enum { OPTIM_SGD, OPTIM_ADAM } OptimKind;

typedef struct Optim {
    OptimKind kind;
    double lr;           /* current learning rate (set by the schedule each step) */
    double momentum;     /* SGD */
    double beta1, beta2, eps; /* Adam */
    double weight_decay; /* L2 added to the gradient (PyTorch's weight_decay) */
    long long step;      /* updates done */
    size_t n;            /* == ParamSet total */
    real_t *m, *v;       /* moments [n], indexed like ps->data (SGD: m is the momentum buffer, v NULL) */
    Device device;       /* where m and v live: must be the ParamSet's at optim_step */
} Optim;

void optim_init_adam(Optim *o, const ParamSet *ps, double lr, double beta1, double beta2, double eps,
                     double weight_decay);
void optim_init_sgd(Optim *o, const ParamSet *ps, double lr, double momentum, double weight_decay);
void optim_free(Optim *o);
/* Moves the moments to device d (DEV_CPU brings them back), as params_to_device does the
 * parameters; optim_step then runs there, one kernel per contiguous trainable range. */
void optim_to_device(Optim *o, Device d);
/* One update of every trainable parameter from its accumulated grad (PyTorch's formulas exactly;
 * buffers and frozen parameters untouched). Does not zero the grads. Uses o->lr as it is: a
 * scheduled run sets o->lr = lr_at(&sched, o->step) before each call. */
void optim_step(Optim *o, ParamSet *ps);

typedef enum { LR_CONSTANT, LR_STEP, LR_COSINE } LrKind;
typedef struct LrSchedule {
    LrKind kind;
    double base_lr;
    long long step_size;  /* LR_STEP: multiply by gamma every step_size steps */
    double gamma;
    long long total;      /* LR_COSINE: steps to anneal over, to min_lr */
    double min_lr;
    long long warmup;     /* linear warm-up steps (0 = none) */
} LrSchedule;

/* Learning rate for update number `step` (0-based), torch's closed forms: LR_STEP is
 * base_lr*gamma^(step/step_size) (StepLR), LR_COSINE is CosineAnnealingLR with T_max = total and
 * eta_min = min_lr, held at min_lr after total. A warm-up multiplies the schedule by
 * (step+1)/warmup for step < warmup (torch's LinearLR from 1/warmup); the schedule itself still
 * counts from step 0, so total is the absolute step where cosine ends. */
double lr_at(const LrSchedule *s, long long step);
