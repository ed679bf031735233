/* model_io.c: one entry point for weights in rune's HDF5 checkpoints or PyTorch files. */
#include "nn/models/model_io.h"

#include <string.h>
#include <strings.h>

#include "nn/io/torch_load.h"
#include "util/err.h"

bool path_has_ext(const char *path, const char *ext) {
    size_t a = strlen(path), b = strlen(ext);
    return a >= b && strcasecmp(path + a - b, ext) == 0;
}

static int load_torch(ParamSet *ps, const char *path, const char *strip_prefix) {
    TorchFile tf;
    TRY(torch_load(path, &tf));
    int rc = torch_fill_params(&tf, ps, strip_prefix, false);
    torch_free(&tf);
    return rc;
}

int model_load_weights(ParamSet *ps, const char *path, const char *kind, CkptAttrs *at, const char *strip_prefix) {
    if (path_has_ext(path, ".pth") || path_has_ext(path, ".pt")) return load_torch(ps, path, strip_prefix);
    CkptAttrs tmp;
    if (!at) at = &tmp;
    TRY(ckpt_read_attrs(path, at));
    const char *m = attrs_get_str(at, "model", "");
    if (kind && strcmp(m, kind) != 0)
        return rn_fail("%s: a checkpoint of model '%s', expected '%s'", path, m[0] ? m : "(none)", kind);
    return ckpt_load(path, ps, at, NULL);
}
