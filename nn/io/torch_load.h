/* torch_load.h: reads PyTorch checkpoints (legacy torch.save and zip formats) into named float32 tensors. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/params.h"

#define TORCH_MAX_DIM 8

/* One tensor of the state_dict, materialised contiguous (row-major in its PyTorch shape)
 * whatever its strides and storage offset were in the file. Floating storages (float32,
 * float16, bfloat16, float64) arrive as float32 in data; integer and bool storages (e.g. a
 * BatchNorm's num_batches_tracked, int64) keep their values as int64 in idata and set is_int,
 * so importers can skip them. Data is float, not real_t: this is file I/O, and files hold float32. */
typedef struct TorchTensor {
    char *name;                   /* key as stored in the file ("module.conv.weight") */
    int ndim;                     /* 0 for a scalar */
    int64_t shape[TORCH_MAX_DIM];
    size_t numel;
    const char *dtype;            /* PyTorch's name of the storage type: "float32", "int64", ... */
    bool is_int;
    float *data;                  /* [numel] when !is_int, else NULL */
    int64_t *idata;               /* [numel] when is_int, else NULL */
} TorchTensor;

typedef enum { TORCH_FMT_LEGACY = 1, TORCH_FMT_ZIP = 2 } TorchFormat;

typedef struct TorchFile {
    char *path;          /* label used in messages */
    TorchFormat format;
    char *root;          /* wrapper keys descended into to reach the state_dict, dot-joined:
                            "" for a bare state_dict, "state_dict" for {'state_dict': ..., 'epoch': 3} */
    int count;
    TorchTensor *t;      /* in the file's (state_dict) order */
} TorchFile;

/* Loads every tensor of the checkpoint's state_dict. The top-level object must be a dict; while
 * it holds no tensor itself but has one of the usual wrapper keys ("state_dict", "model",
 * "model_state_dict", "net", "params", "module") holding a dict, that dict is used instead
 * (tf->root says which). Nested dicts inside the state_dict give dot-joined names. Names are kept
 * exactly as stored (DataParallel's "module." included; see torch_strip_prefix()).
 * Returns -1 with rn_fail naming the file and the problem on any malformed input. */
int torch_load(const char *path, TorchFile *tf);
/* The same on a file already in memory (label names it in messages; buf may be freed after). */
int torch_load_mem(const void *buf, size_t n, const char *label, TorchFile *tf);
void torch_free(TorchFile *tf);

const TorchTensor *torch_find(const TorchFile *tf, const char *name); /* NULL if absent */
/* Removes prefix from every name that starts with it; returns how many names changed. */
int torch_strip_prefix(TorchFile *tf, const char *prefix);
/* "3x16x3x3" (or "scalar") into buf. */
const char *torch_shape_str(const TorchTensor *t, char *buf, size_t n);

/* ---- into the engine (nn/io/torch_import.c) -------------------------------------------------- */

/* Declares one ParamSet entry per floating tensor under its name (strip_prefix removed where a
 * name starts with it; NULL or "" strips nothing), as a buffer when the name ends in running_mean
 * or running_var, as a parameter otherwise; shapes pad with trailing 1s to 4-D. Integer tensors
 * and empty tensors are skipped (the caller may report them). ps must be freshly initialised;
 * it comes back finalised with the data copied. Fails on a tensor of rank > 4, a duplicate
 * name after stripping, or a NaN or infinite value (named; the reader itself keeps them). */
int torch_import_to_params(const TorchFile *tf, ParamSet *ps, const char *strip_prefix);

/* For model-specific importers: copies tensors into a model's finalised ParamSet by name
 * (strip_prefix as above). Every entry of ps must be in the file with the same shape (trailing
 * 1s ignored) and finite values; a floating tensor in the file that ps lacks is an error unless
 * allow_extra. The first mismatch is named in the error. */
int torch_fill_params(const TorchFile *tf, ParamSet *ps, const char *strip_prefix, bool allow_extra);

/* The model kind the names suggest: "carn-m" (entry, b1.b1.body.4, upsample; "carn" without
 * body.4), "espnet" (encoder.level1, or classifier with up_l*), else "unknown". A leading
 * "module." is ignored. */
const char *torch_guess_model(const TorchFile *tf);
