/* cmd_import.c: `rune import` — a PyTorch .pth state_dict to a rune HDF5 checkpoint (or --list its tensors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "nn/io/checkpoint.h"
#include "nn/models/carn.h"
#include "nn/models/darknet.h"
#include "nn/models/model_io.h"
#include "nn/io/torch_load.h"
#include "util/args.h"
#include "util/err.h"

/* args.h knows long flags only; the documented short "-o" is rewritten to "--out" here. */
static char **short_flags(int argc, char **argv) {
    char **v = xcalloc((size_t)argc + 1, sizeof *v);
    for (int i = 0; i < argc; i++) v[i] = strcmp(argv[i], "-o") == 0 ? "--out" : argv[i];
    return v;
}

static void list_tensors(const TorchFile *tf) {
    printf("# %s: %s torch.save format, %d tensors%s%s%s\n", tf->path,
           tf->format == TORCH_FMT_ZIP ? "zip" : "legacy", tf->count, *tf->root ? " under '" : "", tf->root,
           *tf->root ? "'" : "");
    for (int i = 0; i < tf->count; i++) {
        char sh[128];
        printf("%s\t%s\t%s\n", tf->t[i].name, torch_shape_str(&tf->t[i], sh, sizeof sh), tf->t[i].dtype);
    }
}

/* The source attribute holds at most 127 characters: keep the end of a long path, which names the file. */
static void set_source(CkptAttrs *at, const char *in) {
    size_t n = strlen(in);
    char buf[128];
    if (n < sizeof buf) snprintf(buf, sizeof buf, "%s", in);
    else snprintf(buf, sizeof buf, "...%s", in + n - (sizeof buf - 4));
    attrs_set_str(at, "source", buf);
}

static int import_to(const TorchFile *tf, const char *in, const char *out, const char *model) {
    for (int i = 0; i < tf->count; i++) {
        const TorchTensor *t = &tf->t[i];
        if (t->is_int)
            fprintf(stderr, "rune import: note: skipping %s tensor %s (not a parameter)\n", t->dtype, t->name);
        else if (!t->numel) fprintf(stderr, "rune import: note: skipping empty tensor %s\n", t->name);
    }
    ParamSet ps;
    params_init(&ps);
    CkptAttrs at = {0};
    attrs_set_str(&at, "model", model ? model : torch_guess_model(tf));
    set_source(&at, in);
    if (torch_import_to_params(tf, &ps, NULL) < 0 || ckpt_save(out, &ps, &at, NULL) < 0) {
        params_free(&ps);
        return -1;
    }
    int nbuf = 0;
    for (int i = 0; i < ps.count; i++) nbuf += ps.is_buffer[i];
    printf("%s: %d parameters + %d buffers (%zu values), model %s -> %s\n", in, ps.count - nbuf, nbuf, ps.total,
           attrs_get_str(&at, "model", "?"), out);
    params_free(&ps);
    return 0;
}

int cmd_import(int argc, char **argv) {
    const char *out = NULL, *model = NULL, *strip = NULL;
    bool list = false;
    ArgSpec specs[] = {
        {"out", ARG_STR, &out, "OUT.h5", "checkpoint to write (also -o OUT.h5)"},
        {"model", ARG_STR, &model, "KIND",
         "model attribute to record (default: guessed from the names: carn-m, carn, espnet, else unknown)"},
        {"strip-prefix", ARG_STR, &strip, "P", "remove P from every name that starts with it (DataParallel's module.)"},
        {"list", ARG_BOOL, &list, NULL, "print name, shape and dtype of every tensor instead of converting"},
        {0},
    };
    ArgCmd cmd = {"import", "[options] IN.pth (-o OUT.h5 | --list)  |  M.cfg M.weights -o OUT.h5  |  RUN.h5 -o OUT.h5",
                  "Reads a PyTorch checkpoint (torch.save, legacy or zip format; a bare state_dict or one\n"
                  "wrapped as {'state_dict': ...} / {'model': ...}) without Python and writes every floating\n"
                  "tensor under its original name to a rune HDF5 checkpoint: running_mean/running_var as\n"
                  "buffers, the rest as parameters; integer tensors (num_batches_tracked) are skipped with a\n"
                  "note. Half/double tensors become float32. Attributes: model=KIND, source=IN.\n"
                  "A darknet .cfg with its .weights becomes a self-contained checkpoint (the cfg text inside).\n"
                  "A rune CARN training checkpoint (.h5) is re-written without its optimizer state (half the size),\n"
                  "for sharing trained weights.",
                  specs, 1, 2};
    char **args = short_flags(argc, argv), **pos;
    int npos, rc = 0;
    args_parse(&cmd, argc, args, &pos, &npos);
    if (!list && !out) args_usage_error(&cmd, "needs -o OUT.h5 (or --list)");
    if (path_has_ext(pos[0], ".cfg")) {
        if (npos != 2 || list) args_usage_error(&cmd, "darknet import takes M.cfg M.weights -o OUT.h5");
        rc = darknet_import(pos[0], pos[1], out) < 0;
        if (rc) fprintf(stderr, "rune import: %s\n", rn_errmsg());
        else printf("%s + %s -> %s\n", pos[0], pos[1], out);
        free(pos), free(args);
        return rc;
    }
    if (npos != 1) args_usage_error(&cmd, "unexpected argument '%s'", pos[1]);
    if (path_has_ext(pos[0], ".h5")) {
        Carn *m = NULL;
        CkptAttrs at;
        rc = list || carn_load(pos[0], &m, &at) < 0 || carn_save(out, m, &at) < 0;
        if (rc) fprintf(stderr, "rune import: %s\n", list ? "--list reads .pth files" : rn_errmsg());
        else printf("%s -> %s (weights and attributes, no optimizer state)\n", pos[0], out);
        if (m) carn_free(m);
        free(pos), free(args);
        return rc;
    }
    TorchFile tf;
    if (torch_load(pos[0], &tf) < 0) {
        fprintf(stderr, "rune import: %s\n", rn_errmsg());
        free(pos), free(args);
        return 1;
    }
    if (strip && *strip && torch_strip_prefix(&tf, strip) == 0)
        fprintf(stderr, "rune import: note: no tensor name starts with '%s'\n", strip);
    if (list) list_tensors(&tf);
    else if (import_to(&tf, pos[0], out, model) < 0) {
        fprintf(stderr, "rune import: %s\n", rn_errmsg());
        rc = 1;
    }
    torch_free(&tf);
    free(pos), free(args);
    return rc;
}
