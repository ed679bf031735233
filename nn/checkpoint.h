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

/* Layout: /params/<name> (float32, the parameter's PyTorch shape: rank from the model's
 * declaration, e.g. a conv weight 4-D, a bias 1-D), /buffers/<name>, optional /optim/{m,v} (flat,
 * in ParamSet order) with attributes kind/lr/step..., and the root attributes above plus
 * "format" = "rune-checkpoint" and "version".
 *
 * Saving writes PATH.tmp and renames it over PATH, so a crash or full disk never leaves a torn
 * checkpoint; returns -1 with rn_errmsg() set on failure (the old file stays intact). */
int ckpt_save(const char *path, const ParamSet *ps, const CkptAttrs *at, const Optim *opt);

/* Reads the root attributes only (to decide which model to build before loading). */
int ckpt_read_attrs(const char *path, CkptAttrs *at);

/* Loads every parameter and buffer of ps from path; every name must exist with the same shape,
 * and the file must hold no parameter that ps lacks: the first mismatch is named in the error.
 * opt may be NULL (optimizer state ignored); when not NULL and the file has /optim it is restored. */
int ckpt_load(const char *path, ParamSet *ps, CkptAttrs *at, Optim *opt);
