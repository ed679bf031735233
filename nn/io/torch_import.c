/* torch_import.c: a loaded PyTorch state_dict into a ParamSet (generic import, fill by name, model guess). */
#include <stdio.h>
#include <string.h>

#include "nn/io/finite.h"
#include "nn/io/torch_load.h"
#include "util/err.h"

static const char *stripped(const char *name, const char *prefix) {
    size_t len = prefix ? strlen(prefix) : 0;
    return len && strncmp(name, prefix, len) == 0 ? name + len : name;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* PyTorch shape -> the engine's 4-D shape with trailing 1s; -1 beyond rank 4 or past int. */
static int shape4(const TorchFile *tf, const TorchTensor *t, int sh[4]) {
    if (t->ndim > 4)
        return rn_fail("%s: tensor %s has rank %d; the engine holds at most 4 dimensions", tf->path, t->name, t->ndim);
    for (int d = 0; d < 4; d++) {
        int64_t v = d < t->ndim ? t->shape[d] : 1;
        if (v > 0x7fffffff) return rn_fail("%s: tensor %s: dimension %d too large", tf->path, t->name, d);
        sh[d] = (int)v;
    }
    return 0;
}

static bool importable(const TorchTensor *t) { return !t->is_int && t->numel > 0; }

/* A floating tensor's values into the engine. The reader keeps whatever the file holds (torch.load
 * does too); what becomes a weight must be finite, or every output turns NaN without an error. */
static int copy_finite(const TorchFile *tf, const TorchTensor *t, real_t *dst) {
    char what[300];
    snprintf(what, sizeof what, "tensor %s", t->name);
    TRY(io_check_finite_f(tf->path, what, t->data, t->numel, 0));
    for (size_t j = 0; j < t->numel; j++) dst[j] = (real_t)t->data[j];
    return 0;
}

int torch_import_to_params(const TorchFile *tf, ParamSet *ps, const char *strip_prefix) {
    RN_CHECK(!ps->finalized && ps->count == 0, "torch_import_to_params wants a fresh ParamSet");
    for (int i = 0; i < tf->count; i++) {
        const TorchTensor *t = &tf->t[i];
        if (!importable(t)) continue;
        const char *name = stripped(t->name, strip_prefix);
        int sh[4] = {0};
        if (!*name)
            return rn_fail("%s: tensor %s has an empty name after stripping '%s'", tf->path, t->name, strip_prefix);
        if (params_find(ps, name)) return rn_fail("%s: two tensors are named %s (after stripping '%s')", tf->path, name,
                                                  strip_prefix ? strip_prefix : "");
        if (shape4(tf, t, sh) < 0) return -1;
        bool buffer = ends_with(name, "running_mean") || ends_with(name, "running_var");
        (buffer ? params_add_buffer : params_add)(ps, name, sh[0], sh[1], sh[2], sh[3]);
    }
    params_finalize(ps);
    for (int i = 0, k = 0; i < tf->count; i++)
        if (importable(&tf->t[i])) TRY(copy_finite(tf, &tf->t[i], ps->t[k++]->data));
    return 0;
}

static const TorchTensor *find_stripped(const TorchFile *tf, const char *name, const char *prefix) {
    for (int i = 0; i < tf->count; i++)
        if (strcmp(stripped(tf->t[i].name, prefix), name) == 0) return &tf->t[i];
    return NULL;
}

static int fill_one(const TorchFile *tf, Tensor *p, const char *prefix) {
    const TorchTensor *t = find_stripped(tf, p->name, prefix);
    if (!t) return rn_fail("%s: no tensor %s%s (the model wants it)", tf->path, prefix ? prefix : "", p->name);
    int sh[4] = {0};
    char a[64], b[64];
    if (t->is_int) return rn_fail("%s: tensor %s is %s, the model wants floats", tf->path, t->name, t->dtype);
    if (shape4(tf, t, sh) < 0) return -1;
    if (sh[0] != p->shape[0] || sh[1] != p->shape[1] || sh[2] != p->shape[2] || sh[3] != p->shape[3])
        return rn_fail("%s: tensor %s has shape %s, the model wants %s", tf->path, t->name,
                       torch_shape_str(t, a, sizeof a), tensor_shape_str(p, b, sizeof b));
    return copy_finite(tf, t, p->data);
}

int torch_fill_params(const TorchFile *tf, ParamSet *ps, const char *strip_prefix, bool allow_extra) {
    RN_CHECK(ps->finalized, "torch_fill_params wants a finalised ParamSet");
    for (int i = 0; i < ps->count; i++) TRY(fill_one(tf, ps->t[i], strip_prefix));
    for (int i = 0; !allow_extra && i < tf->count; i++)
        if (importable(&tf->t[i]) && !params_find(ps, stripped(tf->t[i].name, strip_prefix)))
            return rn_fail("%s: tensor %s is not part of the model", tf->path, tf->t[i].name);
    return 0;
}

static bool has_name(const TorchFile *tf, const char *prefix) {
    size_t len = strlen(prefix);
    for (int i = 0; i < tf->count; i++)
        if (strncmp(stripped(tf->t[i].name, "module."), prefix, len) == 0) return true;
    return false;
}

const char *torch_guess_model(const TorchFile *tf) {
    /* CARN-M's efficient residual block ends in a third conv (body.4); full CARN's has two. */
    if (has_name(tf, "entry.") && has_name(tf, "b1.") && has_name(tf, "upsample."))
        return has_name(tf, "b1.b1.body.4.") ? "carn-m" : "carn";
    if (has_name(tf, "encoder.level1") || (has_name(tf, "classifier.") && has_name(tf, "up_l")))
        return "espnet";
    return "unknown";
}
