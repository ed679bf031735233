/* ratelog.h: rate-limited log lines — at most one line per kind per interval, with a "(N more)" count of the ones held back. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

/* One kind of line (e.g. "refused frame"). The first line is printed at once; then at most one per
 * `interval` seconds, each saying how many of its kind were held back since the last one printed.
 * A remote peer can make a line per message; this keeps the log a few lines a second whatever it sends.
 * Not thread-safe: one RateLog per thread. */
typedef struct RateLog {
    double interval;      /* seconds between printed lines (0 = 1 s) */
    double last;          /* when the last line was printed (0 = never) */
    double weak_since;    /* when the first weak line held back since then came (0 = none) */
    long long held;       /* lines held back since then */
    long long total;      /* every call, printed or not */
} RateLog;

/* Prints "fmt ..." (no newline in fmt; one is added) to f unless a line of this kind was printed
 * less than interval seconds ago; then the line is only counted. quiet: count only. Returns true
 * when it printed. */
bool ratelog(RateLog *r, FILE *f, bool quiet, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A line with less to say than its kind's usual one (a client whose address could not be read):
 * held back, for the next full line's "(N more)", until `patience` seconds pass without a line
 * printed; then printed as ratelog would, so a kind made only of weak lines still shows. */
bool ratelog_weak(RateLog *r, FILE *f, bool quiet, double patience, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* At the end: a last line "what: N more like it" when lines were held back since the last printed. */
void ratelog_flush(RateLog *r, FILE *f, bool quiet, const char *what);
