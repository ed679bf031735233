/* err.h: error reporting for rune — recoverable errors carry a message, fatal ones name file:line. */
#pragma once
#include <stddef.h>
#include <stdio.h>

/* Recoverable errors (bad input: a corrupt file, a wrong shape): the function records a message
 * with rn_fail() and returns -1; the caller decides whether to print it and exit. */
int rn_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *rn_errmsg(void);

/* Fatal errors (out of memory, broken invariants, unusable command line): print and exit(1). */
__attribute__((noreturn)) void rn_die_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define rn_die(...) rn_die_at(__FILE__, __LINE__, __VA_ARGS__)

/* Checked allocation: dies naming the size and the caller on failure (never returns NULL). */
void *xmalloc_at(size_t n, const char *file, int line);
void *xcalloc_at(size_t n, size_t sz, const char *file, int line);
void *xrealloc_at(void *p, size_t n, const char *file, int line);
char *xstrdup_at(const char *s, const char *file, int line);
#define xmalloc(n) xmalloc_at((n), __FILE__, __LINE__)
#define xcalloc(n, sz) xcalloc_at((n), (sz), __FILE__, __LINE__)
#define xrealloc(p, n) xrealloc_at((p), (n), __FILE__, __LINE__)
#define xstrdup(s) xstrdup_at((s), __FILE__, __LINE__)

/* Invariant check that survives NDEBUG (never use assert() for input validation). The condition
 * text is passed as an argument, never as part of the format. */
__attribute__((noreturn)) void rn_check_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define RN_CHECK(cond, ...)                                                          \
    do {                                                                             \
        if (!(cond)) rn_check_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);          \
    } while (0)

/* Propagate a recoverable error. */
#define TRY(expr)                 \
    do {                          \
        if ((expr) < 0) return -1; \
    } while (0)
