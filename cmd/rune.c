/* rune.c: the rune binary — one table of subcommands, each in its own cmd/ file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "nn/dist.h"
#include "nn/gemm.h"

typedef struct {
    const char *name, *help;
    int (*fn)(int, char **);
} Command;

static const Command commands[] = {
#define RUNE_ENTRY(fn, name, help) {name, help, cmd_##fn},
    RUNE_COMMANDS(RUNE_ENTRY)
#undef RUNE_ENTRY
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: rune COMMAND [options] [args]\n\n"
               "rune: edge-cloud video analytics that stays accurate at the tail\n"
               "(analytics-aware super-resolution + content-aware control, after Runespoor).\n\n"
               "commands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'rune COMMAND --help' documents each command's flags. 'rune --version' prints the version.\n");
}

int main(int argc, char **argv) {
    gemm_select_kernels(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("rune %s\n", RUNE_VERSION);
        return 0;
    }
    for (int i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        /* under mpirun (a make MPI=1 build) every rank joins the job here, after
         * gemm_select_kernels may have re-executed the binary; a plain build is one rank */
        if (dist_init(&argc, &argv) < 0) return 1;
        int rc = commands[i].fn(argc - 1, argv + 1);
        dist_finalize(rc);
        return rc;
    }
    fprintf(stderr, "rune: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
