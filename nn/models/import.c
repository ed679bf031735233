/* import.c: `rune import`'s work — PyTorch .pth and rune CARN .h5 files to shareable rune checkpoints. */
#include "nn/models/import.h"

#include <string.h>

#include "nn/io/checkpoint.h"
#include "nn/io/torch_load.h"
#include "nn/models/carn.h"
#include "util/err.h"

/* Loads in and applies --strip-prefix, with a note when no name had the prefix. */
static int load_stripped(const char *in, const char *strip_prefix, TorchFile *tf) {
    if (torch_load(in, tf) < 0) return -1;
    if (strip_prefix && *strip_prefix && torch_strip_prefix(tf, strip_prefix) == 0)
        fprintf(stderr, "rune import: note: no tensor name starts with '%s'\n", strip_prefix);
    return 0;
}

int import_list_pth(const char *in, const char *strip_prefix, FILE *f) {
    TorchFile tf;
    if (load_stripped(in, strip_prefix, &tf) < 0) return -1;
    fprintf(f, "# %s: %s torch.save format, %d tensors%s%s%s\n", tf.path, tf.format == TORCH_FMT_ZIP ? "zip" : "legacy",
            tf.count, *tf.root ? " under '" : "", tf.root, *tf.root ? "'" : "");
    for (int i = 0; i < tf.count; i++) {
        char sh[128];
        fprintf(f, "%s\t%s\t%s\n", tf.t[i].name, torch_shape_str(&tf.t[i], sh, sizeof sh), tf.t[i].dtype);
    }
    torch_free(&tf);
    return 0;
}

/* The source attribute holds at most 127 characters: keep the end of a long path, which names the file. */
static void set_source(CkptAttrs *at, const char *in) {
    size_t n = strlen(in);
    char buf[128];
    if (n < sizeof buf) snprintf(buf, sizeof buf, "%s", in);
    else snprintf(buf, sizeof buf, "...%s", in + n - (sizeof buf - 4));
    attrs_set_str(at, "source", buf);
}

static void note_skipped(const TorchFile *tf) {
    for (int i = 0; i < tf->count; i++) {
        const TorchTensor *t = &tf->t[i];
        if (t->is_int)
            fprintf(stderr, "rune import: note: skipping %s tensor %s (not a parameter)\n", t->dtype, t->name);
        else if (!t->numel) fprintf(stderr, "rune import: note: skipping empty tensor %s\n", t->name);
    }
}

int import_pth(const char *in, const char *out, const char *model, const char *strip_prefix) {
    TorchFile tf;
    if (load_stripped(in, strip_prefix, &tf) < 0) return -1;
    note_skipped(&tf);
    ParamSet ps;
    params_init(&ps);
    CkptAttrs at = {0};
    attrs_set_str(&at, "model", model ? model : torch_guess_model(&tf));
    set_source(&at, in);
    int rc = torch_import_to_params(&tf, &ps, NULL) < 0 || ckpt_save(out, &ps, &at, NULL) < 0 ? -1 : 0;
    if (rc == 0) {
        int nbuf = 0;
        for (int i = 0; i < ps.count; i++) nbuf += ps.is_buffer[i];
        printf("%s: %d parameters + %d buffers (%zu values), model %s -> %s\n", in, ps.count - nbuf, nbuf, ps.total,
               attrs_get_str(&at, "model", "?"), out);
    }
    params_free(&ps);
    torch_free(&tf);
    return rc;
}

int import_carn_h5(const char *in, const char *out) {
    Carn *m = NULL;
    CkptAttrs at;
    int rc = carn_load(in, &m, &at) < 0 || carn_save(out, m, &at) < 0 ? -1 : 0;
    if (m) carn_free(m);
    if (rc == 0) printf("%s -> %s (weights and attributes, no optimizer state)\n", in, out);
    return rc;
}
