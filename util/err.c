/* err.c: error messages, fatal exits and checked allocation. */
#include "util/err.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char g_msg[1024];

/* Formats into a local buffer first: callers may pass rn_errmsg() itself as an argument to add
 * context ("step 3: %s"), and vsnprintf into the buffer it reads from is undefined behaviour. */
int rn_fail(const char *fmt, ...) {
    char msg[sizeof g_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(g_msg, msg, sizeof g_msg);
    return -1;
}

const char *rn_errmsg(void) { return g_msg[0] ? g_msg : "unknown error"; }

void rn_die_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "rune: error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " [%s:%d]\n", file, line);
    exit(1);
}

void *xmalloc_at(size_t n, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) rn_die_at(file, line, "out of memory allocating %zu bytes (hint: smaller batch or tiles)", n);
    return p;
}

void *xcalloc_at(size_t n, size_t sz, const char *file, int line) {
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) rn_die_at(file, line, "out of memory allocating %zu x %zu bytes", n, sz);
    return p;
}

void *xrealloc_at(void *p, size_t n, const char *file, int line) {
    void *q = realloc(p, n ? n : 1);
    if (!q) rn_die_at(file, line, "out of memory reallocating to %zu bytes", n);
    return q;
}

char *xstrdup_at(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *p = xmalloc_at(n, file, line);
    memcpy(p, s, n);
    return p;
}

void rn_check_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "rune: error: check failed: %s: ", cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " [%s:%d]\n", file, line);
    exit(1);
}
