/* ratelog.c: rate-limited log lines (serve/ratelog.h). */
#include "serve/ratelog.h"

#include <stdarg.h>

#include "util/progress.h"

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
    vfprintf(f, fmt, ap);
    va_end(ap);
    /* the count tells a reader of the log how much the single line stands for */
    if (r->held > 0) fprintf(f, " (%lld more in the last %.0f s)", r->held, now - r->last);
    fputc('\n', f);
    fflush(f);
    r->last = now;
    r->held = 0;
    return true;
}

void ratelog_flush(RateLog *r, FILE *f, bool quiet, const char *what) {
    if (quiet || r->held == 0) return;
    fprintf(f, "%s: %lld more like it since the last line\n", what, r->held);
    fflush(f);
    r->held = 0;
}
