/* args.c: the long-flag parser and help printer. */
#include "util/args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static void print_default(const ArgSpec *s) {
    switch (s->type) {
    case ARG_STR: {
        const char *v = *(const char **)s->dst;
        if (v) printf(" (default: %s)", v);
        break;
    }
    case ARG_INT: printf(" (default: %d)", *(int *)s->dst); break;
    case ARG_FLOAT: printf(" (default: %g)", *(double *)s->dst); break;
    case ARG_BOOL: if (*(bool *)s->dst) printf(" (default: on; --no-%s turns it off)", s->name); break;
    }
}

void args_print_help(const ArgCmd *cmd) {
    printf("usage: rune %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->usage, cmd->summary);
    for (const ArgSpec *s = cmd->specs; s && s->name; s++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", s->name, s->metavar ? " " : "", s->metavar ? s->metavar : "");
        printf("  %-24s %s", left, s->help);
        print_default(s);
        printf("\n");
    }
    printf("  %-24s %s\n", "--help", "print this help and exit");
}

void args_usage_error(const ArgCmd *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "rune %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: rune %s %s\n(see 'rune %s --help')\n", cmd->name, cmd->usage, cmd->name);
    exit(2);
}

static const ArgSpec *find(const ArgCmd *cmd, const char *name, size_t len) {
    for (const ArgSpec *s = cmd->specs; s && s->name; s++)
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0) return s;
    return NULL;
}

static void set_value(const ArgCmd *cmd, const ArgSpec *s, const char *v) {
    char *end = NULL;
    errno = 0;
    switch (s->type) {
    case ARG_STR: *(const char **)s->dst = v; return;
    case ARG_INT: {
        long x = strtol(v, &end, 10);
        if (errno || !*v || *end || x < -2147483647L || x > 2147483647L)
            args_usage_error(cmd, "--%s wants an integer, got '%s'", s->name, v);
        *(int *)s->dst = (int)x;
        return;
    }
    case ARG_FLOAT: {
        double x = strtod(v, &end);
        if (errno || !*v || *end) args_usage_error(cmd, "--%s wants a number, got '%s'", s->name, v);
        *(double *)s->dst = x;
        return;
    }
    case ARG_BOOL: args_usage_error(cmd, "--%s takes no value", s->name);
    }
}

void args_parse(const ArgCmd *cmd, int argc, char **argv, char ***pos, int *npos) {
    char **p = xcalloc((size_t)argc + 1, sizeof *p);
    int np = 0;
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || a[1] == '\0') {
            p[np++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) { flags_done = true; continue; }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { args_print_help(cmd); exit(0); }
        if (a[1] != '-') args_usage_error(cmd, "unknown option '%s' (flags are long: --name)", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const ArgSpec *s = find(cmd, name, len);
        if (!s && len > 3 && strncmp(name, "no-", 3) == 0 && !eq) {
            s = find(cmd, name + 3, len - 3);
            if (s && s->type == ARG_BOOL) { *(bool *)s->dst = false; continue; }
            s = NULL;
        }
        if (!s) args_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
        if (s->type == ARG_BOOL) {
            if (eq) args_usage_error(cmd, "--%s takes no value", s->name);
            *(bool *)s->dst = true;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) args_usage_error(cmd, "--%s needs a value", s->name);
        set_value(cmd, s, v);
    }
    if (np < cmd->min_pos) args_usage_error(cmd, "missing arguments");
    if (cmd->max_pos >= 0 && np > cmd->max_pos) args_usage_error(cmd, "unexpected argument '%s'", p[cmd->max_pos]);
    *pos = p;
    *npos = np;
}

int args_take_repeated(int *argc, char **argv, const char *flag, const char **vals, int cap) {
    size_t len = strlen(flag);
    int n = 0, out = 1;
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], "--")) {
            while (i < *argc) argv[out++] = argv[i++];
            break;
        }
        const char *a = argv[i];
        bool named = !strncmp(a, "--", 2) && !strncmp(a + 2, flag, len);
        if (named && a[2 + len] == '=' && n < cap) vals[n++] = a + 3 + len;
        else if (named && !a[2 + len] && i + 1 < *argc && n < cap) vals[n++] = argv[++i];
        else argv[out++] = argv[i];
    }
    *argc = out;
    return n;
}
