/* params.h: a model's named parameters and buffers, stored in one contiguous block each. */
#pragma once
#include <stdbool.h>

#include "nn/tensor.h"

/* Parameters (trained) and buffers (saved but not trained: batch-norm running statistics) are
 * declared by name and shape, then params_finalize() lays them out in single contiguous arrays:
 * data, grad, and the optimizer's moments, so one loop updates all of them and one read loads
 * them. Names follow the original framework's state_dict ("b1.b1.body.0.weight"). */
typedef struct ParamSet {
    int count, cap;
    Tensor **t;       /* persistent tensor headers (not in the arena) */
    bool *is_buffer;  /* true for running stats and the like */
    size_t total;     /* elements over all entries */
    real_t *data;     /* [total] */
    real_t *grad;     /* [total], zero for buffers */
    size_t *offset;   /* element offset of entry i */
    bool finalized;
    Device device;    /* where data and grad live (DEV_CPU until params_to_device) */
} ParamSet;

void params_init(ParamSet *ps);
void params_free(ParamSet *ps);
/* Declare an entry; the returned tensor's data is valid after params_finalize(). */
Tensor *params_add(ParamSet *ps, const char *name, int n, int c, int h, int w);
Tensor *params_add_buffer(ParamSet *ps, const char *name, int n, int c, int h, int w);
void params_finalize(ParamSet *ps);
Tensor *params_find(const ParamSet *ps, const char *name); /* NULL if absent */
void params_zero_grad(ParamSet *ps); /* on the ParamSet's device */
/* Moves data and grad to device d (DEV_CPU brings them back): each stays one contiguous block,
 * every tensor is repointed into it and marked with d. Explicit, like tensor_to; checkpoints,
 * imports and weight initialisation read and write host memory, so they run on DEV_CPU params
 * (ckpt_save refuses device ones). For whole-model device runs: build or load the model on the
 * host, then params_to_device(&model.ps, DEV_CUDA) (Carn, ESPNet, SwiftNet, Darknet all hold a
 * `ps`; a Segmenter's is s->ps) and optim_to_device(&opt, DEV_CUDA) for its optimizer; inputs go
 * with tensor_to(x, DEV_CUDA) and losses come back with tensor_item. */
void params_to_device(ParamSet *ps, Device d);
/* The block mover behind it (also moves an optimizer's moments): a copy of n values at src (on
 * `from`) in a new block on `to`, src freed. */
real_t *params_move_block(real_t *src, Device from, Device to, size_t n);
void params_set_trainable(ParamSet *ps, bool on); /* freeze (false) or unfreeze every parameter */
size_t params_count_trainable(const ParamSet *ps);
