/* cmd_import.c: `rune import` — a PyTorch .pth state_dict to a rune HDF5 checkpoint (or --list its tensors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "nn/models/darknet.h"
#include "nn/models/import.h"
#include "nn/models/model_io.h"
#include "util/args.h"
#include "util/err.h"

/* args.h knows long flags only; the documented short "-o" is rewritten to "--out" here. */
static char **short_flags(int argc, char **argv) {
    char **v = xcalloc((size_t)argc + 1, sizeof *v);
    for (int i = 0; i < argc; i++) v[i] = strcmp(argv[i], "-o") == 0 ? "--out" : argv[i];
    return v;
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
        rc = list ? rn_fail("--list reads .pth files") < 0 : import_carn_h5(pos[0], out) < 0;
    } else {
        rc = (list ? import_list_pth(pos[0], strip, stdout) : import_pth(pos[0], out, model, strip)) < 0;
    }
    if (rc) fprintf(stderr, "rune import: %s\n", rn_errmsg());
    free(pos), free(args);
    return rc;
}
