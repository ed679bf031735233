/* ratelog.c: rate-limited log lines (serve/ratelog.h). */
#include "serve/ratelog.h"

#include <stdarg.h>

#define RATELOG_LINE_MAX 1024 /* one log line; longer ones are cut */

#include "util/logline.h"
#include "util/progress.h"

static void print_line(RateLog *r, FILE *f, double now, const char *fmt, va_list ap) {
    char text[RATELOG_LINE_MAX], more[64] = "";
    vsnprintf(text, sizeof text, fmt, ap);
    /* the count tells a reader of the log how much the single line stands for */
    double from = r->last > 0 ? r->last : r->weak_since; /* weak lines can be held before any line was printed */
    if (r->held > 0) snprintf(more, sizeof more, " (%lld more in the last %.0f s)", r->held, from > 0 ? now - from : 0);
    logline(f, "%s%s\n", text, more);
    r->last = now;
    r->held = 0;
    r->weak_since = 0;
}

/* Whether a line of r's kind is due now: a full line once the interval has passed since the last one;
 * a weak one (patience >= 0) also only once `patience` seconds have passed since the first weak line
 * held back. Counts every call; a line not due is counted as held. */
static bool due(RateLog *r, bool quiet, double patience, double now) {
    double ivl = r->interval > 0 ? r->interval : 1;
    r->total++;
    bool ok = r->last == 0 || now - r->last >= ivl;
    if (patience >= 0) {
        if (r->weak_since == 0) r->weak_since = now;
        ok = ok && now - r->weak_since >= patience;
    }
    if (quiet || !ok) r->held++;
    return !quiet && ok;
}

bool ratelog(RateLog *r, FILE *f, bool quiet, const char *fmt, ...) {
    double now = now_seconds();
    if (!due(r, quiet, -1, now)) return false;
    va_list ap;
    va_start(ap, fmt);
    print_line(r, f, now, fmt, ap);
    va_end(ap);
    return true;
}

bool ratelog_weak(RateLog *r, FILE *f, bool quiet, double patience, const char *fmt, ...) {
    double now = now_seconds();
    if (!due(r, quiet, patience < 0 ? 0 : patience, now)) return false;
    va_list ap;
    va_start(ap, fmt);
    print_line(r, f, now, fmt, ap);
    va_end(ap);
    return true;
}

void ratelog_flush(RateLog *r, FILE *f, bool quiet, const char *what) {
    if (quiet || r->held == 0) return;
    logline(f, "%s: %lld more like it since the last line\n", what, r->held);
    r->held = 0;
}
