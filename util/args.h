/* args.h: declarative GNU-style long-flag parsing with generated --help for every subcommand. */
#pragma once
#include <stdbool.h>

typedef enum { ARG_STR, ARG_INT, ARG_FLOAT, ARG_BOOL } ArgType;

typedef struct ArgSpec {
    const char *name;    /* long flag without dashes: "scale" for --scale */
    ArgType type;
    void *dst;           /* const char **, int *, double *, bool * — its current value is the default */
    const char *metavar; /* "N", "FILE"; NULL for ARG_BOOL */
    const char *help;
} ArgSpec;

typedef struct ArgCmd {
    const char *name;     /* "train-sr" */
    const char *usage;    /* "[options] IN.png OUT.png" */
    const char *summary;  /* one paragraph printed under the usage line */
    ArgSpec *specs;       /* terminated by {0} */
    int min_pos, max_pos; /* positional argument count bounds (max -1 = unbounded) */
} ArgCmd;

/* Parses argv[1..argc) (argv[0] is the subcommand). --flag VALUE and --flag=VALUE; --no-flag for
 * booleans; "--" ends flags. --help prints the help and exits 0; an unknown flag, a bad value or
 * a wrong positional count prints a usage error and exits 2. Positionals go to pos[0..*npos). */
void args_parse(const ArgCmd *cmd, int argc, char **argv, char ***pos, int *npos);
void args_print_help(const ArgCmd *cmd);
/* Pulls every "--FLAG X" / "--FLAG=X" out of argv into vals, for a flag that may be repeated
 * (args_parse keeps one value per flag); stops at "--". Returns how many; argc shrinks. */
int args_take_repeated(int *argc, char **argv, const char *flag, const char **vals, int cap);
_Noreturn void args_usage_error(const ArgCmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
