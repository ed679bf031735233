/* checkpoint.h: HDF5 checkpoints — one dataset per parameter under its framework name, attributes, optimizer group. */
#pragma once
#include "nn/optim.h"
#include "nn/params.h"

/* Attributes stored on the file's root group: the model kind and its hyperparameters, training
 * step, format version. A small ordered key/value list; keys are unique. */
#define CKPT_MAX_ATTRS 32
typedef struct CkptAttr {
    char key[48];
    char type; /* 's' string, 'i' integer, 'f' float */
    char s[128];
    long long i;
    double f;
} CkptAttr;

typedef struct CkptAttrs {
    int n;
    CkptAttr a[CKPT_MAX_ATTRS];
} CkptAttrs;

void attrs_set_str(CkptAttrs *at, const char *key, const char *v);
void attrs_set_int(CkptAttrs *at, const char *key, long long v);
void attrs_set_float(CkptAttrs *at, const char *key, double v);
/* Getters return the default when the key is absent (or of another type). */
const char *attrs_get_str(const CkptAttrs *at, const char *key, const char *dflt);
long long attrs_get_int(const CkptAttrs *at, const char *key, long long dflt);
double attrs_get_float(const CkptAttrs *at, const char *key, double dflt);

/* Layout: /params/<name> (float32, the parameter's PyTorch shape: the 4-D ParamSet shape without
 * its trailing 1s, at least rank 1 — a conv weight [64,16,3,3] stays 4-D, a bias [64,1,1,1] is
 * stored as [64]), /buffers/<name>, optional /optim/{m,v} (flat, in ParamSet order; SGD has only m)
 * with attributes kind ("adam"/"sgd"), lr, momentum, beta1, beta2, eps, weight_decay, step, and the
 * root attributes above plus "format" = "rune-checkpoint" and "version" = 1 (keys reserved by the
 * file: a CkptAttrs entry of either name is not written, and neither is returned by the readers).
 * Every dataset carries a Fletcher32 checksum and the metadata is checksummed (HDF5 1.8 format), so
 * a corrupt file is an error rather than wrong weights; h5py reads the files as they are.
 *
 * Saving writes PATH.tmp, fsyncs it and renames it over PATH, so a crash or full disk never leaves a
 * torn checkpoint; returns -1 with rn_errmsg() naming the file and the cause on failure (the tmp
 * file is removed, the old file stays intact). at and opt may be NULL. */
int ckpt_save(const char *path, const ParamSet *ps, const CkptAttrs *at, const Optim *opt);
/* ckpt_save from wherever ps and opt live: device ones are brought to the host for the write and
 * moved back after it (their blocks are reallocated, tensors repointed), so a training loop on a
 * GPU checkpoints with the same call as on the CPU. */
int ckpt_save_any(const char *path, ParamSet *ps, const CkptAttrs *at, Optim *opt);

/* Reads the root attributes only (to decide which model to build before loading). */
int ckpt_read_attrs(const char *path, CkptAttrs *at);

/* Loads every parameter and buffer of ps from path; every name must exist with the same shape
 * (the stored shape padded with trailing 1s must equal the ParamSet's), and the file must hold no
 * parameter that ps lacks: the first mismatch is named in the error, shapes with both sides; a
 * NaN or infinite value (parameter, buffer or optimizer moment) is an error naming the entry.
 * at may be NULL. opt may be NULL (optimizer state ignored); when not NULL and the file has /optim
 * of the same kind, its moments, step and hyperparameters are restored (as PyTorch's
 * load_state_dict does); without /optim opt is left as it was. On failure nothing is changed:
 * ps, at and opt are only written once the whole file has been read. */
int ckpt_load(const char *path, ParamSet *ps, CkptAttrs *at, Optim *opt);
