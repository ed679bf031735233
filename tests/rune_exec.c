/* rune_exec.c: popen the rune binary under test and collect its output and exit status. */
#include "tests/rune_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test.h"

int rune_exec(const char *args, char *out, size_t n) {
    const char *bin = getenv("RUNE_BIN");
    if (!bin || access(bin, X_OK) != 0) SKIP("RUNE_BIN not set or not executable (make test sets it)");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t len = 0;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) {
        if (out && len + 1 < n) {
            size_t take = got < n - 1 - len ? got : n - 1 - len;
            for (size_t i = 0; i < take; i++) out[len + i] = buf[i];
            len += take;
        }
    }
    if (out && n) out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
