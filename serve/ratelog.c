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

bool ratelog(RateLog *r, FILE *f, bool quiet, const char *fmt, ...) {
    double now = now_seconds();
    double ivl = r->interval > 0 ? r->interval : 1;
    r->total++;
    if (quiet || (r->last > 0 && now - r->last < ivl)) {
        r->held++;
        return false;
    }
    va_list ap;
    va_start(ap, fmt);
    print_line(r, f, now, fmt, ap);
    va_end(ap);
    return true;
}

bool ratelog_weak(RateLog *r, FILE *f, bool quiet, double patience, const char *fmt, ...) {
    double now = now_seconds();
    double ivl = r->interval > 0 ? r->interval : 1;
    r->total++;
    if (r->weak_since == 0) r->weak_since = now;
    bool due = (r->last == 0 || now - r->last >= ivl) && now - r->weak_since >= patience;
    if (quiet || !due) {
        r->held++;
        return false;
    }
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
